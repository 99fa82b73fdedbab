/**
 * Displacement (DISP, EPA PMF 5.0): each profile element is pushed up and
 * down until Q rises by dQmax = 4, 8, 16 and 32, with the contributions
 * re-fitted at each value. The other profile elements are held: freeing them
 * too, as PMF 5.0 does, would need its normalisation of the factors, or a
 * factor could rescale around the displaced element at no cost; ESAT re-fits
 * nothing. A factor swap (the re-fitted contributions no longer map
 * one-to-one onto the base) at dQmax = 4 means the solution is not well
 * defined, and any drop of Q means the base case was not the global minimum.
 * ΔQ grows about quadratically with the displacement, so each target is
 * found by interpolating √ΔQ within a bracket (a few re-fits, not bisection).
 */
import { assignment, correlations } from "./bootstrap.ts";
import { PmfError } from "./errors.ts";
import { solve, type SolveOptions, type Solution } from "./solver.ts";

export const DQ_MAX = [4, 8, 16, 32] as const;

export interface ElementDisplacement {
  factor: number;
  species: number;
  base: number;
  /** The element's value where ΔQ reaches each dQmax, below and above the base (low is 0 where even 0 costs less). */
  low: number[];
  high: number[];
  /** Whether the re-fit at that value swapped factors. */
  swapLow: boolean[];
  swapHigh: boolean[];
  /** The smallest ΔQ met (negative: a lower minimum exists). */
  smallestDQ: number;
  refits: number;
}

export interface DisplacementSpec {
  x: Float64Array;
  u: Float64Array;
  n: number;
  m: number;
  base: Pick<Solution, "g" | "f" | "k">;
  options: Omit<SolveOptions, "onIteration" | "initF" | "initG" | "factors" | "fixProfiles">;
}

/** Re-fitting the contributions alone from the base ones settles in a few iterations. */
const REFIT = { delta: 0.01, window: 5, maxIter: 500 };

export function displaceElement(spec: DisplacementSpec, factor: number, species: number, shouldGoOn: () => boolean = () => true): ElementDisplacement {
  const { x, u, n, m, base } = spec;
  const k = base.k, at = factor * m + species, v0 = base.f[at];
  if (!(Number.isInteger(factor) && factor >= 0 && factor < k && Number.isInteger(species) && species >= 0 && species < m)) {
    throw new PmfError(`no profile element (factor ${factor}, species ${species}): there are ${k} factors and ${m} species`);
  }
  let refits = 0;
  const refit = (value: number) => {
    refits++;
    const f = Float64Array.from(base.f);
    f[at] = value;
    const s = solve(x, u, n, m, { ...REFIT, ...spec.options, factors: k, initF: f, initG: base.g, fixProfiles: true, onIteration: shouldGoOn });
    return { q: spec.options.robust === false ? s.qTrue : s.qRobust, swapped: swapped(base.g, s.g, n, k) };
  };
  const q0 = refit(v0).q;
  const points: { v: number; dq: number; swapped: boolean }[] = [{ v: v0, dq: 0, swapped: false }];
  const evaluate = (v: number) => {
    const r = refit(v), p = { v, dq: r.q - q0, swapped: r.swapped };
    points.push(p);
    return p;
  };
  // up: double the step until ΔQ passes the largest target
  let column = 0;
  for (let c = 0; c < k; c++) column = Math.max(column, base.f[c * m + species]);
  let step = Math.max(v0, column / 10, Number.MIN_VALUE) / 2;
  for (let tries = 0; tries < 20 && evaluate(v0 + step).dq < DQ_MAX[3]; tries++) step *= 2;
  // down: 0 is as far as it goes
  const zero = v0 > 0 ? evaluate(0) : undefined;
  const out: ElementDisplacement = { factor, species, base: v0, low: [], high: [], swapLow: [], swapHigh: [], smallestDQ: 0, refits: 0 };
  for (const target of DQ_MAX) {
    const hi = find(points.filter((p) => p.v >= v0), target, evaluate, v0);
    out.high.push(hi.dq >= 0.95 * target ? hi.v : Infinity); // not reached within a million times the first step
    out.swapHigh.push(hi.swapped);
    const lo = zero && zero.dq < target ? zero : find(points.filter((p) => p.v <= v0), target, evaluate, v0);
    out.low.push(lo.v);
    out.swapLow.push(lo.swapped);
  }
  out.smallestDQ = Math.min(...points.map((p) => p.dq));
  out.refits = refits;
  return out;
}

/**
 * The point on one side of the base where ΔQ = target (within 5%): from the
 * bracket of evaluated points, interpolate √ΔQ linearly in the value (exact
 * for a quadratic), falling back to the middle when that leaves the bracket.
 */
function find(side: { v: number; dq: number; swapped: boolean }[], target: number, evaluate: (v: number) => { v: number; dq: number; swapped: boolean }, v0: number) {
  const distance = (p: { v: number }) => Math.abs(p.v - v0);
  for (let tries = 0; ; tries++) {
    const close = side.find((p) => Math.abs(p.dq - target) <= 0.05 * target);
    if (close) return close;
    const inner = side.filter((p) => p.dq < target).reduce((a, b) => (distance(b) > distance(a) ? b : a));
    const outer = side.filter((p) => p.dq >= target).reduce<{ v: number; dq: number; swapped: boolean } | undefined>((a, b) => (!a || distance(b) < distance(a) ? b : a), undefined);
    if (!outer || tries >= 12) return outer ?? inner;
    const si = Math.sqrt(Math.max(inner.dq, 0)), so = Math.sqrt(outer.dq);
    let v = inner.v + ((outer.v - inner.v) * (Math.sqrt(target) - si)) / (so - si);
    const lo = Math.min(inner.v, outer.v), hi = Math.max(inner.v, outer.v);
    if (!(v > lo && v < hi) || tries % 3 === 2) v = (inner.v + outer.v) / 2; // every third try halves the bracket, for sure progress
    side.push(evaluate(v));
  }
}

/** Whether the re-fitted contributions map onto the base ones other than factor to itself. */
const swapped = (baseG: Float64Array, g: Float64Array, n: number, k: number) => assignment(correlations(baseG, g, n, k), k).some((e, c) => e !== c);

export interface DisplacementSummary {
  dQmax: number[];
  /** swaps[d][factor]: share of the factor's displacements (both ways, every species) that swapped at dQmax d. */
  swaps: number[][];
  /** The largest drop of Q met, and as % of the base Q. */
  largestDrop: number;
  elements: ElementDisplacement[];
}

export function summariseDisplacement(elements: ElementDisplacement[], k: number): DisplacementSummary {
  const swaps = DQ_MAX.map((_, d) => Array.from({ length: k }, (_, c) => {
    const own = elements.filter((e) => e.factor === c);
    return own.length ? own.reduce((s, e) => s + Number(e.swapLow[d]) + Number(e.swapHigh[d]), 0) / (2 * own.length) : 0;
  }));
  return { dQmax: [...DQ_MAX], swaps, largestDrop: Math.max(0, -Math.min(0, ...elements.map((e) => e.smallestDQ))), elements };
}
