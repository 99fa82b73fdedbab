/**
 * The matrices PMF factorises, prepared as EPA PMF 5.0 prepares them:
 * concentrations X and uncertainties U (given, or from detection limits and
 * error fractions), missing values replaced, species categorised by their
 * signal-to-noise ratio (strong; weak: uncertainty ×3; bad: left out).
 */
import { PmfError } from "./errors.ts";
import type { Table } from "./table.ts";

export type Category = "strong" | "weak" | "bad";

export interface PmfData {
  /** Samples (rows) and species (columns) as factorised. */
  samples: string[];
  species: string[];
  x: Float64Array;
  u: Float64Array;
  /** Per species: its category, S/N, and how many of its values were missing or below the detection limit. */
  category: Category[];
  sn: number[];
  missing: number[];
  belowMDL: number[];
  /** Species left out (bad), by name. */
  excluded: string[];
}

/** Uncertainty from the method detection limit and error fraction (EPA PMF 5.0): 5/6·MDL at or below it, else √((EF·x)² + (MDL/2)²). */
export const uncertaintyOf = (x: number, mdl: number, ef: number) => (x <= mdl ? (5 / 6) * mdl : Math.sqrt((ef * x) ** 2 + (0.5 * mdl) ** 2));

/** Detection limits and error fractions from EPA PMF's equation table: the species, a row of MDLs, a row of error fractions in %. */
export function detectionLimits(t: Table): { mdl: Record<string, number>; errorFraction: Record<string, number> } {
  const k = t.columns.length;
  if (t.rows.length < 2) throw new PmfError(`${t.rows.length} row(s): expected a row of detection limits and a row of error fractions (%)`, t.source);
  return {
    mdl: Object.fromEntries(t.columns.map((c, j) => [c, t.values[j]])),
    errorFraction: Object.fromEntries(t.columns.map((c, j) => [c, t.values[k + j] / 100])),
  };
}

/** S/N of one species (EPA PMF 5.0): the mean over samples of (x − u)/u where x > u, 0 elsewhere. */
export function signalToNoise(x: ArrayLike<number>, u: ArrayLike<number>, n: number, m: number, j: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i * m + j], b = u[i * m + j];
    if (a > b) s += (a - b) / b;
  }
  return s / n;
}

/** EPA's guidance: S/N below 0.5 bad, below 1 weak. */
export const suggestCategory = (sn: number): Category => (sn < 0.5 ? "bad" : sn < 1 ? "weak" : "strong");

export interface PrepareOptions {
  /** Given uncertainties, same shape as the concentrations... */
  unc?: Table;
  /** ...or per species detection limits and error fractions (fractions: 0.1, not 10 %). */
  mdl?: Record<string, number>;
  errorFraction?: Record<string, number>;
  /** Categories chosen by the user; the others are suggested from S/N. */
  categories?: Record<string, Category>;
}

function median(values: number[]): number {
  const s = values.filter((v) => v === v).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** X and U ready to factorise, from a concentration table and its uncertainties (or detection limits). */
export function prepare(conc: Table, options: PrepareOptions): PmfData {
  const n = conc.rows.length, m0 = conc.columns.length;
  const x = Float64Array.from(conc.values);
  let u: Float64Array;
  const belowMDL = new Array<number>(m0).fill(0);
  if (options.unc) {
    const unc = options.unc;
    if (unc.columns.join("\u0000") !== conc.columns.join("\u0000")) {
      const j = unc.columns.findIndex((c, k) => c !== conc.columns[k]);
      throw new PmfError(`species differ from those of ${conc.source}: column ${j + 1} is "${unc.columns[j] ?? "(none)"}" here, "${conc.columns[j] ?? "(none)"}" there`, unc.source);
    }
    if (unc.rows.length !== n) throw new PmfError(`${unc.rows.length} samples, but ${conc.source} has ${n}`, unc.source);
    u = Float64Array.from(unc.values);
    for (let k = 0; k < u.length; k++) if (u[k] === u[k] && !(u[k] > 0)) throw new PmfError(`sample ${unc.rows[Math.floor(k / m0)]}, species ${unc.columns[k % m0]}: uncertainty ${u[k]} is not positive`, unc.source);
  } else if (options.mdl) {
    u = new Float64Array(n * m0);
    conc.columns.forEach((c, j) => {
      const mdl = options.mdl![c], ef = options.errorFraction?.[c];
      if (!(mdl > 0) || !(ef! >= 0)) throw new PmfError(`species ${c} has no detection limit and error fraction (MDL ${mdl}, EF ${ef})`, conc.source);
      for (let i = 0; i < n; i++) {
        const k = i * m0 + j, v = x[k];
        if (v !== v) continue;
        u[k] = uncertaintyOf(v, mdl, ef!);
        if (v <= mdl) (x[k] = mdl / 2), belowMDL[j]++; // values below detection: half the limit
      }
    });
  } else throw new PmfError("give the uncertainties, or detection limits and error fractions", conc.source);

  // missing values: the species median, with four times its median uncertainty (EPA PMF 5.0)
  const missing = new Array<number>(m0).fill(0);
  conc.columns.forEach((c, j) => {
    const col = (a: Float64Array) => Array.from({ length: n }, (_, i) => a[i * m0 + j]);
    const mx = median(col(x).filter((v, i) => v === v && u[i * m0 + j] === u[i * m0 + j]));
    const mu = median(col(u).filter((v, i) => v === v && x[i * m0 + j] === x[i * m0 + j]));
    for (let i = 0; i < n; i++) {
      const k = i * m0 + j;
      if (x[k] === x[k] && u[k] === u[k]) continue;
      if (mx !== mx) throw new PmfError(`species ${c} has no values at all`, conc.source);
      x[k] = mx;
      u[k] = 4 * mu;
      missing[j]++;
    }
  });

  const sn = conc.columns.map((_, j) => signalToNoise(x, u, n, m0, j));
  const category = conc.columns.map((c, j) => options.categories?.[c] ?? suggestCategory(sn[j]));
  for (const c of Object.keys(options.categories ?? {})) if (!conc.columns.includes(c)) throw new PmfError(`no species "${c}" to categorise`, conc.source);
  const keep = conc.columns.map((_, j) => j).filter((j) => category[j] !== "bad");
  if (!keep.length) throw new PmfError("every species is bad: nothing to factorise", conc.source);
  const m = keep.length, xs = new Float64Array(n * m), us = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    keep.forEach((j, jj) => {
      xs[i * m + jj] = x[i * m0 + j];
      us[i * m + jj] = (category[j] === "weak" ? 3 : 1) * u[i * m0 + j];
    });
  }
  return {
    samples: conc.rows, species: keep.map((j) => conc.columns[j]), x: xs, u: us,
    category: keep.map((j) => category[j]), sn: keep.map((j) => sn[j]), missing: keep.map((j) => missing[j]), belowMDL: keep.map((j) => belowMDL[j]),
    excluded: conc.columns.filter((_, j) => category[j] === "bad"),
  };
}
