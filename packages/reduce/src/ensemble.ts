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
  if (stat === "mean" || stat === "avg") {
    // the common case without gathering: statOf's sums, in its order
    for (let i = 0; i < n; i++) {
      let k = 0, s = 0;
      for (let j = 0; j < m; j++) {
        const x = members[j][i];
        if (x === x) (s += x), k++;
      }
      out[i] = k === 0 || (stat === "avg" && k < m) ? NaN : s / k;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let j = 0; j < m; j++) {
      const x = members[j][i];
      if (x === x) v[k++] = x;
    }
    out[i] = k === 0 ? NaN : stat === "pctl" ? percentile(v.subarray(0, k), param!) : statOf(v, ones, k, stat, k);
  }
  return out;
}
