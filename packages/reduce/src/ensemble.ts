/**
 * Statistics across ensemble members, value by value (CDO's ens* operators):
 * members that are missing at a point are left out; `avg` is missing there.
 */
import { ReduceError } from "./errors.ts";
import type { Stat } from "./operators.ts";

export function ensembleStat(members: ArrayLike<number>[], stat: Stat, param?: number): Float64Array {
  const n = members[0].length, m = members.length;
  if (members.some((x) => x.length !== n)) throw new ReduceError("ensemble members differ in size");
  const out = new Float64Array(n), v = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let j = 0; j < m; j++) {
      const x = members[j][i];
      if (x === x) v[k++] = x;
    }
    out[i] = k === 0 || (stat === "avg" && k < m) ? NaN : combine(v, k, stat, param);
  }
  return out;
}

function combine(v: Float64Array, k: number, stat: Stat, param?: number): number {
  let s = 0;
  switch (stat) {
    case "mean": case "avg": case "sum":
      for (let i = 0; i < k; i++) s += v[i];
      return stat === "sum" ? s : s / k;
    case "min": case "max": {
      let e = v[0];
      for (let i = 1; i < k; i++) if (stat === "min" ? v[i] < e : v[i] > e) e = v[i];
      return e;
    }
    case "std": case "std1": case "var": case "var1": {
      for (let i = 0; i < k; i++) s += v[i];
      const mean = s / k;
      let ss = 0;
      for (let i = 0; i < k; i++) ss += (v[i] - mean) ** 2;
      const d = stat === "std" || stat === "var" ? k : k - 1;
      if (d <= 0) return NaN;
      return stat.startsWith("std") ? Math.sqrt(ss / d) : ss / d;
    }
    case "pctl": return percentile(v.subarray(0, k), param!);
  }
}

/** Percentile p of values by nearest rank, CDO's default: the ⌈p/100·n⌉-th smallest (the smallest for p = 0). */
export function percentile(values: Float64Array, p: number): number {
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length - 1e-9))) - 1];
}
