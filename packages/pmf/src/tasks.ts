/**
 * PMF work as tasks: one factorisation from random stream (seed, r). A run
 * depends on nothing but its arguments, so the base case is the same for any
 * number of engines, any completion order and any retry.
 */
import type { LoadBalancedView } from "@meridian/cluster";
import { task, taskContext } from "@meridian/cluster/task";
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
