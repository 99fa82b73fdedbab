/**
 * Time accumulators: what a piece of a series (a slab of time steps) adds to
 * each output group, in float64 with valid counts. Pieces merge in a fixed
 * order, so a result does not depend on how many engines computed it.
 *
 * Data are [steps, cells] with NaN for missing values.
 */
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

export function newGroup(group: number, cells: number, stat: Stat, weighted = false): GroupAcc {
  const g: GroupAcc = { group, steps: 0, weight: 0, missing: new Float64Array(cells) };
  if (weighted) g.missingWeight = new Float64Array(cells);
  if (needsSums(stat)) g.sum = new Float64Array(cells);
  if (needsMoments(stat)) (g.mean = new Float64Array(cells)), (g.m2 = new Float64Array(cells));
  if (stat === "min") g.extreme = new Float64Array(cells).fill(Infinity);
  if (stat === "max") g.extreme = new Float64Array(cells).fill(-Infinity);
  return g;
}

/** Valid values of cell j. */
const validOf = (g: GroupAcc, j: number) => g.steps - g.missing[j];

/**
 * Adds steps [0, steps) of `data` to their groups: step t goes to
 * `groups[groupOf[t]]` with weight `weights?.[t] ?? 1`.
 */
export function accumulate(data: ArrayLike<number>, cells: number, stat: Stat, groupOf: ArrayLike<number>, weights: ArrayLike<number> | undefined, groups: Map<number, GroupAcc>) {
  const steps = groupOf.length;
  for (let t = 0; t < steps; t++) {
    const key = groupOf[t];
    let g = groups.get(key);
    if (!g) groups.set(key, (g = newGroup(key, cells, stat, !!weights)));
    const w = weights ? weights[t] : 1;
    g.steps++;
    g.weight += w;
    if (g.sum) (weights ? addWeighted : addSum)(data, t * cells, cells, w, g);
    else addStep(data, t * cells, cells, stat, g);
  }
}

function addSum(x: ArrayLike<number>, base: number, n: number, _w: number, g: GroupAcc) {
  const sum = g.sum!, missing = g.missing;
  for (let j = 0; j < n; j++) {
    const v = x[base + j];
    if (v === v) sum[j] += v;
    else missing[j]++;
  }
}

function addWeighted(x: ArrayLike<number>, base: number, n: number, w: number, g: GroupAcc) {
  const sum = g.sum!, missing = g.missing, missingWeight = g.missingWeight!;
  for (let j = 0; j < n; j++) {
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
  for (let j = 0; j < n; j++) {
    const c = validOf(g, j);
    if (c < need || (stat === "avg" && c < g.steps)) {
      out[j] = NaN;
      continue;
    }
    switch (stat) {
      case "mean": case "avg": out[j] = g.sum![j] / (g.missingWeight ? g.weight - g.missingWeight[j] : c); break;
      case "sum": out[j] = g.sum![j]; break;
      case "std": out[j] = Math.sqrt(g.m2![j] / c); break;
      case "var": out[j] = g.m2![j] / c; break;
      case "std1": out[j] = c > 1 ? Math.sqrt(g.m2![j] / (c - 1)) : NaN; break;
      case "var1": out[j] = c > 1 ? g.m2![j] / (c - 1) : NaN; break;
      default: out[j] = g.extreme![j];
    }
  }
  return out;
}
