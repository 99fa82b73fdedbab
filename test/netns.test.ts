/**
 * Two hosts simulated with a Linux network namespace and a veth pair made by
 * the test: the controller on 10.231.N.1 (CurveZMQ, as off loopback), an engine in the other
 * namespace at 10.231.N.2. Engines there register and compute; a client
 * without the keys gets nothing; with the link cut mid-run, the far engine is
 * declared dead and its tasks go to an engine here, nothing lost; when the
 * link returns, the far engine registers again. Where the kernel or the
 * user may not make namespaces, the tests are skipped and say why.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, ClusterError } from "@meridian/cluster";
import { BIN } from "../packages/cli/src/run.test-util.ts";
import { link, type Link } from "./netns-util.ts";

const made = link(undefined, `meridian-${process.pid}`);
const skipped = typeof made === "string" ? made : undefined;
if (skipped) console.warn(`netns tests skipped: ${skipped}`);
const net = made as Link;
const [hostIp] = net.ip ?? [];

describe.skipIf(skipped !== undefined)("across network namespaces (a second host)", () => {
  const home = mkdtempSync(join(tmpdir(), "meridian-netns-"));
  const env = { ...process.env, MERIDIAN_HOME: home };
  const connection = join(home, "profiles/default/connection.json");
  const children: ChildProcess[] = [];
  let client: Client;
  const engineIn = (where: "far" | "here") => {
    const args = [process.execPath, BIN, "engine", "--connection", connection];
    const [cmd, ...rest] = [...net.exec(where === "far" ? net.namespaces[0] : undefined), ...args];
    const child = spawn(cmd, rest, { env, stdio: "ignore" });
    children.push(child);
    return child;
  };
  const hosts = async () => (await client.status()).engines.map((e) => e.id).sort();

  beforeAll(async () => {
    const started = spawnSync(process.execPath, [BIN, "cluster", "start", "--engines", "0", "--ip", net.iface[0]], { env, encoding: "utf8", timeout: 60_000 });
    expect(started.status, started.stderr).toBe(0);
    engineIn("far");
    client = await Client.connect(connection);
    await client.waitForEngines(1, 30);
  });
  afterAll(async () => {
    client?.close();
    for (const c of children) c.kill("SIGKILL");
    spawnSync(process.execPath, [BIN, "cluster", "stop"], { env, timeout: 30_000 });
    net.remove();
    rmSync(home, { recursive: true, force: true });
  });

  it("an engine in the other namespace registers over the encrypted link and computes", async () => {
    const info = JSON.parse(readFileSync(connection, "utf8"));
    expect(info.ip).toBe(hostIp); // (the interface named by --ip)
    expect(info.curve).toMatch(/^.{40}$/);
    expect(await client.loadBalanced().map((x: number) => x + 1, [1, 2, 3])).toEqual([2, 3, 4]);
  });

  it("a client without the keys gets nothing", async () => {
    const { curve: _, ...plain } = JSON.parse(readFileSync(connection, "utf8"));
    const file = join(home, "no-keys.json");
    writeFileSync(file, JSON.stringify(plain), { mode: 0o600 });
    await expect(Client.connect(file, { timeout: 3 })).rejects.toThrow(ClusterError);
    // the transport's key but not the cluster's: its messages are dropped as forged
    const forged = (await client.status()).dropped.forged;
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(connection, "utf8")), key: "ab".repeat(32) }), { mode: 0o600 });
    await expect(Client.connect(file, { timeout: 2 })).rejects.toThrow(ClusterError);
    expect((await client.status()).dropped.forged).toBeGreaterThan(forged);
  });

  it("with the link cut mid-run, the far engine is declared dead and its tasks done here, nothing lost; when the link returns, it registers again", async () => {
    const [farEngine] = await hosts();
    const lb = client.loadBalanced();
    const work = lb.map(async (x: number) => {
      await new Promise((r) => setTimeout(r, 300));
      return x * 10;
    }, [1, 2, 3, 4, 5, 6]);
    // the far engine is running them when the link goes
    for (let t = 0; t < 100 && !(await client.status()).running; t++) await new Promise((r) => setTimeout(r, 20));
    expect((await client.status()).engines.find((e) => e.id === farEngine)?.load).toBeGreaterThan(0);
    expect(net.set(1, "down")).toBe(true);
    for (let t = 0; t < 100 && (await hosts()).includes(farEngine); t++) await new Promise((r) => setTimeout(r, 100));
    expect(await hosts()).not.toContain(farEngine); // declared dead (heartbeats: 3 s off loopback)
    engineIn("here");
    expect(await work).toEqual([10, 20, 30, 40, 50, 60]); // nothing lost
    expect(net.set(1, "up")).toBe(true);
    for (let t = 0; t < 300 && (await hosts()).length < 2; t++) await new Promise((r) => setTimeout(r, 100));
    expect((await hosts()).length).toBe(2); // the far engine is back
    expect(await lb.map((x: number) => x * 2, [1, 2, 3, 4, 5, 6, 7, 8])).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
  }, 90_000);
});
