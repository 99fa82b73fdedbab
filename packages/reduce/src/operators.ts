/**
 * The operators, with CDO's names and semantics, and chains of them.
 *
 * A chain is written left to right in the order the operators apply:
 * `yearmonmean,fldmean` is CDO's `-fldmean -yearmonmean`. A number after an
 * operator is its parameter (`enspctl,90`).
 */
import { closeNames } from "@meridian/io";
import { ReduceError } from "./errors.ts";

/** What a statistic does with missing values: `mean` skips them, `avg` propagates them (CDO's distinction). */
export type Stat = "mean" | "avg" | "std" | "std1" | "var" | "var1" | "min" | "max" | "sum" | "pctl";

/** How time steps are grouped: all together, per calendar year, per month of each year, per season of each year (DJF with the December before), per day; or per month/season/day of the year over all years (climatologies). */
export type Grouping = "all" | "year" | "month" | "season" | "day" | "ymon" | "yseas" | "yday";

export interface Operator {
  name: string;
  kind: "time" | "field" | "ensemble" | "anomaly";
  stat: Stat;
  group?: Grouping;
  /** Time means weighted by the days of each month in the calendar (yearmonmean). */
  monthWeights?: boolean;
  /** For field statistics: over the whole field, along longitude (zonal) or along latitude (meridional). */
  over?: "field" | "lon" | "lat";
  /** enspctl's percentile. */
  param?: number;
  doc: string;
}

const TIME_GROUPS: [string, Grouping, string][] = [
  ["tim", "all", "over all time steps"],
  ["year", "year", "per calendar year"],
  ["mon", "month", "per month of each year"],
  ["seas", "season", "per season of each year (DJF takes the December before; seasons missing months are flagged)"],
  ["day", "day", "per day"],
  ["ymon", "ymon", "per month of the year over all years (climatology)"],
  ["yseas", "yseas", "per season of the year over all years (climatology)"],
  ["yday", "yday", "per day of the year over all years (climatology)"],
];
const STATS: [string, Stat, string][] = [
  ["mean", "mean", "mean of the valid values (missing values skipped)"],
  ["avg", "avg", "average: missing if any value is missing"],
  ["std", "std", "standard deviation (divisor n)"],
  ["std1", "std1", "standard deviation (divisor n-1)"],
  ["var", "var", "variance (divisor n)"],
  ["var1", "var1", "variance (divisor n-1)"],
  ["min", "min", "minimum"],
  ["max", "max", "maximum"],
  ["sum", "sum", "sum of the valid values"],
];

export const OPERATORS: Record<string, Operator> = {};
for (const [prefix, group, groupDoc] of TIME_GROUPS) {
  for (const [suffix, stat, statDoc] of STATS) OPERATORS[prefix + suffix] = { name: prefix + suffix, kind: "time", stat, group, doc: `${statDoc}, ${groupDoc}` };
}
OPERATORS.yearmonmean = { name: "yearmonmean", kind: "time", stat: "mean", group: "year", monthWeights: true, doc: "yearly mean weighted by the days of each month in the file's calendar (monthly input)" };
for (const [suffix, stat, statDoc] of STATS) {
  OPERATORS["fld" + suffix] = { name: "fld" + suffix, kind: "field", stat, over: "field", doc: `${statDoc} over the field, weighted by cell area (areacella, else exact from cell bounds, else cos(lat))` };
  OPERATORS["ens" + suffix] = { name: "ens" + suffix, kind: "ensemble", stat, doc: `${statDoc} over the members, step by step` };
}
OPERATORS.zonmean = { name: "zonmean", kind: "field", stat: "mean", over: "lon", doc: "mean along longitude of the valid cells (unweighted, as CDO)" };
OPERATORS.mermean = { name: "mermean", kind: "field", stat: "mean", over: "lat", doc: "mean along latitude, weighted by cell area" };
OPERATORS.enspctl = { name: "enspctl", kind: "ensemble", stat: "pctl", doc: "percentile p over the members, step by step (enspctl,p)" };
OPERATORS.ensmedian = { name: "ensmedian", kind: "ensemble", stat: "pctl", param: 50, doc: "median over the members, step by step" };
OPERATORS.ymonsub = { name: "ymonsub", kind: "anomaly", stat: "mean", group: "ymon", doc: "anomalies: each step minus the mean of its month of the year (the series' own climatology, or --clim FILE)" };

/** Parses `yearmonmean,fldmean` or `enspctl,90`: operators in the order they apply. */
export function parseChain(text: string): Operator[] {
  const out: Operator[] = [];
  for (const token of text.split(",").map((t) => t.trim()).filter(Boolean)) {
    if (/^-?\d+(\.\d+)?$/.test(token)) {
      const last = out.at(-1);
      if (!last || last.stat !== "pctl" || (last.param !== undefined && last.name !== "enspctl")) throw new ReduceError(`"${token}" in "${text}" is a parameter, but ${last ? last.name : "nothing"} before it takes none`);
      const p = Number(token);
      if (!(p >= 0 && p <= 100)) throw new ReduceError(`percentile ${token} is not within 0..100`);
      out[out.length - 1] = { ...last, param: p };
      continue;
    }
    const op = OPERATORS[token.replace(/^-/, "")];
    if (!op) throw new ReduceError(`unknown operator "${token}"${suggest(token)}`);
    out.push(op);
  }
  if (!out.length) throw new ReduceError("no operator given");
  for (const op of out) if (op.stat === "pctl" && op.param === undefined) throw new ReduceError(`${op.name} needs a percentile: ${op.name},90`);
  return out;
}

function suggest(token: string): string {
  const names = closeNames(token, Object.keys(OPERATORS));
  return names.length ? `; did you mean ${names.join(", ")}?` : "";
}

/** The chain as CDO writes it (`yearmonmean,fldmean` → `-fldmean -yearmonmean`), for history. */
export const cdoCommand = (ops: Operator[]) => ops.map((o) => `-${o.name}${o.param !== undefined && o.name === "enspctl" ? `,${o.param}` : ""}`).reverse().join(" ");
