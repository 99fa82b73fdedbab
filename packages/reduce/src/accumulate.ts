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
  /** Valid values per cell. */
  count: Float64Array;
  /** Σw and Σw·x over valid values (mean, avg, sum). */
  wsum?: Float64Array;
  sum?: Float64Array;
  /** Running mean and Σ(x−mean)² (Welford; std, var). */
  mean?: Float64Array;
  m2?: Float64Array;
  /** min or max. */
  extreme?: Float64Array;
}

const needsSums = (s: Stat) => s === "mean" || s === "avg" || s === "sum";
const needsMoments = (s: Stat) => s === "std" || s === "std1" || s === "var" || s === "var1";

export function newGroup(group: number, cells: number, stat: Stat): GroupAcc {
  const g: GroupAcc = { group, steps: 0, weight: 0, count: new Float64Array(cells) };
  if (needsSums(stat)) (g.wsum = new Float64Array(cells)), (g.sum = new Float64Array(cells));
  if (needsMoments(stat)) (g.mean = new Float64Array(cells)), (g.m2 = new Float64Array(cells));
  if (stat === "min") g.extreme = new Float64Array(cells).fill(Infinity);
  if (stat === "max") g.extreme = new Float64Array(cells).fill(-Infinity);
  return g;
}

/**
 * Adds steps [0, steps) of `data` to their groups: step t goes to
 * `groups[groupOf[t]]` with weight `weights?.[t] ?? 1`.
 */
export function accumulate(data: ArrayLike<number>, cells: number, stat: Stat, groupOf: ArrayLike<number>, weights: ArrayLike<number> | undefined, groups: Map<number, GroupAcc>) {
  const steps = groupOf.length;
  for (let t = 0; t < steps; t++) {
    const key = groupOf[t];
    let g = groups.get(key);
    if (!g) groups.set(key, (g = newGroup(key, cells, stat)));
    const w = weights ? weights[t] : 1;
    g.steps++;
    g.weight += w;
    addStep(data, t * cells, cells, w, stat, g);
  }
}

function addStep(x: ArrayLike<number>, base: number, n: number, w: number, stat: Stat, g: GroupAcc) {
  const count = g.count;
  if (g.sum) {
    const sum = g.sum, wsum = g.wsum!;
    if (w === 1) {
      for (let j = 0; j < n; j++) {
        const v = x[base + j];
        if (v === v) (sum[j] += v), (wsum[j] += 1), count[j]++;
      }
    } else {
      for (let j = 0; j < n; j++) {
        const v = x[base + j];
        if (v === v) (sum[j] += w * v), (wsum[j] += w), count[j]++;
      }
    }
  } else if (g.mean) {
    const mean = g.mean, m2 = g.m2!;
    for (let j = 0; j < n; j++) {
      const v = x[base + j];
      if (v !== v) continue;
      const c = ++count[j];
      const d = v - mean[j];
      mean[j] += d / c;
      m2[j] += d * (v - mean[j]);
    }
  } else if (g.extreme) {
    const e = g.extreme;
    if (stat === "min") {
      for (let j = 0; j < n; j++) {
        const v = x[base + j];
        if (v === v) (count[j]++, v < e[j] && (e[j] = v));
      }
    } else {
      for (let j = 0; j < n; j++) {
        const v = x[base + j];
        if (v === v) (count[j]++, v > e[j] && (e[j] = v));
      }
    }
  }
}

/** Adds `b` into `a` (the same group): sums add, Welford moments combine (Chan et al.), extremes compare. */
export function merge(a: GroupAcc, b: GroupAcc, stat: Stat) {
  const n = a.count.length;
  if (a.mean) {
    const am = a.mean, am2 = a.m2!, bm = b.mean!, bm2 = b.m2!;
    for (let j = 0; j < n; j++) {
      const na = a.count[j], nb = b.count[j];
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
  if (a.sum) for (let j = 0; j < n; j++) (a.sum[j] += b.sum![j]), (a.wsum![j] += b.wsum![j]);
  if (a.extreme) {
    const max = stat === "max";
    for (let j = 0; j < n; j++) {
      const x = b.extreme![j];
      if (!b.count[j]) continue;
      if (!a.count[j] || (max ? x > a.extreme[j] : x < a.extreme[j])) a.extreme[j] = x;
    }
  }
  for (let j = 0; j < n; j++) a.count[j] += b.count[j];
  a.steps += b.steps;
  a.weight += b.weight;
}

/**
 * A group's statistic per cell (NaN where missing): `mean` needs one valid
 * value, `avg` needs all, and every statistic needs at least `minValid` (a
 * fraction of the group's steps) valid values.
 */
export function finish(g: GroupAcc, stat: Stat, minValid = 0, out = new Float64Array(g.count.length)): Float64Array {
  const n = g.count.length, need = Math.max(1, Math.ceil(minValid * g.steps - 1e-9));
  for (let j = 0; j < n; j++) {
    const c = g.count[j];
    if (c < need || (stat === "avg" && c < g.steps)) {
      out[j] = NaN;
      continue;
    }
    switch (stat) {
      case "mean": case "avg": out[j] = g.sum![j] / g.wsum![j]; break;
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
