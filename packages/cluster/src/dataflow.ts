/**
 * Dataflow: sequential-looking code whose calls run as a parallel graph, as
 * Pydron's @schedule/@functional did. `functional(task)` makes calls return
 * a Ref at once; a Ref can be an argument of further calls, and awaiting it
 * gives its value. Inside `schedule(fn, {client})` every call is a node sent
 * to the cluster as soon as its inputs exist:
 * - a node's value stays on the engine that computed it (dataflow-store.ts);
 * - a node runs where most of its inputs already are, and only the inputs
 *   held elsewhere travel there (through the client);
 * - a value lost with its engine is computed again from its lineage (the
 *   node's task and arguments), recursively;
 * - once the scheduled function has returned, a value is freed on its
 *   engines as soon as every node taking it is computed (results once
 *   fetched), so a long chain holds a few values at a time, not all of them.
 * Outside `schedule` (or without a client) the calls run here, one after
 * another: the same code, the serial answer. Refs count as inputs wherever
 * they are in the arguments: themselves, or inside arrays and plain objects.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { fnSpec, type Client } from "./client.ts";
import { dataflowDrop, dataflowForget, dataflowGet, dataflowRun, type Path } from "./dataflow-store.ts";
import { EngineDiedError, RemoteError } from "./errors.ts";
import { isTask, type Task } from "./task.ts";

interface Node {
  id: string;
  fn: Task;
  /** The arguments as they were at the call, where its Refs are (holes), and their nodes (each once). */
  args: unknown[];
  holes: [Path, string][];
  inputs: Node[];
  /** Engines that hold the value. */
  holders: Set<number>;
  /** Settles when the value exists somewhere (or failed). */
  computing: Promise<void>;
  /** The value, once it came to this process. */
  local?: { value: unknown };
  /** Nodes that take it as input and have not been computed yet. */
  waiting: number;
  /** Computed once (its inputs told). */
  done?: boolean;
}

/** A value to come from a node of the graph: an argument for further calls, or `await` it. */
export class Ref<T = unknown> implements PromiseLike<T> {
  constructor(private readonly graph: Graph, readonly node: Node) {}
  then<A = T, B = never>(ok?: ((v: T) => A | PromiseLike<A>) | null, bad?: ((e: any) => B | PromiseLike<B>) | null): Promise<A | B> {
    return (this.graph.valueOf(this.node) as Promise<T>).then(ok, bad);
  }
}

const isPlain = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** The Refs in a value (itself, or inside arrays and plain objects, at any depth), with where they are. */
function refsIn(v: unknown, path: Path = [], out: { path: Path; ref: Ref }[] = []) {
  if (v instanceof Ref) out.push({ path, ref: v });
  else if (Array.isArray(v)) v.forEach((x, i) => refsIn(x, [...path, i], out));
  else if (isPlain(v)) for (const [k, x] of Object.entries(v)) refsIn(x, [...path, k], out);
  return out;
}

/** A copy of the arrays and plain objects in `v` (Refs and other values shared): a call's arguments as they were when it was made. */
function snapshot(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snapshot);
  if (isPlain(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, snapshot(x)]));
  return v;
}

/** A copy of `v` with each Ref replaced by what `f` gives for it (arrays and plain objects copied, the rest shared). */
async function substitute(v: unknown, f: (r: Ref) => unknown): Promise<unknown> {
  if (v instanceof Ref) return f(v);
  if (Array.isArray(v)) return Promise.all(v.map((x) => substitute(x, f)));
  if (isPlain(v)) return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await substitute(x, f)])));
  return v;
}

/** How many times a node is tried again after losing an engine or an input. */
const RECOVERIES = 5;

const lost = (e: unknown) => e instanceof EngineDiedError || (e instanceof RemoteError && e.remoteType === "MissingValueError");

class Graph {
  readonly id = randomUUID().slice(0, 8);
  readonly nodes: Node[] = [];
  readonly placements = new Map<number, number>();
  transfers = 0;
  /** Nodes run again: after their engine died, or to replace a value lost with one. */
  recoveries = 0;
  /** Values freed on the engines before the end of the graph. */
  freed = 0;
  /** Once the scheduled function has returned, no new node can take a value: one whose consumers are done is freed. */
  private sealed = false;
  /** The nodes of the result, kept until they came here. */
  private kept = new Set<Node>();
  /** Values to free, by engine, sent together. */
  private toFree = new Map<number, string[]>();

  constructor(private readonly client?: Client) {}

  add(fn: Task, args: unknown[]): Ref {
    // (an array given, then changed by the caller, is taken as it was at the call)
    const taken = snapshot(args) as unknown[], refs = refsIn(taken);
    const node: Node = {
      id: `${this.id}:${this.nodes.length}`, fn, args: taken, holders: new Set(), computing: Promise.resolve(), waiting: 0,
      holes: refs.map(({ path, ref }) => [path, ref.node.id]), inputs: [...new Set(refs.map((r) => r.ref.node))],
    };
    for (const i of node.inputs) i.waiting++;
    this.nodes.push(node);
    node.computing = this.compute(node);
    node.computing.catch(() => {}); // (its error reaches whoever awaits the node)
    return new Ref(this, node);
  }

  private async compute(node: Node): Promise<void> {
    const { inputs, holes } = node;
    await Promise.all(inputs.map((i) => this.available(i)));
    if (!this.client) {
      node.local = { value: await node.fn(...((await substitute(node.args, (r) => this.valueOf(r.node))) as unknown[])) };
      return;
    }
    // The arguments travel with holes where the Refs are, filled on the engine from its store.
    const skeleton = await substitute(node.args, () => null);
    for (let attempt = 0; ; attempt++) {
      await Promise.all(inputs.map((i) => this.available(i)));
      const target = this.placeFor(inputs);
      // inputs held elsewhere travel along
      const brought = inputs.filter((i) => target === undefined || !i.holders.has(target));
      try {
        const values = await Promise.all(brought.map(async (i): Promise<[string, unknown]> => [i.id, await this.valueOf(i)]));
        this.transfers += brought.length;
        const spec = { id: node.id, fn: node.fn.task, args: skeleton, holes, brought: values };
        const r = await this.client.submit<{ engine: number }>("call", fnSpec(dataflowRun), [spec], target === undefined ? {} : { to: target });
        node.holders.add(r.engine);
        for (const b of brought) b.holders.add(r.engine);
        this.placements.set(r.engine, (this.placements.get(r.engine) ?? 0) + 1);
        if (!node.done) {
          node.done = true;
          for (const i of inputs) i.waiting--, this.release(i);
        }
        this.release(node);
        return;
      } catch (e) {
        if (!lost(e) || attempt >= RECOVERIES) throw e;
        // the engine died, or an input was not where we thought: forget it there, and try again
        if (target !== undefined) this.forget(target);
        this.recoveries++;
      }
    }
  }

  /** The engine that holds most of the inputs (the lowest id on a tie); undefined (any engine) for none. */
  private placeFor(inputs: Node[]): number | undefined {
    const count = new Map<number, number>();
    for (const i of inputs) for (const e of i.holders) count.set(e, (count.get(e) ?? 0) + 1);
    let best: number | undefined;
    for (const [e, c] of count) if (best === undefined || c > count.get(best)! || (c === count.get(best)! && e < best)) best = e;
    return best;
  }

  /**
   * The function has returned: what it returned is kept until fetched, the
   * rest freed when no longer needed. (An async function that returns a bare
   * Ref returns only once that value exists: JavaScript awaits a returned
   * thenable. Return it in an array or object to have the graph freed as it runs.)
   */
  seal(result: unknown) {
    this.sealed = true;
    for (const { ref } of refsIn(result)) this.kept.add(ref.node);
    for (const n of this.nodes) this.release(n);
  }

  /**
   * Frees a value on its engines once nothing can need it: the function has
   * returned, every node taking it is computed, and it is not a result still
   * to fetch. (Needed again after all, by a node run again after a loss, it
   * is computed again from its lineage.)
   */
  private release(node: Node) {
    if (!this.client || !this.sealed || node.waiting > 0 || !node.holders.size || (this.kept.has(node) && !node.local)) return;
    if (!this.toFree.size) setImmediate(() => this.flushFrees());
    for (const e of node.holders) {
      if (!this.toFree.has(e)) this.toFree.set(e, []);
      this.toFree.get(e)!.push(node.id);
    }
    node.holders.clear();
    this.freed++;
  }

  private flushFrees() {
    for (const [engine, ids] of this.toFree) void this.client!.direct([engine]).apply(dataflowForget, ids).catch(() => {}); // (an engine gone holds nothing)
    this.toFree.clear();
  }

  /** After a loss on `engine` (it died, or lost a value: a new process under its id) it is taken to hold nothing of the graph. */
  private forget(engine: number) {
    for (const n of this.nodes) n.holders.delete(engine);
  }

  /** Waits until the node's value exists on some engine (or here), computing it again if it was lost. */
  private async available(node: Node): Promise<void> {
    await node.computing;
    if (this.client && !node.local && node.holders.size === 0) {
      this.recoveries++;
      // run again, it needs its inputs again
      if (node.done) {
        node.done = false;
        for (const i of node.inputs) i.waiting++;
      }
      node.computing = this.compute(node);
      await node.computing;
    }
  }

  /** The node's value here: fetched from an engine that holds it (once), recomputed if all of them lost it. */
  async valueOf(node: Node): Promise<unknown> {
    this.kept.add(node); // (not freed until it is here)
    for (let attempt = 0; ; attempt++) {
      await this.available(node);
      if (node.local) return node.local.value;
      const engine = Math.min(...node.holders);
      try {
        const value = await this.client!.submit("call", fnSpec(dataflowGet), [node.id], { to: engine });
        node.local = { value };
        this.release(node);
        return value;
      } catch (e) {
        if (!lost(e) || attempt >= RECOVERIES) throw e;
        this.forget(engine);
      }
    }
  }

  /** Every node computed (the first error thrown). */
  async settled(): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) await this.nodes[i].computing;
  }

  /** The graph's values forgotten on every engine. */
  async drop(): Promise<void> {
    if (!this.client) return;
    const view = this.client.direct();
    await view.apply(dataflowDrop, this.id).catch(() => {}); // (an engine gone holds nothing to free)
  }
}

const current = new AsyncLocalStorage<Graph>();

type Opaque = ArrayBufferView | Date | Map<unknown, unknown> | Set<unknown> | ((...a: never[]) => unknown);
/** A value, a Ref to it, or (for arrays and plain objects) the same with Refs for its parts, at any depth. */
type MaybeRef<T> = T | Ref<T> | (T extends Opaque ? never : T extends readonly unknown[] ? { [K in keyof T]: MaybeRef<T[K]> } : T extends object ? { [K in keyof T]: MaybeRef<T[K]> } : never);
type Refs<A extends unknown[]> = { [K in keyof A]: MaybeRef<A[K]> };

/** A task whose calls return Refs at once, run on the cluster inside `schedule`, here outside it. */
export function functional<A extends unknown[], R>(fn: Task<A, R>): (...args: Refs<A>) => Ref<Awaited<R>> {
  if (!isTask(fn)) throw new TypeError("functional() takes a task: export const f = task(import.meta.url, async function f(...) {...})");
  return (...args) => (current.getStore() ?? new Graph()).add(fn, args) as Ref<Awaited<R>>;
}

/** Values for Refs: a Ref, or Refs in arrays and plain objects, at any depth. */
type Resolved<T> = T extends Ref<infer V> ? V
  : T extends Opaque ? T
  : T extends readonly unknown[] ? { [K in keyof T]: Resolved<T[K]> }
  : T extends object ? { [K in keyof T]: Resolved<T[K]> }
  : T;

export interface GraphStats {
  nodes: number;
  /** Inputs that travelled to the engine of the node that needed them. */
  transfers: number;
  /** Nodes run again after a loss. */
  recoveries: number;
  /** Nodes run per engine. */
  placements: Map<number, number>;
  /** Values freed on the engines as soon as nothing could need them, before the graph's end. */
  freed: number;
}

export interface ScheduleOptions {
  /** The cluster; without one, every call runs here in turn. */
  client?: Client;
  /** Called with the graph's counts when it is done. */
  onDone?: (stats: GraphStats) => void;
}

/**
 * Runs `fn`, whose functional calls form a graph executed in parallel on
 * the cluster. Returns fn's result with Refs (also inside arrays and plain
 * objects) replaced by their values, once every node of the graph is computed.
 */
export async function schedule<T>(fn: () => T | Promise<T>, options: ScheduleOptions = {}): Promise<Resolved<Awaited<T>>> {
  const graph = new Graph(options.client);
  try {
    const out = await current.run(graph, fn);
    graph.seal(out);
    const resolved = await substitute(out, (r) => graph.valueOf(r.node));
    await graph.settled();
    options.onDone?.({ nodes: graph.nodes.length, transfers: graph.transfers, recoveries: graph.recoveries, placements: graph.placements, freed: graph.freed });
    return resolved as Resolved<Awaited<T>>;
  } finally {
    await graph.drop();
  }
}

