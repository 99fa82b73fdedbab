/**
 * PMF work as tasks: one factorisation from random stream (seed, r). A run
 * depends on nothing but its arguments, so the base case is the same for any
 * number of engines, any completion order and any retry.
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
  options: Omit<SolveOptions, "onIteration">;
}

export const pmfRun = task(import.meta.url, async function pmfRun(spec: RunSpec): Promise<Solution> {
  const { signal } = taskContext();
  const s = solve(spec.x, spec.u, spec.n, spec.m, { ...spec.options, onIteration: () => !signal.aborted });
  signal.throwIfAborted();
  return s;
});

export interface BaseOptions extends Omit<SolveOptions, "onIteration" | "stream"> {
  /** Random starts (default 20, as EPA PMF and ESAT). */
  runs?: number;
  view?: LoadBalancedView;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The base case: `runs` factorisations from streams 0 … runs−1, here or on a view; the best by Q(robust). */
export async function baseRuns(x: Float64Array, u: Float64Array, n: number, m: number, options: BaseOptions): Promise<{ best: Solution; runs: Solution[] }> {
  const { runs: count = 20, view, onProgress, signal, ...solveOptions } = options;
  const specs: RunSpec[] = Array.from({ length: count }, (_, r) => ({ x, u, n, m, options: { ...solveOptions, stream: r } }));
  let runs: Solution[];
  if (view) runs = await view.map(pmfRun, specs, { onProgress, signal });
  else {
    runs = [];
    for (const spec of specs) {
      signal?.throwIfAborted();
      runs.push(await pmfRun(spec));
      onProgress?.(runs.length, count);
    }
  }
  return { best: pickBest(runs), runs };
}

/** Replicates [first, first + count) of a bootstrap, in one task (so the data travel once per task, not per replicate). */
export const pmfReplicates = task(import.meta.url, async function pmfReplicates({ spec, first, count }: { spec: ReplicateSpec; first: number; count: number }): Promise<Replicate[]> {
  const { signal } = taskContext();
  const out: Replicate[] = [];
  for (let r = first; r < first + count; r++) {
    out.push(replicate(spec, r, () => !signal.aborted));
    signal.throwIfAborted();
  }
  return out;
});

export interface BootstrapOptions extends Omit<SolveOptions, "onIteration" | "stream" | "initF" | "initG" | "factors"> {
  /** Replicates (default 100, as EPA PMF 5.0). */
  replicates?: number;
  /** Rows per block (default: Politis & White's optimal length). */
  block?: number;
  /** Smallest correlation of contributions for a factor to be mapped (default 0.6). */
  threshold?: number;
  view?: LoadBalancedView;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Block bootstrap of a base case, here or on a view: the replicates in order and their statistics. */
export async function bootstrap(x: Float64Array, u: Float64Array, n: number, m: number, base: Solution, options: BootstrapOptions = {}): Promise<{ replicates: Replicate[]; summary: BootstrapSummary }> {
  const { replicates: count = 100, block = blockLength(x, n, m), threshold = 0.6, view, onProgress, signal, seed = base.seed, ...solveOptions } = options;
  if (!Number.isInteger(count) || count < 1) throw new PmfError(`the number of bootstrap replicates must be a positive whole number, got ${count}`);
  if (!Number.isInteger(block) || block < 1 || block > n) throw new PmfError(`the bootstrap block must be a whole number of samples from 1 to ${n}, got ${block}`);
  const spec: ReplicateSpec = { x, u, n, m, base: { g: base.g, f: base.f, k: base.k }, block, seed, threshold, options: { method: base.method, ...solveOptions } };
  let replicates: Replicate[];
  if (view) {
    // tasks of up to 10 replicates: the data travel once per task, and the load still balances
    const size = Math.max(1, Math.min(10, Math.ceil(count / 40)));
    const chunks = Array.from({ length: Math.ceil(count / size) }, (_, c) => ({ spec, first: c * size, count: Math.min(size, count - c * size) }));
    replicates = (await view.map(pmfReplicates, chunks, { signal, onProgress: onProgress && ((done) => onProgress(Math.min(done * size, count), count)) })).flat();
  } else {
    replicates = [];
    for (let r = 0; r < count; r++) {
      signal?.throwIfAborted();
      replicates.push(replicate(spec, r, () => !signal?.aborted));
      onProgress?.(r + 1, count);
    }
    signal?.throwIfAborted();
  }
  return { replicates, summary: summarise(replicates, base.k, m, block) };
}

/** DISP of some profile elements, in one task. */
export const pmfDisplace = task(import.meta.url, async function pmfDisplace({ spec, elements }: { spec: DisplacementSpec; elements: [number, number][] }): Promise<ElementDisplacement[]> {
  const { signal } = taskContext();
  return elements.map(([c, j]) => {
    const d = displaceElement(spec, c, j, () => !signal.aborted);
    signal.throwIfAborted();
    return d;
  });
});

export interface DisplacementOptions extends Omit<SolveOptions, "onIteration" | "stream" | "initF" | "initG" | "factors" | "fixProfiles"> {
  view?: LoadBalancedView;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** DISP of every element of the base profiles, here or on a view (a task per factor and a few species). */
export async function displacement(x: Float64Array, u: Float64Array, n: number, m: number, base: Solution, options: DisplacementOptions = {}): Promise<DisplacementSummary> {
  const { view, onProgress, signal, ...solveOptions } = options;
  const spec: DisplacementSpec = { x, u, n, m, base: { g: base.g, f: base.f, k: base.k }, options: { method: base.method, ...solveOptions } };
  const all = Array.from({ length: base.k * m }, (_, i) => [Math.floor(i / m), i % m] as [number, number]);
  const size = 4, chunks = Array.from({ length: Math.ceil(all.length / size) }, (_, c) => ({ spec, elements: all.slice(c * size, (c + 1) * size) }));
  let elements: ElementDisplacement[];
  const progress = onProgress && ((done: number) => onProgress(Math.min(done * size, all.length), all.length));
  if (view) elements = (await view.map(pmfDisplace, chunks, { signal, onProgress: progress })).flat();
  else {
    elements = [];
    for (const [c, j] of all) {
      signal?.throwIfAborted();
      elements.push(displaceElement(spec, c, j, () => !signal?.aborted));
      onProgress?.(elements.length, all.length);
    }
    signal?.throwIfAborted();
  }
  return summariseDisplacement(elements, base.k);
}
