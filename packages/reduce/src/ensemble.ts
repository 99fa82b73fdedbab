/**
 * Statistics across ensemble members, value by value (CDO's ens* operators):
 * members that are missing at a point are left out; `avg` is missing there.
 */
import { ReduceError } from "./errors.ts";
import type { Stat } from "./operators.ts";
import { percentile, statOf } from "./stats.ts";

export function ensembleStat(members: ArrayLike<number>[], stat: Stat, param?: number): Float64Array {
  const n = members[0].length, m = members.length;
  if (members.some((x) => x.length !== n)) throw new ReduceError("ensemble members differ in size");
  const out = new Float64Array(n), v = new Float64Array(m), ones = new Float64Array(m).fill(1);
  // means add up as they go, in statOf's order; other statistics gather the valid values first
  const mean = stat === "mean" || stat === "avg";
  for (let i = 0; i < n; i++) {
    let k = 0, s = 0;
    for (let j = 0; j < m; j++) {
      const x = members[j][i];
      if (x !== x) continue;
      if (mean) s += x;
      else v[k] = x;
      k++;
    }
    out[i] = k === 0 || (stat === "avg" && k < m) ? NaN : mean ? s / k : stat === "pctl" ? percentile(v.subarray(0, k), param!) : statOf(v, ones, k, stat, k);
  }
  return out;
}
