/**
 * ssh failing, as it may: a host it cannot reach, a login node without a
 * cluster, a connection file that is not one, a forward it cannot make.
 * Each is a ClusterError naming the host and what ssh said, soon. (The
 * tunnel working is tested end to end in test/login-node.test.ts.)
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Client } from "./client.ts";
import { ClusterError } from "./errors.ts";
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

it("without ssh on PATH", async () => {
  process.env.PATH = "/nonexistent";
  try {
    expect(() => fetchConnection("me@login")).toThrow(/ssh me@login: ssh not found on PATH/);
    await expect(sshTunnel("me@login", info)).rejects.toThrow(/through me@login: ssh not found on PATH/);
  } finally {
    process.env.PATH = `${bin}:${PATH}`;
  }
});
