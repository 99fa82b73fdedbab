/**
 * Hundreds of engines registering at once: started before their controller
 * (as a batch job may start before a restarted controller listens), each
 * repeats its registration until welcomed; the controller welcomes a repeat
 * as the same engine. Real sockets on 127.0.0.1; the engines in a child process.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { Client } from "./client.ts";
import { writeConnection, type ConnectionInfo } from "./connection.ts";
import { Controller } from "./controller.ts";
import { square } from "./fixtures/tasks.ts";
import { freePort } from "./ports.ts";
import { newKey } from "./protocol.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-registration-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = 500; // the most the seeds' users ran

it(`${N} engines started before their controller all register once, and all take work`, async () => {
  const key = newKey();
  const info: ConnectionInfo = { version: 1, ip: "127.0.0.1", clientPort: await freePort(), enginePort: await freePort(), key: key.toString("hex"), pid: 0, created: "" };
  const file = join(dir, "connection.json");
  writeConnection(file, info);
  const child = spawn(process.execPath, ["--import", "tsx", new URL("./fixtures/many-engines.ts", import.meta.url).pathname, file, String(N)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let controller: Controller | undefined, client: Client | undefined;
  try {
    for (let t = 0; t < 1200 && !out.startsWith("started"); t++) await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(/^started/);
    await new Promise((r) => setTimeout(r, 2000)); // every engine has tried again at least once (after 0.5 to 1.5 s)
    // (heartbeats as over a network: 500 connections on 2 busy cores must not pass for dead)
    controller = await Controller.start({ key, clientPort: info.clientPort, enginePort: info.enginePort, heartbeatTimeout: 3 });
    client = await Client.connect(controller.info);
    await client.waitForEngines(N, 60);
    for (let t = 0; t < 200 && !out.includes("ready"); t++) await new Promise((r) => setTimeout(r, 50));
    const status = await client.status();
    // each engine once: ids 0..N-1, no engine taken for dead by its own repeat
    expect(status.engines.map((e) => e.id).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(status.engineDeaths).toBe(0);
    expect(out.trim().split("\n").pop()!.replace(/^ready /, "").split(",").map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    const xs = Array.from({ length: 3000 }, (_, i) => i);
    expect(await client.loadBalanced().map(square, xs)).toEqual(xs.map((x) => x * x));
    const busy = (await client.status()).engines.filter((e) => e.done > 0).length;
    expect(busy).toBeGreaterThan(N / 2);
  } finally {
    client?.close();
    await controller?.stop();
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    expect(await exited).toBe(0); // told to stop, every engine did
    clearTimeout(timer);
  }
}, 120_000);
