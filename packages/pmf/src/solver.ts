/**
 * Uncertainty-weighted NMF: X (samples × species) ≈ G (samples × factors) ·
 * F (factors × species), minimising Q = Σ((x − gf)/u)², by alternating
 * non-negative least squares (als.ts, the default) or ESAT's LS-NMF
 * multiplicative updates (multiplicative.ts). In robust mode (EPA PMF's
 * default) values whose scaled residual |r/u| exceeds α = 4 are down-weighted
 * inside the updates (their uncertainty becomes u·√(|r/u|/α)), so they count
 * α·|r/u| instead of (r/u)²: Q(robust). Converged when Q fell by less than
 * `delta` over the last `window` iterations (ESAT's defaults: 0.1 over 100).
 */
import { Alternating } from "./als.ts";
import { PmfError } from "./errors.ts";
import { Multiplicative, product, type Stepper } from "./multiplicative.ts";
import { Random } from "./random.ts";

export type Method = "als" | "mu";

export interface SolveOptions {
  factors: number;
  /** "als" (alternating least squares, default) or "mu" (ESAT's multiplicative updates). */
  method?: Method;
  /** Down-weight outliers inside the updates (default true, as EPA PMF 5.0). */
  robust?: boolean;
  /** Outlier distance in scaled residuals (default 4). */
  alpha?: number;
  maxIter?: number;
  /** Converged when Q fell by less than this over the last `window` iterations (defaults 0.1 and 100). */
  delta?: number;
  window?: number;
  /** Random stream of the initial G and F: (seed, stream). */
  seed?: number;
  stream?: number;
  /** Start from these profiles (k × m) and contributions (n × k) instead of random ones (bootstrap replicates start from the base case). */
  initF?: Float64Array;
  initG?: Float64Array;
  /** Keep the profiles as given (`initF`) and fit the contributions only (DISP). */
  fixProfiles?: boolean;
  /** Called now and then with the iteration and Q; return false to stop. */
  onIteration?: (iteration: number, q: number) => boolean | void;
}

export interface Solution {
  n: number;
  m: number;
  k: number;
  /** Contributions [samples, factors] and profiles [factors, species]. */
  g: Float64Array;
  f: Float64Array;
  qTrue: number;
  qRobust: number;
  iterations: number;
  converged: boolean;
  method: Method;
  seed: number;
  stream: number;
}

/** Q(true) and Q(robust) of G·F against X with uncertainties U. */
export function qOf(x: Float64Array, u: Float64Array, g: Float64Array, f: Float64Array, n: number, m: number, k: number, alpha = 4): { qTrue: number; qRobust: number } {
  const wh = product(g, f, n, m, k);
  let qTrue = 0, qRobust = 0;
  for (let i = 0; i < n * m; i++) {
    const s = Math.abs(x[i] - wh[i]) / u[i];
    qTrue += s * s;
    qRobust += s <= alpha ? s * s : alpha * s;
  }
  return { qTrue, qRobust };
}

/** Q(true) of each species and of each sample: the squared scaled residuals summed along the other axis. */
export function qParts(x: Float64Array, u: Float64Array, g: Float64Array, f: Float64Array, n: number, m: number, k: number): { species: Float64Array; samples: Float64Array } {
  const wh = product(g, f, n, m, k);
  const species = new Float64Array(m), samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const r = ((x[i * m + j] - wh[i * m + j]) / u[i * m + j]) ** 2;
      species[j] += r;
      samples[i] += r;
    }
  }
  return { species, samples };
}

/** One factorisation from one random start (or from `initF`). */
export function solve(x: Float64Array, u: Float64Array, n: number, m: number, options: SolveOptions): Solution {
  const k = options.factors;
  if (!Number.isInteger(k) || k < 1 || k >= Math.min(n, m)) throw new PmfError(`${k} factors for ${n} samples and ${m} species: give a whole number from 1 to ${Math.min(n, m) - 1}`);
  const robust = options.robust ?? true, alpha = options.alpha ?? 4;
  const maxIter = options.maxIter ?? 20000, delta = options.delta ?? 0.1, window = options.window ?? 100;
  const seed = options.seed ?? 42, stream = options.stream ?? 0;
  const method = options.method ?? "als";
  if (method !== "als" && method !== "mu") throw new PmfError(`unknown method "${method}": use "als" or "mu"`);
  const stepper: Stepper = new (method === "als" ? Alternating : Multiplicative)(x, u, n, m, k, robust, alpha);
  initialise(stepper, x, n, m, k, new Random(seed, stream), options);

  const history = new Float64Array(window);
  let iterations = 0, converged = false;
  for (; iterations < maxIter; iterations++) {
    const q = stepper.measure();
    if (q !== q) throw new PmfError(`Q became NaN at iteration ${iterations}: check the uncertainties for zeros`);
    history[iterations % window] = q;
    if (iterations >= window && history[(iterations + 1) % window] - q < delta) {
      converged = true;
      break;
    }
    if (options.onIteration && iterations % 50 === 0 && options.onIteration(iterations, q) === false) break;
    stepper.update(!options.fixProfiles);
  }
  const g = Float64Array.from(stepper.g), f = stepper.f();
  const { qTrue, qRobust } = qOf(x, u, g, f, n, m, k, alpha);
  return { n, m, k, g, f, qTrue, qRobust, iterations, converged, method, seed, stream };
}

/**
 * ESAT's column-mean start: F = √(mean of each species / k)·|N(0,1)|,
 * G = √(mean of each sample / k)·|N(0,1)|, unless given.
 */
function initialise(stepper: Stepper, x: Float64Array, n: number, m: number, k: number, rng: Random, given: Pick<SolveOptions, "initF" | "initG">) {
  const colMean = new Float64Array(m), rowMean = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) (colMean[j] += x[i * m + j] / n), (rowMean[i] += x[i * m + j] / m);
  const positive = (v: number) => Math.max(v, 1e-12);
  const f = given.initF ?? Float64Array.from({ length: k * m }, (_, i) => positive(Math.sqrt(colMean[i % m] / k) * Math.abs(rng.normal())));
  if (f.length !== k * m) throw new PmfError(`initial profiles hold ${f.length} values, not ${k} factors × ${m} species`);
  const g = given.initG ?? Float64Array.from({ length: n * k }, (_, i) => positive(Math.sqrt(rowMean[Math.floor(i / k)] / k) * Math.abs(rng.normal())));
  if (g.length !== n * k) throw new PmfError(`initial contributions hold ${g.length} values, not ${n} samples × ${k} factors`);
  stepper.setF(f);
  stepper.g.set(g);
}

/** The lowest Q(robust) among converged runs (among all when none converged); ties to the earlier stream. */
export function pickBest(runs: Solution[]): Solution {
  const pool = runs.some((r) => r.converged) ? runs.filter((r) => r.converged) : runs;
  return pool.reduce((a, b) => (b.qRobust < a.qRobust ? b : a));
}

/** Q expected (EPA PMF 5.0): strong values less the number of elements of G and F. */
export const qExpected = (n: number, strongSpecies: number, k: number, m: number) => n * strongSpecies - k * (n + m);
