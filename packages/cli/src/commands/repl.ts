/**
 * `meridian repl`: Node's REPL (top-level await, tab completion) bound to a
 * cluster, local or joined. Preloaded: the client `rc`, a load-balanced view
 * `lb`, a direct view `dv`, the readers, the DRS catalog, the reductions,
 * PMF and dataflow (functional, schedule); long calls show a progress bar and stop their tasks on Ctrl-C.
 * `.px CODE` runs code on every engine; `.engines` and `.status` show the
 * cluster. History is kept in $MERIDIAN_HOME/repl_history.
 */
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import repl from "node:repl";
import { inspect } from "node:util";
import { Client, Cluster, functional, meridianHome, schedule, type ScheduleOptions } from "@meridian/cluster";
import * as io from "@meridian/io";
import * as pmf from "@meridian/pmf";
import * as reductions from "@meridian/reduce";
import { interruptible as withProgress } from "../progress.ts";

export interface ReplFlags {
  engines?: string;
  connection?: string;
  ssh?: string;
}

export async function replCommand(flags: ReplFlags): Promise<void> {
  let cluster: Cluster | undefined;
  let rc: Client;
  if (flags.connection || flags.ssh) rc = await Client.connect(flags.connection, { ssh: flags.ssh });
  else {
    const engines = Number(flags.engines ?? availableParallelism());
    process.stdout.write(`starting a local cluster of ${engines} engines… `);
    cluster = await Cluster.start({ engines });
    rc = await cluster.connect();
    await rc.waitForEngines(engines);
    console.log("ready");
  }
  const lb = rc.loadBalanced(), dv = rc.direct();
  const ids = await rc.engines();
  console.log(`meridian REPL: ${ids.length} engines (${ids.join(", ")}). Preloaded: rc, lb, dv, open, catalog, reduce, reduceArchive, pmf, functional, schedule, io.`);
  console.log("Try .px, .engines, .status, .help; await works at the top level; Ctrl-C stops a long call.");

  const server = repl.start({ prompt: "meridian> ", breakEvalOnSigint: true, useGlobal: false });

  /** `fn` with a progress bar, its tasks cancelled by Ctrl-C (the REPL's SIGINT). */
  const interruptible = <A extends unknown[], R>(label: string, fn: (signal: AbortSignal, onProgress: (done: number, total: number) => void, ...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => withProgress(label, (signal, onProgress) => fn(signal, onProgress, ...args), server);

  Object.assign(server.context, {
    rc, lb, dv, io, open: io.open, openRef: io.openRef, readRef: io.readRef, drs: io.drs,
    /** Dataflow: functional(task) calls return Refs; schedule(fn) runs their graph on this cluster. */
    functional,
    schedule: <T>(fn: () => T | Promise<T>, options: ScheduleOptions = {}) => schedule(fn, { client: rc, ...options }),
    /** A DRS tree scanned (latest versions), or a saved catalog. */
    catalog: (root: string, options: io.drs.ScanOptions = {}) => io.drs.scan(root, { versions: "latest", ...options }),
    reduce: interruptible("reduce", (signal, onProgress, ops: string, files: string[] | string[][], options: Partial<reductions.ReduceOptions> = {}) =>
      reductions.reduce(ops, files, { view: lb, signal, onProgress, ...options } as reductions.ReduceOptions)),
    reduceArchive: interruptible("reduce", (signal, onProgress, ops: string, catalog: io.drs.Catalog, options: Partial<reductions.ArchiveOptions> = {}) =>
      reductions.reduceArchive(ops, catalog, { view: lb, signal, onProgress, ...options } as reductions.ArchiveOptions)),
    pmf: {
      ...pmf,
      baseRuns: interruptible("restarts", (signal, onProgress, x: Float64Array, u: Float64Array, n: number, m: number, options: pmf.BaseOptions) =>
        pmf.baseRuns(x, u, n, m, { view: lb, signal, onProgress, ...options })),
      bootstrap: interruptible("bootstrap", (signal, onProgress, x: Float64Array, u: Float64Array, n: number, m: number, base: pmf.Solution, options: pmf.BootstrapOptions = {}) =>
        pmf.bootstrap(x, u, n, m, base, { view: lb, signal, onProgress, ...options })),
      displacement: interruptible("DISP", (signal, onProgress, x: Float64Array, u: Float64Array, n: number, m: number, base: pmf.Solution, options: pmf.DisplacementOptions = {}) =>
        pmf.displacement(x, u, n, m, base, { view: lb, signal, onProgress, ...options })),
    },
  });

  /** Runs an async command, prints its error if any, and shows the prompt again. */
  const command = (work: (text: string) => Promise<void>) => function (this: repl.REPLServer, text: string) {
    this.clearBufferedCommand();
    work(text.trim()).catch((e: Error) => console.log(`${e.name}: ${e.message}`)).finally(() => this.displayPrompt());
  };
  server.defineCommand("px", {
    help: "Run code on every engine: .px CODE (each engine's output and value)",
    action: command(async (code) => {
      if (!code) throw new Error("give the code to run: .px CODE");
      for (const r of await dv.execute(code)) {
        console.log(`[engine ${r.engine}]${r.output ? `\n${r.output}` : ""}`);
        if (r.value !== undefined) console.log(inspect(r.value, { colors: server.useColors, depth: 4 }));
      }
    }),
  });
  server.defineCommand("engines", {
    help: "The engines: id, host, pid, tasks running and done",
    action: command(async () => {
      const s = await rc.status();
      for (const e of s.engines) console.log(`engine ${e.id}  ${e.host}  pid ${e.pid}  running ${e.load}  done ${e.done}  failed ${e.failed}`);
      if (!s.engines.length) console.log("no engines");
    }),
  });
  server.defineCommand("status", {
    help: "The cluster: controller, engines, queue, tasks done and failed",
    action: command(async () => {
      const s = await rc.status();
      console.log(`controller pid ${s.controller.pid} on ${s.controller.host}, up ${s.controller.uptime.toFixed(0)} s`);
      console.log(`${s.engines.length} engines, ${s.queue} queued, ${s.running} running, ${s.done} done, ${s.failed} failed, ${s.rate.toFixed(1)} tasks/s; ${s.engineDeaths} engine deaths`);
    }),
  });

  mkdirSync(meridianHome(), { recursive: true });
  await new Promise<void>((resolve) => server.setupHistory(join(meridianHome(), "repl_history"), () => resolve()));
  await new Promise<void>((resolve) => server.on("exit", resolve));
  rc.close();
  if (cluster) await cluster.stop();
}
