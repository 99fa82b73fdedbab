/**
 * A local cluster from code: `Cluster.start({engines})` runs the controller and
 * its engines in a child process (cluster-main.ts) and resolves when every
 * engine is registered; `cluster.stop()` ends them all. If this process ends
 * first, even killed, the cluster process and its engines end too.
 */
import type { ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { Client } from "./client.ts";
import type { ConnectionInfo } from "./connection.ts";
import { ClusterError } from "./errors.ts";
import { startProcess } from "./processes.ts";

export interface ClusterOptions {
  /** Engines to start (default: the number of cores). */
  engines?: number;
  /** Address or interface to listen on (default 127.0.0.1), and the one handed out (see address.ts). */
  ip?: string;
  location?: string;
  /** CurveZMQ on loopback too (it is always on elsewhere). */
  curve?: boolean;
  /** Where to write the connection file (default: a temporary file, removed at stop). */
  connectionFile?: string;
  /** Seconds to wait for the engines (default 60). */
  timeout?: number;
}

export class Cluster {
  private constructor(readonly info: ConnectionInfo, readonly connectionFile: string, private readonly child: ChildProcess) {}

  /** The cluster process's pid. */
  get pid() { return this.child.pid!; }

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const args = ["--engines", String(options.engines ?? availableParallelism())];
    if (options.ip) args.push("--ip", options.ip);
    if (options.location) args.push("--location", options.location);
    if (options.curve !== undefined) args.push(options.curve ? "--curve" : "--no-curve");
    if (options.connectionFile) args.push("--connection", options.connectionFile);
    const child = startProcess("./cluster-main.ts", args, { quiet: true }); // its log would mix with this process's output
    const timeout = options.timeout ?? 60;
    const ready = await new Promise<{ info: ConnectionInfo; file: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ClusterError(`the cluster did not start within ${timeout} s`)), timeout * 1000 + 5000);
      child.on("message", (m: any) => {
        clearTimeout(timer);
        if (m?.ready) resolve(m);
        else reject(new ClusterError(`the cluster did not start: ${m?.error ?? "unknown"}`));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new ClusterError(`the cluster process exited (code ${code}) before it was ready`));
      });
    }).catch((e) => {
      child.kill("SIGKILL");
      throw e;
    });
    // From now on the cluster does not keep this process alive; if this process ends, so does it.
    child.unref();
    (child.channel as any)?.unref?.();
    return new Cluster(ready.info, ready.file, child);
  }

  /** A client connected to this cluster. */
  connect(): Promise<Client> {
    return Client.connect(this.info);
  }

  /** Stops the controller and every engine; resolves when the cluster process has exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
