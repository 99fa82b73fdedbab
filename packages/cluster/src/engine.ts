/**
 * An engine: connects to the controller, registers, and runs the tasks it is
 * sent, one at a time, in order. It pulls work: it grants the controller
 * credits for as many tasks as it wants to hold (the one running and those
 * queued behind it), few when tasks are long (better balance), more when they
 * are short (no idle round trip between them). It keeps a namespace for the
 * direct view (push, pull, execute, functions sent as source).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createContext, runInContext, type Context } from "node:vm";
import { Dealer } from "zeromq";
import { connectOptions, endpoint, type ConnectionInfo } from "./connection.ts";
import { ClusterError } from "./errors.ts";
import { Outbox, unbatch } from "./outbox.ts";
import { packValue, Signer, unpackValue, type Frames } from "./protocol.ts";
import { isTask, withTaskContext } from "./task.ts";

/** What an engine is asked to do. */
export type Op = "call" | "map" | "execute" | "push" | "pull";

/** A function to call: a task by module and export, or source code (REPL functions). */
export type FnSpec = { m: string; n: string } | { src: string };

interface Job { key: number; op: Op; fn?: FnSpec; body: Frames }

/** Keep about this much work queued at an engine, in seconds of task time. */
const QUEUED_SECONDS = 0.002;
const MAX_WINDOW = 64;

export class Engine {
  id = -1;
  private socket: Dealer;
  private signer: Signer;
  private out: Outbox;
  private jobs: Job[] = [];
  private running?: Job;
  /** Aborts the running task; replaced after each abort (one per task would cost more than the task, for small ones). */
  private abort = new AbortController();
  private granted = 0;
  private meanSeconds = 0.001;
  private modules = new Map<string, Promise<Record<string, unknown>>>();
  private namespace: Context;
  private output: string[] = [];
  private stopped = false;
  private registered!: () => void;
  /** This registration's nonce: the controller welcomes a repeated one once, and the engine heeds only its welcome. */
  private nonce = "";
  private welcomed?: unknown;
  private retry?: NodeJS.Timeout;
  private ended!: () => void;
  readonly ready: Promise<void>;
  /** Resolves when the engine has stopped (told to by the controller, or stop()). */
  readonly finished: Promise<void>;

  private constructor(info: ConnectionInfo) {
    // The controller's own heartbeat timeout, doubled: the engine gives up on the link after the controller gives up on it.
    const heartbeat = Math.max(1000, 2000 * (info.heartbeat ?? 0.5));
    this.socket = new Dealer({ linger: 0, reconnectInterval: 100, heartbeatInterval: heartbeat / 5, heartbeatTimeout: heartbeat, ...connectOptions(info) });
    this.signer = new Signer(Buffer.from(info.key, "hex"));
    this.out = new Outbox(this.socket);
    this.ready = new Promise((resolve) => (this.registered = resolve));
    // Taken for dead while alive (a stall, a link lost for a while), the engine is cut off by the
    // controller; ZeroMQ connects again, and the engine starts afresh, as when told to reset.
    let cut = false;
    this.socket.events.on("disconnect", () => (cut = true));
    this.socket.events.on("handshake", () => {
      if (cut && !this.stopped) (cut = false), this.reset();
    });
    this.finished = new Promise((resolve) => (this.ended = resolve));
    const say = (...xs: unknown[]) => void this.output.push(xs.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(" "));
    this.namespace = createContext({
      console: { log: say, info: say, warn: say, error: say },
      setTimeout, clearTimeout, setInterval, clearInterval, Buffer, TextEncoder, TextDecoder, structuredClone, performance, URL,
      importModule: (spec: string) => import(spec),
    });
  }

  /** Connects and registers; resolves once the controller has welcomed it, fails after `timeout` seconds without. */
  static async start(info: ConnectionInfo, { timeout = 60 } = {}): Promise<Engine> {
    const engine = new Engine(info);
    engine.socket.connect(endpoint(info, "engine"));
    engine.register();
    void engine.listen();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClusterError(`no controller welcomed this engine at ${endpoint(info, "engine")} within ${timeout} s`)), timeout * 1000);
    });
    try {
      await Promise.race([engine.ready, late]);
    } catch (e) {
      await engine.stop();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return engine;
  }

  /**
   * Registers, and again until welcomed: after 1 s, then twice as long each
   * time (at most 15 s), each wait jittered ±50%, so that hundreds of engines
   * started by one batch job do not retry in step.
   */
  private register() {
    this.granted = 0;
    this.nonce = randomUUID();
    clearTimeout(this.retry);
    const attempt = (n: number) => {
      this.send({ t: "register", pid: process.pid, host: hostname(), u: this.nonce });
      this.retry = setTimeout(() => !this.stopped && attempt(n + 1), Math.min(15_000, 1000 * 2 ** n) * (0.5 + Math.random()));
      this.retry.unref();
    };
    attempt(0);
  }

  private send(fields: { t: string; [k: string]: unknown }, body?: Frames) {
    this.out.send(this.signer.seal(fields, body));
  }

  /** How many tasks to hold: one when they are long, more when they are short. */
  private window() {
    return this.meanSeconds > 0.02 ? 1 : Math.min(MAX_WINDOW, Math.max(2, Math.ceil(QUEUED_SECONDS / this.meanSeconds)));
  }

  /** Credits to grant now, so that held tasks plus credits make the window. */
  private room() {
    const held = this.jobs.length + (this.running ? 1 : 0);
    const n = Math.max(0, this.window() - held - this.granted);
    this.granted += n;
    return n;
  }

  private async listen() {
    for await (const received of this.socket) {
      for (const frames of unbatch(received as Frames)) if (await this.receive(frames)) return;
    }
  }

  /** Handles one message; true when told to stop. */
  private async receive(frames: Frames): Promise<boolean> {
    {
      const msg = this.signer.open(frames);
      if (!msg) return false;
      const h = msg.header;
      if (h.t === "welcome") {
        if (h.u !== this.nonce || this.welcomed === h.u) return false; // an older registration's, or a repeat
        this.welcomed = h.u;
        clearTimeout(this.retry);
        this.id = h.engine as number;
        this.registered();
        const n = this.room();
        if (n) this.send({ t: "credit", n });
      } else if (h.t === "task") {
        if (!h.d) this.granted = Math.max(0, this.granted - 1); // direct tasks come without a credit
        this.jobs.push({ key: h.k as number, op: h.op as Op, fn: h.f as FnSpec | undefined, body: msg.body });
        if (!this.running) void this.work();
      } else if (h.t === "abort") {
        const key = h.k as number;
        if (this.running?.key === key) this.abortRunning("cancelled");
        this.jobs = this.jobs.filter((j) => j.key !== key);
      } else if (h.t === "reset") {
        this.reset();
      } else if (h.t === "stop") {
        await this.stop();
        return true;
      }
    }
    return false;
  }

  /** The controller took this engine for dead (a hang, a lost link): its tasks went elsewhere; it registers again. */
  private reset() {
    this.jobs = [];
    if (this.running) this.abortRunning("engine reset");
    this.register();
  }

  private abortRunning(why: string) {
    this.abort.abort(new Error(why));
    this.abort = new AbortController();
  }

  private async work() {
    let yielded = performance.now();
    // Results of tasks run back to back leave together, when the queue runs dry or every few milliseconds;
    // they are sealed as they leave, so that their sequence numbers follow anything sent meanwhile.
    const results: { fields: { t: string; [k: string]: unknown }; body: Frames }[] = [];
    const flush = () => this.out.sendMany(results.splice(0).map((r) => this.signer.seal(r.fields, r.body)));
    while (this.jobs.length && !this.stopped) {
      const job = (this.running = this.jobs.shift()!);
      const started = performance.now();
      let fields: { t: string; [k: string]: unknown };
      let body: Frames;
      try {
        const value = await this.run(job);
        fields = { t: "done", k: job.key, ok: true };
        body = packValue(value);
      } catch (e) {
        const err = e as Error;
        fields = { t: "done", k: job.key, ok: false };
        body = packValue({ type: err?.name ?? "Error", message: err?.message ?? String(e), stack: err?.stack });
      }
      const seconds = (performance.now() - started) / 1000;
      this.meanSeconds = 0.8 * this.meanSeconds + 0.2 * seconds;
      this.running = undefined;
      fields.c = this.room();
      results.push({ fields, body });
      // Let incoming messages (aborts, more tasks) in every few milliseconds.
      if (!this.jobs.length || performance.now() - yielded > 2) {
        flush();
        if (this.jobs.length) await new Promise(setImmediate);
        yielded = performance.now();
      }
    }
    flush();
  }

  private async run(job: Job): Promise<unknown> {
    const args = unpackValue(job.body);
    if (job.op === "call") {
      const fn = await this.resolve(job.fn!);
      return await withTaskContext({ signal: this.abort.signal, engine: this.id }, () => fn(...(args as unknown[])));
    }
    if (job.op === "map") {
      // A chunk of a map: the function over each item, in order.
      const fn = await this.resolve(job.fn!);
      const out: unknown[] = [];
      await withTaskContext({ signal: this.abort.signal, engine: this.id }, async () => {
        for (const item of args as unknown[]) out.push(await fn(item));
      });
      return out;
    }
    if (job.op === "execute") {
      this.output = [];
      const value = await runInContext(String(args), this.namespace, { filename: `engine-${this.id}` });
      return { value: printable(value), output: this.output.join("\n") };
    }
    if (job.op === "push") {
      Object.assign(this.namespace, args as Record<string, unknown>);
      return null;
    }
    const names = args as string[];
    return names.map((n) => {
      if (!(n in this.namespace)) throw new ReferenceError(`${n} is not defined on engine ${this.id}`);
      return this.namespace[n];
    });
  }

  /** The function a spec names: a task's export (its module imported once), or source compiled in the namespace. */
  private async resolve(spec: FnSpec): Promise<(...args: unknown[]) => unknown> {
    if ("src" in spec) {
      const fn = runInContext(`(${spec.src})`, this.namespace);
      if (typeof fn !== "function") throw new TypeError("the source sent is not a function");
      return async (...args) => {
        try {
          return await fn(...args);
        } catch (e) {
          // (errors from the namespace's realm are not instances of this realm's Error)
          if ((e as Error)?.name === "ReferenceError" && typeof (e as Error).message === "string") {
            const name = /^(\S+) is not defined/.exec((e as Error).message)?.[1] ?? "a name";
            (e as Error).message += `. The function was sent as source: it sees only its arguments, the engine's namespace and globals. Pass ${name} as an argument, push it first (dv.push({ ${name} })), or define the function with task() in a module`;
          }
          throw e;
        }
      };
    }
    let mod = this.modules.get(spec.m);
    if (!mod) this.modules.set(spec.m, (mod = import(spec.m)));
    const exported = (await mod)[spec.n];
    if (!isTask(exported) || exported.task.name !== spec.n) throw new TypeError(`${spec.m} has no exported task ${spec.n} (export const ${spec.n} = task(import.meta.url, async function ${spec.n}() {...}))`);
    return exported as (...args: unknown[]) => unknown;
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retry);
    if (this.running) this.abortRunning("engine stopping");
    this.socket.close();
    this.ended();
  }
}

/** What execute() returns: values that travel (functions and symbols as text). */
function printable(v: unknown): unknown {
  if (typeof v === "function" || typeof v === "symbol") return String(v);
  return v;
}
