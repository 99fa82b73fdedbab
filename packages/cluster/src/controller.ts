/**
 * The controller: a ROUTER for clients and a ROUTER for engines. Load-balanced
 * tasks wait in one queue and go to the engine with the most credits (engines
 * pull; see engine.ts); direct tasks go to their engine at once. It relays task
 * bodies and results without decoding them. An engine is dead when its socket
 * disconnects (ZeroMQ's ROUTER_NOTIFY: a kill is seen in milliseconds) or misses
 * heartbeats (ZeroMQ's own, answered by the engine's I/O thread even while its
 * task computes: a hung or stopped process, in under a second). Its tasks go
 * back to the front of the queue; a task whose engines keep dying fails with
 * EngineDiedError. A task's result reaches its client once: the controller
 * forgets a task when it answers, and drops results it no longer expects.
 * It keeps no results.
 */
import { hostname } from "node:os";
import { curveKeyPair, Router } from "zeromq";
import { isLoopback, resolveAddress } from "./address.ts";
import type { ConnectionInfo } from "./connection.ts";
import { ClusterError } from "./errors.ts";
import { Outbox, unbatch } from "./outbox.ts";
import { newKey, packValue, Signer, type Dropped, type Frames, type Header } from "./protocol.ts";

export interface ControllerOptions {
  /** Address to listen on (default 127.0.0.1): an IP, a network interface's name, or * for every interface. */
  ip?: string;
  /** Address engines and clients connect to (default: the one listened on; see address.ts). */
  location?: string;
  clientPort?: number;
  enginePort?: number;
  /** Encrypt every connection with CurveZMQ: the default off loopback, where it cannot be turned off. */
  curve?: boolean;
  key?: Buffer;
  /** Engine deaths a task may cause before it fails with EngineDiedError (default 3). */
  maxEngineDeaths?: number;
  /** Seconds without a heartbeat answer before an engine is dead (default 0.5 on loopback, 3 over a network). */
  heartbeatTimeout?: number;
  /** Seconds an engine has to stop a cancelled or timed-out task before onEngineStuck (default 1). */
  abortGrace?: number;
}

interface TaskRec {
  key: number;
  client: Buffer;
  /** The client's routing id as text, and the task's key among the client's. */
  clientTask: string;
  /** The client's id of the task. */
  id: number;
  op: string;
  fn?: unknown;
  body: Frames;
  digest?: Uint8Array;
  timeout?: number;
  retries: number;
  failures: number;
  deaths: number;
  /** Direct tasks name their engine. */
  target?: number;
  engine?: EngineRec;
  timer?: NodeJS.Timeout;
  cancelled?: boolean;
}

interface EngineRec {
  id: number;
  routing: Buffer;
  /** Its registration's nonce. */
  nonce: string;
  pid: number;
  host: string;
  credits: number;
  inflight: Map<number, TaskRec>;
  done: number;
  failed: number;
  since: number;
  /** Tasks told to abort, until the engine reports them ended. */
  aborting: Set<number>;
}

/** What `status` reports. */
export interface ClusterStatus {
  controller: { pid: number; host: string; uptime: number };
  engines: { id: number; pid: number; host: string; load: number; done: number; failed: number }[];
  queue: number;
  running: number;
  done: number;
  failed: number;
  /** Tasks finished per second, over the last 10 s. */
  rate: number;
  /** Messages dropped: unsigned, forged, replayed, malformed. */
  dropped: Dropped;
  engineDeaths: number;
}

export class Controller {
  readonly info: ConnectionInfo;
  private clients: Router;
  private engines: Router;
  private toClients: Outbox;
  private toEngines: Outbox;
  private signer: Signer;
  private byId = new Map<number, EngineRec>();
  private byRouting = new Map<string, EngineRec>();
  private tasks = new Map<number, TaskRec>();
  private byClientId = new Map<string, TaskRec>();
  private queue: TaskRec[] = [];
  private head = 0;
  private nextKey = 1;
  private nextEngine = 0;
  private totals = { done: 0, failed: 0, deaths: 0 };
  private finishedAt: number[] = [];
  private started = Date.now();
  private closed = false;
  /** Called when an engine is found dead (a supervisor may restart it). */
  onEngineDied?: (engine: { id: number; pid: number; host: string }) => void;
  /**
   * Called when an engine has not stopped a cancelled or timed-out task within
   * `abortGrace` seconds (a task that computes without awaiting cannot see its
   * abort signal): its supervisor may kill it, and its other tasks go elsewhere.
   */
  onEngineStuck?: (engine: { id: number; pid: number; host: string }) => void;

  private constructor(info: ConnectionInfo, clients: Router, engines: Router, key: Buffer, private readonly options: ControllerOptions) {
    this.info = info;
    this.clients = clients;
    this.engines = engines;
    this.signer = new Signer(key);
    this.toClients = new Outbox(clients, true);
    this.toEngines = new Outbox(engines, true);
  }

  static async start(options: ControllerOptions = {}): Promise<Controller> {
    const { bind, location } = resolveAddress(options.ip, options.location);
    const local = isLoopback(bind);
    if (!local && options.curve === false) throw new ClusterError(`refusing to listen on ${bind} without encryption: CurveZMQ is required off loopback`);
    const key = options.key ?? newKey();
    // Off loopback, keys are made here and go to engines and clients in the (0600) connection file.
    const keys = options.curve ?? !local ? curveKeyPair() : undefined;
    const security = keys ? { curveServer: true, curveSecretKey: keys.secretKey } : {};
    // Over a network, a lost packet or a busy node must not pass for a dead engine.
    const heartbeatSeconds = options.heartbeatTimeout ?? (local ? 0.5 : 3);
    const heartbeat = Math.round(heartbeatSeconds * 1000);
    const clients = new Router({ mandatory: true, linger: 0, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000, ...security });
    const engines = new Router({ mandatory: true, linger: 0, heartbeatInterval: Math.max(50, Math.round(heartbeat / 5)), heartbeatTimeout: heartbeat, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000, ...security });
    // ROUTER_NOTIFY (draft option 97): an empty message from each engine that connects or disconnects.
    (engines as any).setInt32Option(97, 3);
    const port = async (r: Router, p: number | undefined) => {
      await r.bind(`tcp://${bind}:${p ?? "*"}`);
      return Number(/:(\d+)$/.exec(r.lastEndpoint!)![1]);
    };
    let info: ConnectionInfo;
    try {
      info = {
        version: 1, ip: location, bind, clientPort: await port(clients, options.clientPort), enginePort: await port(engines, options.enginePort),
        key: key.toString("hex"), heartbeat: heartbeatSeconds, pid: process.pid, created: new Date().toISOString(),
        ...(keys ? { curve: keys.publicKey } : {}),
      };
    } catch (e) {
      clients.close();
      engines.close();
      throw new ClusterError(`cannot listen on ${bind}: ${(e as Error).message}`);
    }
    const c = new Controller(info, clients, engines, key, options);
    void c.serveClients();
    void c.serveEngines();
    return c;
  }

  // ---- clients

  private reply(client: Buffer, fields: { t: string; [k: string]: unknown }, body?: Frames, digest?: Uint8Array) {
    this.toClients.send([client, ...this.signer.seal(fields, body, digest)]);
  }

  /** A result the controller itself gives (cancelled, timed out, engines died): an error of that type. */
  private fail(task: TaskRec, type: string, message: string) {
    this.forget(task);
    this.totals.failed++;
    // x: the controller's own verdict, not an error thrown by the task
    this.reply(task.client, { t: "result", i: task.id, ok: false, e: task.engine?.id ?? -1, x: 1 }, packValue({ type, message }));
  }

  private async serveClients() {
    for await (const [client, ...received] of this.clients) {
      const hex = client.toString("hex");
      for (const frames of unbatch(received)) this.fromClient(client, hex, frames);
    }
  }

  private fromClient(client: Buffer, hex: string, frames: Frames) {
    {
      const msg = this.signer.open(frames, true);
      if (!msg) return;
      const h = msg.header;
      try {
        if (h.t === "submit") this.submit(client, hex, h, msg.body);
        else if (h.t === "cancel") for (const id of h.i as number[]) this.cancel(hex, id);
        else if (h.t === "hello") this.reply(client, { t: "welcome", engines: [...this.byId.keys()] });
        else if (h.t === "status") this.reply(client, { t: "status", r: h.r }, packValue(this.status()));
      } catch (e) {
        this.signer.dropped.malformed++;
      }
    }
  }

  private submit(client: Buffer, hex: string, h: Header, body: Frames) {
    const task: TaskRec = {
      key: this.nextKey++, client, clientTask: `${hex}:${h.i}`, id: h.i as number, op: String(h.op ?? "call"), fn: h.f, body, digest: h.b,
      timeout: typeof h.timeout === "number" ? h.timeout : undefined, retries: Number(h.retries ?? 0), failures: 0, deaths: 0,
      target: typeof h.to === "number" ? h.to : undefined,
    };
    this.tasks.set(task.key, task);
    this.byClientId.set(task.clientTask, task);
    if (task.target !== undefined) {
      const engine = this.byId.get(task.target);
      if (!engine) return this.fail(task, "EngineDiedError", `engine ${task.target} is not in the cluster (engines: ${[...this.byId.keys()].join(", ") || "none"})`);
      return this.dispatchTo(engine, task, true);
    }
    this.queue.push(task);
    this.dispatch();
  }

  private cancel(hex: string, id: number) {
    const task = this.byClientId.get(`${hex}:${id}`);
    if (!task) return; // finished already
    task.cancelled = true;
    if (task.engine) this.abort(task.engine, task.key);
    this.fail(task, "CancelledError", "the task was cancelled");
  }

  private forget(task: TaskRec) {
    this.tasks.delete(task.key);
    this.byClientId.delete(task.clientTask);
    task.engine?.inflight.delete(task.key);
    clearTimeout(task.timer);
    task.cancelled = true; // if still queued, dispatch skips it
  }

  // ---- engines

  private async serveEngines() {
    for await (const [routing, ...received] of this.engines) {
      if (received.length === 1 && received[0].byteLength === 0) {
        // ROUTER_NOTIFY: connect (unknown yet) or disconnect (a known engine).
        const engine = this.byRouting.get(routing.toString("hex"));
        if (engine) this.engineDied(engine, "disconnected");
        continue;
      }
      for (const frames of unbatch(received)) this.fromEngine(routing, frames);
      this.dispatch();
    }
  }

  private fromEngine(routing: Buffer, frames: Frames) {
    const hex = routing.toString("hex");
    {
      const msg = this.signer.open(frames, true);
      if (!msg) return;
      const h = msg.header;
      if (h.t === "register") {
        const old = this.byRouting.get(hex);
        // A repeat (the engine retries until welcomed) is welcomed again as the same engine.
        if (old && old.nonce === h.u) return void this.toEngines.send([routing, ...this.signer.seal({ t: "welcome", engine: old.id, u: h.u })]);
        if (old) this.engineDied(old, "registered again");
        const engine: EngineRec = { id: this.nextEngine++, routing, nonce: String(h.u), pid: Number(h.pid), host: String(h.host), credits: 0, inflight: new Map(), done: 0, failed: 0, since: Date.now(), aborting: new Set() };
        this.byId.set(engine.id, engine);
        this.byRouting.set(hex, engine);
        this.toEngines.send([routing, ...this.signer.seal({ t: "welcome", engine: engine.id, u: h.u })]);
        return;
      }
      const engine = this.byRouting.get(hex);
      if (!engine) {
        // Taken for dead earlier (a hang, a lost link): its tasks went elsewhere; it must start again.
        this.toEngines.send([routing, ...this.signer.seal({ t: "reset" })]);
        return;
      }
      if (h.t === "credit") engine.credits += Number(h.n);
      else if (h.t === "done") {
        engine.credits += Number(h.c ?? 0);
        this.finished(engine, h, msg.body);
      }
    }
  }

  private finished(engine: EngineRec, h: Header, body: Frames) {
    engine.aborting.delete(h.k as number);
    const task = engine.inflight.get(h.k as number);
    if (!task) return; // answered already (cancelled, timed out) or re-dispatched: dropped
    engine.inflight.delete(task.key);
    task.engine = undefined;
    clearTimeout(task.timer);
    if (!h.ok && task.failures < task.retries && task.target === undefined) {
      task.failures++;
      this.queue.push(task);
      return;
    }
    if (h.ok) engine.done++, this.totals.done++;
    else engine.failed++, this.totals.failed++;
    this.finishedAt.push(Date.now());
    if (this.finishedAt.length > 100_000) this.finishedAt = this.finishedAt.slice(-50_000);
    this.forget(task);
    this.reply(task.client, { t: "result", i: task.id, ok: !!h.ok, e: engine.id }, body, h.b);
  }

  private engineDied(engine: EngineRec, why: string) {
    if (!this.byId.has(engine.id)) return;
    this.byId.delete(engine.id);
    this.byRouting.delete(engine.routing.toString("hex"));
    this.totals.deaths++;
    const stranded = [...engine.inflight.values()];
    engine.inflight.clear();
    // Back to the front of the queue, in their order.
    const again: TaskRec[] = [];
    for (const task of stranded) {
      task.engine = undefined;
      clearTimeout(task.timer);
      if (task.target !== undefined) {
        this.fail(task, "EngineDiedError", `engine ${engine.id} (pid ${engine.pid} on ${engine.host}) died (${why}) while running this task`);
      } else if (++task.deaths > (this.options.maxEngineDeaths ?? 3)) {
        this.fail(task, "EngineDiedError", `${task.deaths} engines died while running this task (the last: engine ${engine.id}, ${why}); it probably kills them`);
      } else again.push(task);
    }
    this.queue.splice(this.head, 0, ...again);
    this.onEngineDied?.({ id: engine.id, pid: engine.pid, host: engine.host });
    this.dispatch();
  }

  /** Queued tasks to the engines with the most credits (the least loaded), while there are credits. */
  private dispatch() {
    while (this.head < this.queue.length) {
      let best: EngineRec | undefined;
      for (const e of this.byId.values()) if (e.credits > 0 && (!best || e.credits > best.credits)) best = e;
      if (!best) break;
      const task = this.queue[this.head++];
      if (task.cancelled || !this.tasks.has(task.key)) continue;
      best.credits--;
      this.dispatchTo(best, task, false);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private dispatchTo(engine: EngineRec, task: TaskRec, direct: boolean) {
    task.engine = engine;
    engine.inflight.set(task.key, task);
    const fields: { t: string; [k: string]: unknown } = { t: "task", k: task.key, op: task.op, f: task.fn };
    if (direct) fields.d = 1;
    this.toEngines.send([engine.routing, ...this.signer.seal(fields, task.body, task.digest)]);
    if (task.timeout !== undefined) {
      task.timer = setTimeout(() => {
        if (task.engine !== engine || !this.tasks.has(task.key)) return;
        this.abort(engine, task.key);
        this.fail(task, "TaskTimeoutError", `the task ran past its timeout of ${task.timeout} s on engine ${engine.id}`);
      }, task.timeout * 1000);
    }
  }

  /** Tells an engine to abort a task; if it has not ended it after the grace period, the engine is stuck. */
  private abort(engine: EngineRec, key: number) {
    engine.aborting.add(key);
    this.toEngines.send([engine.routing, ...this.signer.seal({ t: "abort", k: key })]);
    setTimeout(() => {
      if (engine.aborting.has(key) && this.byId.get(engine.id) === engine) this.onEngineStuck?.({ id: engine.id, pid: engine.pid, host: engine.host });
    }, (this.options.abortGrace ?? 1) * 1000).unref();
  }

  // ---- status and stop

  status(): ClusterStatus {
    const now = Date.now();
    let recent = 0;
    for (let i = this.finishedAt.length - 1; i >= 0 && this.finishedAt[i] > now - 10_000; i--) recent++;
    const window = Math.min(10, (now - this.started) / 1000) || 1;
    return {
      controller: { pid: process.pid, host: hostname(), uptime: (now - this.started) / 1000 },
      engines: [...this.byId.values()].map((e) => ({ id: e.id, pid: e.pid, host: e.host, load: e.inflight.size, done: e.done, failed: e.failed })),
      queue: this.queue.length - this.head,
      running: [...this.byId.values()].reduce((a, e) => a + e.inflight.size, 0),
      done: this.totals.done,
      failed: this.totals.failed,
      rate: recent / window,
      dropped: { ...this.signer.dropped },
      engineDeaths: this.totals.deaths,
    };
  }

  /** Engines now in the cluster. */
  engineIds() { return [...this.byId.keys()]; }

  /** Tells the engines to stop, then closes. */
  async stop() {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.byId.values()) this.toEngines.send([e.routing, ...this.signer.seal({ t: "stop" })]);
    // Every engine must hear it (hundreds of stops take a while): handed to ZeroMQ, then half a second to leave.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.toEngines.drained(), new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    this.engines.linger = 500;
    for (const t of this.tasks.values()) clearTimeout(t.timer);
    this.clients.close();
    this.engines.close();
  }
}
