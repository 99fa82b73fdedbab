/**
 * PMF work as tasks: the restarts of the base case, the bootstrap's
 * replicates and DISP's elements are numbered pieces, each a pure function
 * of the shared spec and its number (restart r from the random stream
 * (seed, r), replicate r from (seed, −1−r)). Pieces run in chunks, so the
 * data travel once per chunk, and the results are the same for any number of
 * engines, any completion order and any retry.
 */
import type { LoadBalancedView } from "@meridian/cluster";
import { task, taskContext } from "@meridian/cluster/task";
import { blockLength, replicate, summarise, type BootstrapSummary, type Replicate, type ReplicateSpec } from "./bootstrap.ts";
import { displaceElement, summariseDisplacement, type DisplacementSpec, type DisplacementSummary, type ElementDisplacement } from "./disp.ts";
import { PmfError } from "./errors.ts";
import { pickBest, solve, type SolveOptions, type Solution } from "./solver.ts";

export interface RunSpec {
  x: Float64Array;
  u: Float64Array;
  n: number;
  m: number;
  options: Omit<SolveOptions, "onIteration" | "stream">;
}

/** The kinds of piece, each computing piece `i` of its spec (`goOn` false: stop early). */
const PIECES = {
  run: (spec: RunSpec, i: number, goOn: () => boolean): Solution => solve(spec.x, spec.u, spec.n, spec.m, { ...spec.options, stream: i, onIteration: goOn }),
  replicate: (spec: ReplicateSpec, i: number, goOn: () => boolean): Replicate => replicate(spec, i, goOn),
  displace: (spec: DisplacementSpec, i: number, goOn: () => boolean): ElementDisplacement => displaceElement(spec, Math.floor(i / spec.m), i % spec.m, goOn),
};
type Kind = keyof typeof PIECES;
type SpecOf<K extends Kind> = Parameters<(typeof PIECES)[K]>[0];
type ResultOf<K extends Kind> = ReturnType<(typeof PIECES)[K]>;

/** Pieces [first, first + count) of one kind, in one task. */
export const pmfPieces = task(import.meta.url, async function pmfPieces<K extends Kind>({ kind, spec, first, count }: { kind: K; spec: SpecOf<K>; first: number; count: number }): Promise<ResultOf<K>[]> {
  const { signal } = taskContext();
  const one = PIECES[kind] as (spec: SpecOf<K>, i: number, goOn: () => boolean) => ResultOf<K>;
  const out: ResultOf<K>[] = [];
  for (let i = first; i < first + count; i++) {
    out.push(one(spec, i, () => !signal.aborted));
    signal.throwIfAborted();
  }
  return out;
});

interface Where {
  view?: LoadBalancedView;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Pieces 0 … total−1, in order: in chunks of `size` on a view, or one by one here. */
async function pieces<K extends Kind>(kind: K, spec: SpecOf<K>, total: number, size: number, { view, onProgress, signal }: Where): Promise<ResultOf<K>[]> {
  if (view) {
    const chunks = Array.from({ length: Math.ceil(total / size) }, (_, c) => ({ kind, spec, first: c * size, count: Math.min(size, total - c * size) }));
    const progress = onProgress && ((done: number) => onProgress(Math.min(done * size, total), total));
    return (await view.map(pmfPieces, chunks, { signal, onProgress: progress })).flat() as ResultOf<K>[];
  }
  const one = PIECES[kind] as (spec: SpecOf<K>, i: number, goOn: () => boolean) => ResultOf<K>;
  const out: ResultOf<K>[] = [];
  for (let i = 0; i < total; i++) {
    signal?.throwIfAborted();
    out.push(one(spec, i, () => !signal?.aborted));
    onProgress?.(i + 1, total);
  }
  signal?.throwIfAborted();
  return out;
}

export interface BaseOptions extends Omit<SolveOptions, "onIteration" | "stream">, Where {
  /** Random starts (default 20, as EPA PMF and ESAT). */
  runs?: number;
}

/** The base case: `runs` factorisations from streams 0 … runs−1, here or on a view (a task each); the best by Q(robust). */
export async function baseRuns(x: Float64Array, u: Float64Array, n: number, m: number, options: BaseOptions): Promise<{ best: Solution; runs: Solution[] }> {
  const { runs: count = 20, view, onProgress, signal, ...solveOptions } = options;
  const runs = await pieces("run", { x, u, n, m, options: solveOptions }, count, 1, { view, onProgress, signal });
  return { best: pickBest(runs), runs };
}

export interface BootstrapOptions extends Omit<SolveOptions, "onIteration" | "stream" | "initF" | "initG" | "factors">, Where {
  /** Replicates (default 100, as EPA PMF 5.0). */
  replicates?: number;
  /** Rows per block (default: Politis & White's optimal length). */
  block?: number;
  /** Smallest correlation of contributions for a factor to be mapped (default 0.6). */
  threshold?: number;
}

/** Block bootstrap of a base case, here or on a view: the replicates in order and their statistics. */
export async function bootstrap(x: Float64Array, u: Float64Array, n: number, m: number, base: Solution, options: BootstrapOptions = {}): Promise<{ replicates: Replicate[]; summary: BootstrapSummary }> {
  const { replicates: count = 100, block = blockLength(x, n, m), threshold = 0.6, view, onProgress, signal, seed = base.seed, ...solveOptions } = options;
  if (!Number.isInteger(count) || count < 1) throw new PmfError(`the number of bootstrap replicates must be a positive whole number, got ${count}`);
  if (!Number.isInteger(block) || block < 1 || block > n) throw new PmfError(`the bootstrap block must be a whole number of samples from 1 to ${n}, got ${block}`);
  const spec: ReplicateSpec = { x, u, n, m, base: { g: base.g, f: base.f, k: base.k }, block, seed, threshold, options: { method: base.method, ...solveOptions } };
  // tasks of up to 10 replicates: the data travel once per task, and the load still balances
  const replicates = await pieces("replicate", spec, count, Math.max(1, Math.min(10, Math.ceil(count / 40))), { view, onProgress, signal });
  return { replicates, summary: summarise(replicates, base.k, m, block) };
}

export interface DisplacementOptions extends Omit<SolveOptions, "onIteration" | "stream" | "initF" | "initG" | "factors" | "fixProfiles">, Where {}

/** DISP of every element of the base profiles (factor by factor, species by species), here or on a view, 4 elements a task. */
export async function displacement(x: Float64Array, u: Float64Array, n: number, m: number, base: Solution, options: DisplacementOptions = {}): Promise<DisplacementSummary> {
  const { view, onProgress, signal, ...solveOptions } = options;
  const spec: DisplacementSpec = { x, u, n, m, base: { g: base.g, f: base.f, k: base.k }, options: { method: base.method, ...solveOptions } };
  return summariseDisplacement(await pieces("displace", spec, base.k * m, 4, { view, onProgress, signal }), base.k);
}
