/**
 * Time accumulators: what a piece of a series (a slab of time steps) adds to
 * each output group, in float64 with valid counts. Pieces merge in a fixed
 * order, so a result does not depend on how many engines computed it.
 *
 * Data are [steps, cells] with NaN for missing values.
 */
import type { SumArena } from "./kernels/sums.ts";
import type { Stat } from "./operators.ts";

/** One output group's partial statistic over `cells` cells. */
export interface GroupAcc {
  /** Group index in the plan. */
  group: number;
  /** Steps that fell in this group (valid or not), and their summed weight. */
  steps: number;
  weight: number;
  /** Missing values per cell, and their summed weight: valid values are rare to miss, so the common path stores one sum. */
  missing: Float64Array;
  missingWeight?: Float64Array;
  /** Σw·x over valid values (mean, avg, sum). */
  sum?: Float64Array;
  /** Running mean and Σ(x−mean)² (Welford; std, var). */
  mean?: Float64Array;
  m2?: Float64Array;
  /** min or max. */
  extreme?: Float64Array;
}

const needsSums = (s: Stat) => s === "mean" || s === "avg" || s === "sum";
const needsMoments = (s: Stat) => s === "std" || s === "std1" || s === "var" || s === "var1";

/** Float64 arrays a group's sums and counts go in: in a SumArena, the kernel adds to them. */
type Allocate = (cells: number) => Float64Array;
const plain: Allocate = (cells) => new Float64Array(cells);

/** Float64 arrays a piece's accumulators take: what `arena.create` needs room for. */
export const arraysPerGroup = (stat: Stat, weighted: boolean) => (needsSums(stat) ? 2 + +weighted : 0);

export function newGroup(group: number, cells: number, stat: Stat, weighted = false, arena?: SumArena): GroupAcc {
  const allocate = arena && needsSums(stat) ? (n: number) => arena.float64(n) : plain;
  const g: GroupAcc = { group, steps: 0, weight: 0, missing: allocate(cells) };
  if (weighted) g.missingWeight = allocate(cells);
  if (needsSums(stat)) g.sum = allocate(cells);
  if (needsMoments(stat)) (g.mean = new Float64Array(cells)), (g.m2 = new Float64Array(cells));
  if (stat === "min") g.extreme = new Float64Array(cells).fill(Infinity);
  if (stat === "max") g.extreme = new Float64Array(cells).fill(-Infinity);
  return g;
}

/** Valid values of cell j. */
const validOf = (g: GroupAcc, j: number) => g.steps - g.missing[j];

/**
 * Adds steps [0, steps) of `data` to their groups: step t goes to
 * `groups[groupOf[t]]` with weight `weights?.[t] ?? 1`. Sums of data and
 * groups in `arena` are done by its kernel.
 */
export function accumulate(data: ArrayLike<number>, cells: number, stat: Stat, groupOf: ArrayLike<number>, weights: ArrayLike<number> | undefined, groups: Map<number, GroupAcc>, arena?: SumArena) {
  const steps = groupOf.length;
  for (let t = 0; t < steps; t++) {
    const key = groupOf[t];
    let g = groups.get(key);
    if (!g) groups.set(key, (g = newGroup(key, cells, stat, !!weights, arena)));
    const w = weights ? weights[t] : 1;
    g.steps++;
    g.weight += w;
    if (g.sum) {
      const done = arena ? arena.add(data, t * cells, cells, weights && w, g.sum, g.missing, g.missingWeight) : 0;
      (weights ? addWeighted : addSum)(data, t * cells, cells, w, g, done);
    } else addStep(data, t * cells, cells, stat, g);
  }
}

/** Cells [from, n) of a step. */
function addSum(x: ArrayLike<number>, base: number, n: number, _w: number, g: GroupAcc, from = 0) {
  const sum = g.sum!, missing = g.missing;
  for (let j = from; j < n; j++) {
    const v = x[base + j];
    if (v === v) sum[j] += v;
    else missing[j]++;
  }
}

function addWeighted(x: ArrayLike<number>, base: number, n: number, w: number, g: GroupAcc, from = 0) {
  const sum = g.sum!, missing = g.missing, missingWeight = g.missingWeight!;
  for (let j = from; j < n; j++) {
    const v = x[base + j];
    if (v === v) sum[j] += w * v;
    else (missing[j]++, (missingWeight[j] += w));
  }
}

function addStep(x: ArrayLike<number>, base: number, n: number, stat: Stat, g: GroupAcc) {
  const missing = g.missing;
  if (g.mean) {
    const mean = g.mean, m2 = g.m2!;
    for (let j = 0; j < n; j++) {
      const v = x[base + j];
      if (v !== v) {
        missing[j]++;
        continue;
      }
      const c = validOf(g, j);
      const d = v - mean[j];
      mean[j] += d / c;
      m2[j] += d * (v - mean[j]);
    }
  } else {
    const e = g.extreme!;
    for (let j = 0; j < n; j++) {
      const v = x[base + j];
      if (v !== v) missing[j]++;
      else if (stat === "min" ? v < e[j] : v > e[j]) e[j] = v;
    }
  }
}

/** Adds `b` into `a` (the same group): sums add, Welford moments combine (Chan et al.), extremes compare. */
export function merge(a: GroupAcc, b: GroupAcc, stat: Stat) {
  const n = a.missing.length;
  if (a.mean) {
    const am = a.mean, am2 = a.m2!, bm = b.mean!, bm2 = b.m2!;
    for (let j = 0; j < n; j++) {
      const na = validOf(a, j), nb = validOf(b, j);
      if (!nb) continue;
      if (!na) {
        am[j] = bm[j];
        am2[j] = bm2[j];
        continue;
      }
      const nn = na + nb, d = bm[j] - am[j];
      am[j] += (d * nb) / nn;
      am2[j] += bm2[j] + (d * d * na * nb) / nn;
    }
  }
  if (a.sum) for (let j = 0; j < n; j++) a.sum[j] += b.sum![j];
  if (a.extreme) {
    for (let j = 0; j < n; j++) {
      const x = b.extreme![j];
      if (!validOf(b, j)) continue;
      if (!validOf(a, j) || (stat === "max" ? x > a.extreme[j] : x < a.extreme[j])) a.extreme[j] = x;
    }
  }
  for (let j = 0; j < n; j++) a.missing[j] += b.missing[j];
  if (a.missingWeight) for (let j = 0; j < n; j++) a.missingWeight[j] += b.missingWeight![j];
  a.steps += b.steps;
  a.weight += b.weight;
}

/**
 * A group's statistic per cell (NaN where missing): `mean` needs one valid
 * value, `avg` needs all, and every statistic needs at least `minValid` (a
 * fraction of the group's steps) valid values.
 */
export function finish(g: GroupAcc, stat: Stat, minValid = 0, out = new Float64Array(g.missing.length)): Float64Array {
  const n = g.missing.length, need = Math.max(1, Math.ceil(minValid * g.steps - 1e-9));
  const least = stat === "avg" ? Math.max(need, g.steps) : need;
  const { missing, missingWeight: mw, sum, m2, extreme } = g;
  // one plain loop per statistic: this runs over every cell of every group
  if (sum && mw) for (let j = 0; j < n; j++) out[j] = g.steps - missing[j] < least ? NaN : stat === "sum" ? sum[j] : sum[j] / (g.weight - mw[j]);
  else if (sum) for (let j = 0; j < n; j++) {
    const c = g.steps - missing[j];
    out[j] = c < least ? NaN : stat === "sum" ? sum[j] : sum[j] / c;
  }
  else if (m2) {
    const unbiased = stat === "std1" || stat === "var1", root = stat === "std" || stat === "std1";
    for (let j = 0; j < n; j++) {
      const c = g.steps - missing[j];
      const v = c < least || (unbiased && c < 2) ? NaN : m2[j] / (unbiased ? c - 1 : c);
      out[j] = root ? Math.sqrt(v) : v;
    }
  } else for (let j = 0; j < n; j++) out[j] = g.steps - missing[j] < least ? NaN : extreme![j];
  return out;
}
