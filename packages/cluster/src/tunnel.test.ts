/**
 * ssh failing, as it may: a host it cannot reach, a login node without a
 * cluster, a connection file that is not one, a forward it cannot make.
 * Each is a ClusterError naming the host and what ssh said, soon. And the
 * tunnel working, through test/fixtures/fake-ssh.mjs on this host (across
 * network namespaces, in test/login-node.test.ts).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Client } from "./client.ts";
import { Cluster } from "./cluster.ts";
import { writeConnection } from "./connection.ts";
import { ClusterError } from "./errors.ts";
import { accepts } from "./ports.ts";
import { fetchConnection, sshTunnel } from "./tunnel.ts";

const bin = mkdtempSync(join(tmpdir(), "meridian-tunnel-"));
const PATH = process.env.PATH;
const info = { version: 1 as const, ip: "10.0.0.1", clientPort: 4000, enginePort: 4001, key: "00".repeat(32), pid: 1, created: "" };

beforeAll(() => {
  // a fake ssh: the host decides what happens
  writeFileSync(join(bin, "ssh"), `#!/bin/bash
for a in "$@"; do case "$a" in
  *@nowhere) echo "ssh: Could not resolve hostname nowhere: Name or service not known" >&2; exit 255;;
  *@empty) echo "cat: .meridian/profiles/default/connection.json: No such file or directory" >&2; exit 1;;
  *@garbled) echo "Welcome to the login node!"; exit 0;;
  *@noforward) echo "Warning: remote port forwarding failed" >&2; exit 255;;
esac; done
exit 3
`);
  chmodSync(join(bin, "ssh"), 0o755);
  process.env.PATH = `${bin}:${PATH}`;
});
afterAll(() => {
  process.env.PATH = PATH;
  rmSync(bin, { recursive: true, force: true });
});

it("an unreachable host, a login node without a cluster, a file that is not one: errors that say so", () => {
  expect(() => fetchConnection("me@nowhere")).toThrow(/cannot read me@nowhere:\.meridian\/profiles\/default\/connection\.json \(ssh exit 255\): ssh: Could not resolve hostname nowhere/);
  expect(() => fetchConnection("me@empty", { profile: "default" })).toThrow(/No such file or directory; is a cluster running there \(meridian cluster start\)\?/);
  expect(() => fetchConnection("me@garbled", { profile: "big" })).toThrow(/the connection file me@garbled:\.meridian\/profiles\/big\/connection\.json is not JSON/);
});

it("a forward ssh cannot make fails at once with ssh's words; so does Client.connect", async () => {
  const started = Date.now();
  await expect(sshTunnel("me@noforward", info)).rejects.toThrow(/cannot tunnel to the controller at 10\.0\.0\.1:4000 through me@noforward: ssh exited \(code 255\): Warning: remote port forwarding failed/);
  await expect(Client.connect(info, { ssh: "me@noforward" })).rejects.toThrow(ClusterError);
  expect(Date.now() - started).toBeLessThan(5000);
});

it("through a working ssh: the connection file read there, the client port forwarded, closed with the client", async () => {
  const far = mkdtempSync(join(tmpdir(), "meridian-tunnel-far-")), log = join(far, "ssh.log");
  mkdirSync(join(far, "bin"));
  writeFileSync(join(far, "bin/ssh"), `#!/bin/bash\nexec ${process.execPath} ${fileURLToPath(new URL("../../../test/fixtures/fake-ssh.mjs", import.meta.url))} "$@"\n`, { mode: 0o755 });
  const cluster = await Cluster.start({ engines: 1 });
  const saved = { ...process.env };
  try {
    writeConnection(join(far, "home/.meridian/profiles/night/connection.json"), cluster.info);
    Object.assign(process.env, { PATH: `${join(far, "bin")}:${PATH}`, FAKE_SSH_LOG: log, FAKE_SSH_HOME: join(far, "home"), FAKE_SSH_NETNS: "" });
    const client = await Client.connect(undefined, { ssh: "me@far", profile: "night" });
    try {
      expect(await client.loadBalanced().map((x: number) => x + 100, [1, 2])).toEqual([101, 102]);
    } finally {
      client.close();
    }
    const calls = readFileSync(log, "utf8");
    expect(calls).toMatch(/^ssh -o BatchMode=yes -o ExitOnForwardFailure=yes -o ServerAliveInterval=15 me@far cat '\.meridian\/profiles\/night\/connection\.json'$/m);
    const port = Number(new RegExp(`^ssh -N .* -L 127\\.0\\.0\\.1:(\\d+):127\\.0\\.0\\.1:${cluster.info.clientPort} me@far$`, "m").exec(calls)?.[1]);
    expect(port).toBeGreaterThan(0);
    for (let t = 0; t < 50 && (await accepts(port)); t++) await new Promise((r) => setTimeout(r, 100));
    expect(await accepts(port)).toBe(false); // the tunnel is gone
  } finally {
    process.env = saved;
    await cluster.stop();
    rmSync(far, { recursive: true, force: true });
  }
}, 60_000);

it("without ssh on PATH", async () => {
  process.env.PATH = "/nonexistent";
  try {
    expect(() => fetchConnection("me@login")).toThrow(/ssh me@login: ssh not found on PATH/);
    await expect(sshTunnel("me@login", info)).rejects.toThrow(/through me@login: ssh not found on PATH/);
  } finally {
    process.env.PATH = `${bin}:${PATH}`;
  }
});
