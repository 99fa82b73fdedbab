/**
 * Statistics of a set of values (the cells of a field, the members of an
 * ensemble at one point), with CDO's definitions.
 */
import { ReduceError } from "./errors.ts";
import type { Stat } from "./operators.ts";

/** A weighted statistic of the first n values; `avg` is missing unless all `size` values are valid. */
export function statOf(x: Float64Array, w: Float64Array, n: number, stat: Stat, size: number): number {
  switch (stat) {
    case "avg": case "mean": {
      if (stat === "avg" && n < size) return NaN;
      let s = 0, ws = 0;
      for (let i = 0; i < n; i++) (s += w[i] * x[i]), (ws += w[i]);
      return s / ws;
    }
    case "sum": {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i];
      return s;
    }
    case "min": case "max": {
      let e = x[0];
      for (let i = 1; i < n; i++) if (stat === "min" ? x[i] < e : x[i] > e) e = x[i];
      return e;
    }
    case "std": case "std1": case "var": case "var1": {
      let s = 0, ws = 0;
      for (let i = 0; i < n; i++) (s += w[i] * x[i]), (ws += w[i]);
      const mean = s / ws;
      let ss = 0, w2 = 0;
      for (let i = 0; i < n; i++) (ss += w[i] * (x[i] - mean) ** 2), (w2 += w[i] * w[i]);
      // std1 as CDO: the unbiased estimate for reliability weights, divisor Σw − Σw²/Σw (n − 1 for equal weights)
      const v = stat === "std" || stat === "var" ? ss / ws : n > 1 ? ss / (ws - w2 / ws) : NaN;
      return stat === "std" || stat === "std1" ? Math.sqrt(v) : v;
    }
    default: throw new ReduceError(`${stat} is not a statistic of weighted values`);
  }
}

/** Percentile p of values by nearest rank, CDO's default: the ⌈p/100·n⌉-th smallest (the smallest for p = 0). */
export function percentile(values: Float64Array, p: number): number {
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length - 1e-9))) - 1];
}
