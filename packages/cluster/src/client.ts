/**
 * The client: connects to a controller and submits work through views. A
 * load-balanced view sends each task to whichever engine is free; a direct view
 * addresses engines by id. Functions travel as `{module, name}` when made with
 * task(), else as source (for the REPL). At most `maxOutstanding` tasks are at
 * the controller at once; the rest wait here, so the controller's memory stays
 * bounded whatever a client submits.
 */
import { join } from "node:path";
import { Dealer } from "zeromq";
import { connectOptions, endpoint, profileDir, readConnection, type ConnectionInfo } from "./connection.ts";
import type { ClusterStatus } from "./controller.ts";
import type { FnSpec, Op } from "./engine.ts";
import { CancelledError, ClusterError, EngineDiedError, RemoteError, TaskTimeoutError } from "./errors.ts";
import { Outbox, unbatch } from "./outbox.ts";
import { packValue, Signer, unpackValue, type Frames } from "./protocol.ts";
import { isTask } from "./task.ts";
import { fetchConnection, sshTunnel, type Tunnel } from "./tunnel.ts";

export interface TaskOptions {
  /** Seconds a task may run on an engine before it fails with TaskTimeoutError. */
  timeout?: number;
  /** Times a task that throws is run again (on any engine) before its error is returned. */
  retries?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  future: Future<unknown>;
}

/** A task's result to come: await it, or cancel it. */
export class Future<T> implements PromiseLike<T> {
  /** The engine that ran it, once done. */
  engine?: number;
  done = false;
  private promise: Promise<T>;
  /** @internal */ settle!: { resolve: (v: T) => void; reject: (e: Error) => void };

  constructor(readonly id: number, private readonly client: Client) {
    this.promise = new Promise<T>((resolve, reject) => (this.settle = { resolve, reject }));
    this.promise.catch(() => undefined); // an unawaited failure is not an unhandled rejection
  }

  then<A = T, B = never>(ok?: ((v: T) => A | PromiseLike<A>) | null, bad?: ((e: any) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.promise.then(ok, bad);
  }
  catch<B = never>(bad?: ((e: any) => B | PromiseLike<B>) | null): Promise<T | B> { return this.promise.catch(bad); }
  finally(f?: (() => void) | null): Promise<T> { return this.promise.finally(f); }

  /** Stops the task: dropped from the queue, or aborted on its engine; the future fails with CancelledError. */
  cancel() {
    if (!this.done) this.client.cancel([this.id]);
  }
}

/** The wire form of a function. */
export function fnSpec(fn: unknown): FnSpec {
  if (isTask(fn)) return { m: fn.task.module, n: fn.task.name };
  if (typeof fn !== "function") throw new TypeError(`expected a task or a function, got ${typeof fn}`);
  const src = fn.toString();
  if (/\{\s*\[native code\]\s*\}$/.test(src)) throw new TypeError(`${fn.name || "this function"} is native code and cannot be sent to engines; wrap it in a function, or use task()`);
  // A method shorthand `f(x) { ... }` is not an expression: make it one.
  return { src: /^(async\s+)?(function\b|\(|[\w$]+\s*=>|class\b)/.test(src) ? src : `function ${src.replace(/^async\s+/, "")}` };
}

export class Client {
  private socket: Dealer;
  private signer: Signer;
  private out: Outbox;
  private pending = new Map<number, Pending>();
  /** Submissions waiting for room at the controller, sealed only when sent (sequence numbers must go out in order). */
  private backlog: { fields: { t: string; [k: string]: unknown }; body: Frames }[] = [];
  private requests = new Map<number, (h: any, body: Frames) => void>();
  private nextId = 1;
  private closed = false;
  private tunnel?: Tunnel;
  /** Tasks at the controller at once, at most. */
  maxOutstanding = 10_000;

  private constructor(readonly info: ConnectionInfo) {
    this.socket = new Dealer({ linger: 0, receiveHighWaterMark: 100_000, sendHighWaterMark: 100_000, ...connectOptions(info) });
    this.signer = new Signer(Buffer.from(info.key, "hex"));
    this.out = new Outbox(this.socket);
  }

  /**
   * Connects to the controller of a connection file (or its contents; by
   * default the profile's). With `ssh: "user@login"`, through an ssh tunnel
   * to that host, the connection file read from there unless given (see
   * tunnel.ts). Fails after `timeout` seconds without an answer.
   */
  static async connect(connection?: string | ConnectionInfo, { timeout = 10, ssh, profile }: { timeout?: number; ssh?: string; profile?: string } = {}): Promise<Client> {
    const info = typeof connection === "object" ? connection
      : connection !== undefined ? readConnection(connection)
      : ssh ? fetchConnection(ssh, { profile })
      : readConnection(join(profileDir(profile), "connection.json"));
    const tunnel = ssh ? await sshTunnel(ssh, info) : undefined;
    const client = new Client(tunnel?.info ?? info);
    client.tunnel = tunnel;
    client.socket.connect(endpoint(client.info, "client"));
    void client.listen();
    try {
      await client.request({ t: "hello" }, timeout);
    } catch (e) {
      const said = tunnel?.stderr();
      client.close();
      throw new ClusterError(`no controller answered at ${endpoint(info, "client")}${ssh ? ` (through ssh ${ssh}${said ? `, which said: ${said}` : ""})` : ""} within ${timeout} s (${(e as Error).message})`);
    }
    return client;
  }

  private async listen() {
    try {
      for await (const received of this.socket) {
        for (const frames of unbatch(received as Frames)) {
          const msg = this.signer.open(frames);
          if (!msg) continue;
          const h = msg.header as any;
          if (h.t === "result") this.result(h, msg.body);
          else {
            const waiter = this.requests.get(h.r ?? 0);
            this.requests.delete(h.r ?? 0);
            waiter?.(h, msg.body);
          }
        }
      }
    } catch (e) {
      if (!this.closed) throw e;
    }
  }

  /** A request with a reply (hello, status): `r` pairs them. */
  private request(fields: { t: string; [k: string]: unknown }, timeout = 10): Promise<{ header: any; body: Frames }> {
    const r = fields.t === "hello" ? 0 : this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(r);
        reject(new ClusterError(`no answer to ${fields.t} after ${timeout} s`));
      }, timeout * 1000);
      this.requests.set(r, (header, body) => {
        clearTimeout(timer);
        resolve({ header, body });
      });
      this.out.send(this.signer.seal({ ...fields, r }));
    });
  }

  private result(h: { i: number; ok: boolean; e: number; x?: number }, body: Frames) {
    const p = this.pending.get(h.i);
    if (!p) return;
    this.pending.delete(h.i);
    p.future.done = true;
    p.future.engine = h.e;
    let value: unknown;
    try {
      value = unpackValue(body);
    } catch (e) {
      p.reject(e as Error);
      return this.drain();
    }
    if (h.ok) p.resolve(value);
    else {
      const err = value as { type: string; message: string; stack?: string };
      const verdict = h.x ? { CancelledError, TaskTimeoutError, EngineDiedError }[err.type as "CancelledError"] ?? ClusterError : undefined;
      p.reject(verdict ? new verdict(err.message) : new RemoteError(err.type, err.message, err.stack, h.e, String(h.i)));
    }
    this.drain();
  }

  /** Sends what waits in the backlog while the controller holds fewer than maxOutstanding. */
  private drain() {
    while (this.backlog.length && this.pending.size - this.backlog.length < this.maxOutstanding) {
      const { fields, body } = this.backlog.shift()!;
      this.out.send(this.signer.seal(fields, body));
    }
  }

  /** @internal Submits one task. */
  submit<T>(op: Op | "map", fn: FnSpec | undefined, args: unknown, options: TaskOptions & { to?: number } = {}): Future<T> {
    if (this.closed) throw new ClusterError("the client is closed");
    const id = this.nextId++;
    const future = new Future<T>(id, this);
    this.pending.set(id, { resolve: future.settle.resolve as (v: unknown) => void, reject: future.settle.reject, future: future as Future<unknown> });
    const fields: { t: string; [k: string]: unknown } = { t: "submit", i: id, op, f: fn };
    if (options.timeout !== undefined) fields.timeout = options.timeout;
    if (options.retries) fields.retries = options.retries;
    if (options.to !== undefined) fields.to = options.to;
    const body = packValue(args);
    if (this.pending.size - this.backlog.length <= this.maxOutstanding && !this.backlog.length) this.out.send(this.signer.seal(fields, body));
    else this.backlog.push({ fields, body });
    return future;
  }

  /** @internal */
  cancel(ids: number[]) {
    const queued = new Set<number>();
    // Still here in the backlog: never sent, so fail them here.
    this.backlog = this.backlog.filter(({ fields }) => {
      const id = fields.i as number;
      if (!ids.includes(id)) return true;
      queued.add(id);
      return false;
    });
    for (const id of queued) {
      const p = this.pending.get(id);
      this.pending.delete(id);
      if (p) (p.future.done = true), p.reject(new CancelledError("the task was cancelled"));
    }
    const sent = ids.filter((id) => !queued.has(id) && this.pending.has(id));
    if (sent.length) this.out.send(this.signer.seal({ t: "cancel", i: sent }));
  }

  /** The controller's view of the cluster: engines, load, queue, tasks done and failed, tasks/s. */
  async status(): Promise<ClusterStatus> {
    const { body } = await this.request({ t: "status" });
    return unpackValue(body) as ClusterStatus;
  }

  /** Ids of the engines now in the cluster. */
  async engines(): Promise<number[]> {
    return (await this.request({ t: "hello" })).header.engines as number[];
  }

  /** Waits until at least `n` engines are in the cluster. */
  async waitForEngines(n: number, timeout = 30): Promise<number[]> {
    const until = Date.now() + timeout * 1000;
    for (;;) {
      const ids = await this.engines();
      if (ids.length >= n) return ids;
      if (Date.now() > until) throw new ClusterError(`${ids.length} of ${n} engines after ${timeout} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  loadBalanced(options: TaskOptions = {}) {
    return new LoadBalancedView(this, options);
  }

  direct(targets?: number[] | number) {
    return new DirectView(this, targets === undefined ? undefined : [targets].flat());
  }

  /** Tasks submitted and not yet answered. */
  get outstanding() { return this.pending.size; }

  close() {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new ClusterError("the client was closed"));
    this.pending.clear();
    this.socket.close();
    this.tunnel?.close();
  }
}

export interface MapOptions extends TaskOptions {
  /** Items per task (default 1). */
  chunkSize?: number;
  /** Results in the order of the items (default), or as they finish (imap). */
  ordered?: boolean;
  /** Called as tasks finish: items done, of the total. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting it cancels the tasks not yet finished. */
  signal?: AbortSignal;
}

/** Work to whichever engine is free. */
export class LoadBalancedView {
  constructor(private readonly client: Client, private readonly defaults: TaskOptions = {}) {}

  /** Runs `fn(...args)` on an engine. */
  apply<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
    return this.client.submit("call", fnSpec(fn), args, this.defaults);
  }

  /** Runs `fn` on every item; the results in item order. On the first error the rest are cancelled and the error thrown. */
  async map<T, R>(fn: (item: T) => R, items: Iterable<T>, options: MapOptions = {}): Promise<Awaited<R>[]> {
    const list = [...items];
    const size = Math.max(1, Math.floor(options.chunkSize ?? 1));
    const futures = this.submitAll(fn, list, size, options);
    const out = new Array<Awaited<R>>(list.length);
    const cancelAll = () => this.client.cancel(futures.filter((f) => !f.done).map((f) => f.id));
    options.signal?.addEventListener("abort", cancelAll, { once: true });
    let done = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        if (!futures.length) resolve();
        futures.forEach((f, k) => f.then((v) => {
          const values = size === 1 ? [v] : (v as unknown[]);
          for (let j = 0; j < values.length; j++) out[k * size + j] = values[j] as Awaited<R>;
          done += values.length;
          options.onProgress?.(done, list.length);
          if (done === list.length) resolve();
        }, reject));
      });
    } finally {
      options.signal?.removeEventListener("abort", cancelAll);
      cancelAll(); // after an error or an abort, nothing left running
    }
    return out;
  }

  /** One task per item, or per chunk of `size` items. */
  private submitAll<T>(fn: (item: T) => unknown, list: T[], size: number, options: MapOptions): Future<unknown>[] {
    const spec = fnSpec(fn);
    const opts = { ...this.defaults, ...options };
    const futures: Future<unknown>[] = [];
    for (let i = 0; i < list.length; i += size) {
      futures.push(size === 1 ? this.client.submit("call", spec, [list[i]], opts) : this.client.submit("map", spec, list.slice(i, i + size), opts));
    }
    return futures;
  }

  /** Runs `fn` on every item, yielding `{index, value}` as each finishes (in item order with `ordered`). */
  async *imap<T, R>(fn: (item: T) => R, items: Iterable<T>, options: MapOptions = {}): AsyncGenerator<{ index: number; value: Awaited<R> }> {
    const list = [...items];
    const size = Math.max(1, Math.floor(options.chunkSize ?? 1));
    const futures = this.submitAll(fn, list, size, options);
    const cancelAll = () => this.client.cancel(futures.filter((f) => !f.done).map((f) => f.id));
    options.signal?.addEventListener("abort", cancelAll, { once: true });
    let done = 0;
    try {
      // Settled futures, in the order they settle.
      const settled: { k: number; ok: boolean; v: unknown }[] = [];
      let wake: (() => void) | undefined;
      futures.forEach((f, k) => f.then((v) => settled.push({ k, ok: true, v }), (e) => settled.push({ k, ok: false, v: e })).then(() => wake?.()));
      const held = new Map<number, unknown>();
      let nextInOrder = 0;
      for (let seen = 0; seen < futures.length; ) {
        if (!settled.length) await new Promise<void>((r) => (wake = r));
        while (settled.length) {
          const { k, ok, v } = settled.shift()!;
          seen++;
          if (!ok) throw v;
          const values = size === 1 ? [v] : (v as unknown[]);
          done += values.length;
          options.onProgress?.(done, list.length);
          if (!options.ordered) {
            for (const [j, value] of values.entries()) yield { index: k * size + j, value: value as Awaited<R> };
          } else {
            held.set(k, values);
            while (held.has(nextInOrder)) {
              const vs = held.get(nextInOrder) as unknown[];
              held.delete(nextInOrder);
              for (const [j, value] of vs.entries()) yield { index: nextInOrder * size + j, value: value as Awaited<R> };
              nextInOrder++;
            }
          }
        }
      }
    } finally {
      options.signal?.removeEventListener("abort", cancelAll);
      cancelAll(); // an error, a break or an abort: nothing left running
    }
  }
}

/** Work addressed to engines by id (all engines, when none are named). */
export class DirectView {
  constructor(private readonly client: Client, private readonly targets?: number[]) {}

  private async ids(): Promise<number[]> {
    const ids = this.targets ?? (await this.client.engines());
    if (!ids.length) throw new ClusterError("no engines in the cluster");
    return ids;
  }

  private async each<T>(op: Op, fn: FnSpec | undefined, args: unknown | ((k: number) => unknown)): Promise<T[]> {
    const ids = await this.ids();
    return Promise.all(ids.map((to, k) => this.client.submit<T>(op, fn, typeof args === "function" ? (args as (k: number) => unknown)(k) : args, { to })));
  }

  /** Runs code in each engine's namespace: its last value and what it printed, per engine. */
  async execute(code: string): Promise<{ engine: number; value: unknown; output: string }[]> {
    const ids = await this.ids();
    const results = await this.each<{ value: unknown; output: string }>("execute", undefined, code);
    return results.map((r, k) => ({ engine: ids[k], ...r }));
  }

  /** Sets names in each engine's namespace. */
  async push(values: Record<string, unknown>): Promise<void> {
    await this.each("push", undefined, values);
  }

  /** A name's value from each engine. */
  async pull(name: string): Promise<unknown[]> {
    return (await this.each<unknown[]>("pull", undefined, [name])).map((v) => v[0]);
  }

  /** Runs `fn(...args)` on every engine. */
  async apply<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>[]> {
    return this.each<Awaited<R>>("call", fnSpec(fn), args);
  }

  /** Splits an array into contiguous parts, one per engine, each pushed as `name`. */
  async scatter(name: string, values: ArrayLike<unknown> & { slice(a: number, b: number): unknown }): Promise<void> {
    const ids = await this.ids();
    const n = values.length;
    await this.each("push", undefined, (k: number) => ({ [name]: values.slice(Math.floor((k * n) / ids.length), Math.floor(((k + 1) * n) / ids.length)) }));
  }

  /** The parts of `name` on each engine, joined in engine order (typed arrays into one of their type). */
  async gather(name: string): Promise<unknown> {
    const parts = await this.pull(name);
    if (parts.every((p) => ArrayBuffer.isView(p))) {
      const typed = parts as unknown as Float64Array[];
      const C = typed[0].constructor as Float64ArrayConstructor;
      const out = new C(typed.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of typed) out.set(p, at), (at += p.length);
      return out;
    }
    return parts.flat();
  }
}
