/**
 * A client on a laptop, its controller on a login node: the client's port is
 * forwarded through ssh (`ssh -N -L 127.0.0.1:P:LOCATION:PORT user@login`, as
 * ipyparallel's `sshserver`), and the connection file can be read from the
 * login node over the same ssh. Only the controller's client port crosses:
 * engines connect to it inside the cluster. With CurveZMQ on, the client
 * still checks the controller's key through the tunnel: encryption stays end
 * to end. ssh runs non-interactively (BatchMode): use a key or an agent.
 */
import { spawn, spawnSync } from "node:child_process";
import { parseConnection, type ConnectionInfo } from "./connection.ts";
import { ClusterError } from "./errors.ts";
import { accepts, freePort } from "./ports.ts";

const SSH_OPTIONS = ["-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-o", "ServerAliveInterval=15"];

/** The connection file of a profile on the login node (under ~/.meridian there), or the file at `path` there. */
export function fetchConnection(target: string, { profile = "default", path }: { profile?: string; path?: string } = {}): ConnectionInfo {
  const remote = path ?? `.meridian/profiles/${profile}/connection.json`;
  // (ssh hands the command to the remote shell: quoted, a name is only a name)
  const r = spawnSync("ssh", [...SSH_OPTIONS, target, "cat", `'${remote.replace(/'/g, `'\\''`)}'`], { encoding: "utf8", timeout: 60_000 });
  if (r.error) throw new ClusterError(`ssh ${target}: ${(r.error as NodeJS.ErrnoException).code === "ENOENT" ? "ssh not found on PATH" : r.error.message}`);
  if (r.status !== 0) throw new ClusterError(`cannot read ${target}:${remote} (ssh exit ${r.status}): ${r.stderr.trim() || "no message"}; is a cluster running there (meridian cluster start)?`);
  return parseConnection(r.stdout, `${target}:${remote}`);
}

export interface Tunnel {
  /** The connection, with the client's end of the tunnel as the controller's address. */
  info: ConnectionInfo;
  /** What ssh has said (a forward refused at the far end shows only here). */
  stderr(): string;
  close(): void;
}

/** Forwards a free local port to the controller's client port through `target`; resolves once it accepts connections. */
export async function sshTunnel(target: string, info: ConnectionInfo, { timeout = 30 } = {}): Promise<Tunnel> {
  const port = await freePort();
  const host = info.ip.includes(":") ? `[${info.ip}]` : info.ip; // (an IPv6 address, bracketed)
  const child = spawn("ssh", ["-N", ...SSH_OPTIONS, "-L", `127.0.0.1:${port}:${host}:${info.clientPort}`, target], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<string>((resolve) => {
    child.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ENOENT" ? "ssh not found on PATH" : e.message));
    child.once("exit", (code, signal) => resolve(`ssh exited (${signal ?? `code ${code}`}): ${stderr.trim() || "no message"}`));
  });
  const kill = () => void (child.exitCode === null && child.signalCode === null && child.kill());
  process.once("exit", kill); // (a tunnel left open by a client not closed)
  const close = () => (process.off("exit", kill), kill());
  const until = Date.now() + timeout * 1000;
  let failed: string | undefined;
  void exited.then((why) => (failed = why));
  while (!failed && !(await accepts(port))) {
    if (Date.now() > until) failed = `no tunnel after ${timeout} s`;
    else await new Promise((r) => setTimeout(r, 100));
  }
  if (failed) {
    close();
    throw new ClusterError(`cannot tunnel to the controller at ${info.ip}:${info.clientPort} through ${target}: ${failed}`);
  }
  return { info: { ...info, ip: "127.0.0.1", clientPort: port }, stderr: () => stderr.trim(), close };
}
