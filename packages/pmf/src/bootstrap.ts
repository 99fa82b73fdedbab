/**
 * Block bootstrap of a PMF solution (EPA PMF 5.0's BS, ESAT's bootstrap.py):
 * each replicate resamples the samples in circular blocks of consecutive rows
 * (every block drawable), refits from the base case's profiles and
 * contributions, and maps its factors one-to-one onto the base factors by the
 * correlation of contributions (optimal assignment; unmapped below r = 0.6).
 * Replicate r draws from the random stream (seed, −1 − r), apart from the
 * base runs' streams (seed, r), so results do not depend on who computes it.
 */
import { solve, type SolveOptions, type Solution } from "./solver.ts";
import { Random } from "./random.ts";
import { PmfError } from "./errors.ts";

/** What a replicate sends back: small, the profiles and how they map. */
export interface Replicate {
  replicate: number;
  /** Profiles [k, m] of the replicate's own factors. */
  f: Float64Array;
  /** Total contribution of each of the replicate's factors (for % of species). */
  totals: Float64Array;
  /** mapping[base factor] = the replicate factor mapped to it, or −1 (unmapped). */
  mapping: Int32Array;
  /** Correlation of each base factor's contributions with its mapped factor's (NaN when unmapped). */
  r: Float64Array;
  qTrue: number;
  qRobust: number;
  iterations: number;
  converged: boolean;
}

export interface ReplicateSpec {
  x: Float64Array;
  u: Float64Array;
  n: number;
  m: number;
  base: Pick<Solution, "g" | "f" | "k">;
  block: number;
  seed: number;
  threshold: number;
  options: Omit<SolveOptions, "onIteration" | "initF" | "initG" | "factors" | "seed" | "stream">;
}

export const bootstrapStream = (r: number) => -1 - r;

/** The rows of replicate r: circular blocks of `block` consecutive samples starting anywhere, n in all. */
export function resampleRows(n: number, block: number, rng: Random): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; ) {
    const start = rng.int(n);
    for (let b = 0; b < block && i < n; b++, i++) rows[i] = (start + b) % n;
  }
  return rows;
}

/** One replicate: resample, refit from the base case, map. */
export function replicate(spec: ReplicateSpec, r: number, shouldGoOn?: () => boolean): Replicate {
  const { x, u, n, m, base, block, seed, threshold } = spec;
  const k = base.k;
  const rows = resampleRows(n, block, new Random(seed, bootstrapStream(r)));
  const xb = new Float64Array(n * m), ub = new Float64Array(n * m), gb = new Float64Array(n * k);
  rows.forEach((row, i) => {
    xb.set(x.subarray(row * m, (row + 1) * m), i * m);
    ub.set(u.subarray(row * m, (row + 1) * m), i * m);
    gb.set(base.g.subarray(row * k, (row + 1) * k), i * k);
  });
  const s = solve(xb, ub, n, m, { ...spec.options, factors: k, seed, stream: bootstrapStream(r), initF: base.f, initG: gb, onIteration: shouldGoOn && (() => shouldGoOn()) });
  const corr = correlations(gb, s.g, n, k);
  const assigned = assignment(corr, k);
  const mapping = new Int32Array(k).fill(-1), rs = new Float64Array(k).fill(NaN);
  for (let c = 0; c < k; c++) {
    const e = assigned[c], v = corr[c * k + e];
    if (v >= threshold) (mapping[c] = e), (rs[c] = v);
  }
  return { replicate: r, f: s.f, totals: factorTotals(s.g, n, k), mapping, r: rs, qTrue: s.qTrue, qRobust: s.qRobust, iterations: s.iterations, converged: s.converged };
}

/** corr[c·k + e]: the correlation of contributions of factor c of `a` and factor e of `b` (both n × k). */
export function correlations(a: Float64Array, b: Float64Array, n: number, k: number): Float64Array {
  const corr = new Float64Array(k * k);
  for (let c = 0; c < k; c++) for (let e = 0; e < k; e++) corr[c * k + e] = pearson(a, c, b, e, n, k);
  return corr;
}

function pearson(a: Float64Array, ca: number, b: Float64Array, cb: number, n: number, k: number): number {
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i * k + ca]), (mb += b[i * k + cb]);
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i * k + ca] - ma, db = b[i * k + cb] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/**
 * The one-to-one assignment of rows to columns of a k × k score matrix with
 * the largest total (Hungarian method with potentials, O(k³)); out[row] = column.
 */
export function assignment(score: Float64Array, k: number): Int32Array {
  const cost = (i: number, j: number) => -score[(i - 1) * k + (j - 1)];
  const rowPot = new Float64Array(k + 1), colPot = new Float64Array(k + 1);
  const owner = new Int32Array(k + 1), way = new Int32Array(k + 1); // owner[col] = row (1-based, 0 = none)
  for (let i = 1; i <= k; i++) {
    owner[0] = i;
    let j0 = 0;
    const minv = new Float64Array(k + 1).fill(Infinity), used = new Uint8Array(k + 1);
    do {
      used[j0] = 1;
      const i0 = owner[j0];
      let delta = Infinity, j1 = 0;
      for (let j = 1; j <= k; j++) {
        if (used[j]) continue;
        const reduced = cost(i0, j) - rowPot[i0] - colPot[j];
        if (reduced < minv[j]) (minv[j] = reduced), (way[j] = j0);
        if (minv[j] < delta) (delta = minv[j]), (j1 = j);
      }
      for (let j = 0; j <= k; j++) {
        if (used[j]) (rowPot[owner[j]] += delta), (colPot[j] -= delta);
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    do {
      const j1 = way[j0];
      owner[j0] = owner[j1];
      j0 = j1;
    } while (j0);
  }
  const out = new Int32Array(k);
  for (let j = 1; j <= k; j++) out[owner[j] - 1] = j - 1;
  return out;
}

/**
 * Politis & White's (2004, corrected by Patton, Politis & White 2009)
 * optimal block length for the circular block bootstrap of one series: the
 * autocovariances up to the first lag followed by kn insignificant
 * autocorrelations (doubled), weighted by the flat-top kernel.
 */
export function optimalBlock(series: ArrayLike<number>): number {
  const n = series.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += series[i] / n;
  const e = Float64Array.from(series, (v) => v - mean);
  const bMax = Math.ceil(Math.min(3 * Math.sqrt(n), n / 3));
  const kn = Math.max(5, Math.floor(Math.log10(n)));
  const mMax = Math.ceil(Math.sqrt(n)) + kn;
  const critical = 2 * Math.sqrt(Math.log10(n) / n);
  const acv = new Float64Array(mMax + 1), acorr = new Float64Array(mMax + 1);
  const dot = (a0: number, b0: number, len: number) => {
    let s = 0;
    for (let i = 0; i < len; i++) s += e[a0 + i] * e[b0 + i];
    return s;
  };
  let lag: number | undefined;
  for (let h = 0; h <= mMax; h++) {
    const cross = dot(h, 0, n - h);
    acv[h] = cross / n;
    // (normalised as arch does, by the sums of squares one lag further)
    acorr[h] = Math.abs(cross) / Math.sqrt(dot(h + 1, h + 1, n - h - 1) * dot(0, 0, n - h - 1));
    if (h >= kn && lag === undefined && acorr.subarray(h - kn, h).every((v) => v < critical)) lag = h - kn;
  }
  const M = Math.min(lag === undefined ? mMax : 2 * Math.max(lag, 1), mMax);
  let g = 0, longRun = acv[0];
  for (let h = 1; h <= M; h++) {
    const weight = h / M <= 0.5 ? 1 : 2 * (1 - h / M);
    g += 2 * weight * h * acv[h];
    longRun += 2 * weight * acv[h];
  }
  const dCircular = (4 / 3) * longRun * longRun;
  return Math.min(((2 * g * g) / dCircular) ** (1 / 3) * n ** (1 / 3), bMax);
}

/** The block length for a samples × species table: the mean of the species' optimal lengths, rounded down (as ESAT), at least 1. */
export function blockLength(x: Float64Array, n: number, m: number): number {
  if (n < 4) throw new PmfError(`${n} samples are too few to bootstrap`);
  let sum = 0;
  for (let j = 0; j < m; j++) sum += optimalBlock(Float64Array.from({ length: n }, (_, i) => x[i * m + j]));
  return Math.max(1, Math.floor(sum / m));
}

export interface ElementStats {
  mean: number;
  sd: number;
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

export interface BootstrapSummary {
  replicates: number;
  block: number;
  /** Share of replicates in which each base factor was mapped. */
  mapped: number[];
  /** counts[base factor][replicate factor], and the unmapped count last. */
  mappingTable: number[][];
  /** Base factors mapped in fewer than 80% of replicates. */
  unstable: number[];
  /** Per base factor and species, over the replicates that mapped it: concentrations and % of species. */
  profiles: ElementStats[][];
  percent: ElementStats[][];
  qRobust: { min: number; p25: number; p50: number; p75: number; max: number };
  converged: number;
}

/** Percentile p (0–100) of sorted values, linear between ranks (numpy's default). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  const at = ((sorted.length - 1) * p) / 100, lo = Math.floor(at), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

function stats(values: number[]): ElementStats {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(sorted.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : NaN;
  const [p5, p25, p50, p75, p95] = [5, 25, 50, 75, 95].map((p) => percentile(sorted, p));
  return { mean, sd, p5, p25, p50, p75, p95 };
}

/** Each factor's total contribution over the samples (the column sums of G, n × k). */
export function factorTotals(g: Float64Array, n: number, k: number): Float64Array {
  const totals = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) totals[c] += g[i * k + c];
  return totals;
}

/** A solution's profiles as % of each species. */
export const percentOfSolution = (s: Pick<Solution, "f" | "g" | "n" | "k" | "m">) => percentOfSpecies(s.f, factorTotals(s.g, s.n, s.k), s.k, s.m);

/** % of species of each factor: 100·f[c,j]·total[c] / Σ_q f[q,j]·total[q]. */
export function percentOfSpecies(f: Float64Array, totals: ArrayLike<number>, k: number, m: number): Float64Array {
  const out = new Float64Array(k * m);
  for (let j = 0; j < m; j++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += f[c * m + j] * totals[c];
    for (let c = 0; c < k; c++) out[c * m + j] = sum > 0 ? (100 * f[c * m + j] * totals[c]) / sum : 0;
  }
  return out;
}

/** The statistics of a set of replicates, each factor's taken from the replicate factor mapped to it. */
export function summarise(reps: Replicate[], k: number, m: number, block: number): BootstrapSummary {
  const mappingTable = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  const conc = Array.from({ length: k * m }, () => [] as number[]), pct = Array.from({ length: k * m }, () => [] as number[]);
  for (const rep of reps) {
    const p = percentOfSpecies(rep.f, rep.totals, k, m);
    for (let c = 0; c < k; c++) {
      const e = rep.mapping[c];
      mappingTable[c][e < 0 ? k : e]++;
      if (e < 0) continue;
      for (let j = 0; j < m; j++) conc[c * m + j].push(rep.f[e * m + j]), pct[c * m + j].push(p[e * m + j]);
    }
  }
  const mapped = mappingTable.map((row) => (reps.length - row[k]) / reps.length);
  const table = (values: number[][]) => Array.from({ length: k }, (_, c) => Array.from({ length: m }, (_, j) => stats(values[c * m + j])));
  const q = Float64Array.from(reps, (r) => r.qRobust).sort();
  return {
    replicates: reps.length, block, mapped, mappingTable,
    unstable: mapped.flatMap((v, c) => (v < 0.8 ? [c] : [])),
    profiles: table(conc), percent: table(pct),
    qRobust: { min: q[0], p25: percentile(q, 25), p50: percentile(q, 50), p75: percentile(q, 75), max: q[q.length - 1] },
    converged: reps.filter((r) => r.converged).length,
  };
}
