/**
 * Archive-level statistics: a reduction of every dataset a catalog query
 * selects (each ensemble member's series on its own), members averaged per
 * group (e.g. per model), then statistics across the groups (multi-model
 * mean, spread, percentiles) of each time label. Labels are (year) or
 * (year, month) of each result step in its own calendar, so series in
 * noleap, 360_day and standard calendars line up.
 */
import { resolve } from "node:path";
import type { drs } from "@meridian/io";
import { ensembleStat } from "./ensemble.ts";
import { ReduceError } from "./errors.ts";
import type { Field } from "./evaluate.ts";
import { parseChain, type Operator, type Stat } from "./operators.ts";
import { reduce, type ReduceOptions } from "./reduce.ts";

export interface ArchiveOptions extends ReduceOptions {
  /** Facets that name a group (default: model / source_id). */
  by?: string[];
  /** Statistics across groups: mean, std, min, max, median, pNN (e.g. p10, p90). */
  ensemble?: string[];
}

/** One group's series (its members averaged), by time label. */
export interface GroupSeries {
  key: Record<string, string>;
  members: string[];
  /** Time labels ("1850" or "1850-01") and values (one per label and cell). */
  labels: string[];
  values: Float64Array;
  /** Dataset ids and versions used. */
  datasets: string[];
}

export interface ArchiveResult {
  groups: GroupSeries[];
  /** Labels common to the statistics, and each statistic's values per label and cell. */
  labels: string[];
  ensemble: Record<string, Float64Array>;
  /** How many groups had a value at each label. */
  counts: number[];
  cells: number;
  units?: string;
  cellMethods: string;
  notes: string[];
}

const ENSEMBLE: Record<string, [Stat, number?]> = { mean: ["mean"], std: ["std"], std1: ["std1"], min: ["min"], max: ["max"], median: ["pctl", 50] };

function parseEnsemble(names: string[]): [string, Stat, number?][] {
  return names.map((n) => {
    const p = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(n);
    if (p) return [n, "pctl", Number(p[1])];
    const e = ENSEMBLE[n];
    if (!e) throw new ReduceError(`unknown ensemble statistic "${n}" (mean, std, std1, min, max, median, p10, p90…)`);
    return [n, ...e];
  });
}

/** The label of each step of a result: its year, or year and month. */
function labelsOf(f: Field, annual: boolean): string[] {
  return Array.from(f.time, (t) => {
    const d = f.axis.dateOf(t);
    return annual ? String(d.year) : `${d.year}-${String(d.month).padStart(2, "0")}`;
  });
}

export async function reduceArchive(ops: string | Operator[], catalog: drs.Catalog, options: ArchiveOptions): Promise<ArchiveResult> {
  const chain = typeof ops === "string" ? parseChain(ops) : ops;
  if (chain.some((o) => o.kind === "ensemble")) throw new ReduceError("ens* operators work on files; across a catalog, use --ensemble (mean, std, p10…) after --by");
  const datasets = catalog.datasets();
  if (!datasets.length) throw new ReduceError("the query selects no files");
  const by = options.by ?? ["model"];
  const annual = chain.some((o) => o.group === "year" || o.group === "all") && !chain.some((o) => o.group === "month" || o.group === "season" || o.group === "day");
  // Each dataset's files of the variable make one series.
  const jobs = datasets.map((d) => {
    const files = d.files.filter((f) => (f.facets.variable ?? f.facets.variable_id) === options.variable);
    const facets = files[0]?.facets ?? {};
    const member = facets.ensemble_member ?? facets.member_id ?? "?";
    const model = facets.model ?? facets.source_id;
    const key = Object.fromEntries(by.map((k) => [k, (k === "model" ? model : facets[k]) ?? "?"]));
    return { d, files: files.map((f) => resolve(catalog.root, f.path)), key, member };
  }).filter((j) => j.files.length);
  if (!jobs.length) throw new ReduceError(`no dataset of the query has variable ${options.variable}`);
  let done = 0;
  const total = jobs.length;
  const results = await Promise.all(jobs.map(async (j) => {
    const r = await reduce(chain, j.files, { ...options, onProgress: undefined });
    options.onProgress?.(++done, total);
    return { ...j, field: r.field };
  }));
  const cells = results[0].field.data.length / Math.max(1, results[0].field.time.length);
  for (const r of results) {
    const c = r.field.data.length / Math.max(1, r.field.time.length);
    if (c !== cells) throw new ReduceError(`${r.d.id} gives ${c} values per step, ${results[0].d.id} ${cells}: statistics across models need one grid (reduce to a field mean, or regrid first)`);
  }
  // Members of a group averaged per label.
  const groups = new Map<string, typeof results>();
  for (const r of results) {
    const k = JSON.stringify(r.key);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const series: GroupSeries[] = [...groups.values()].map((members) => {
    const byLabel = new Map<string, Float64Array[]>();
    for (const m of members) {
      labelsOf(m.field, annual).forEach((label, t) => {
        const list = byLabel.get(label) ?? [];
        list.push(m.field.data.subarray(t * cells, (t + 1) * cells));
        byLabel.set(label, list);
      });
    }
    const labels = [...byLabel.keys()].sort();
    const values = new Float64Array(labels.length * cells);
    labels.forEach((l, i) => values.set(ensembleStat(byLabel.get(l)!, "mean"), i * cells));
    return { key: members[0].key, members: members.map((m) => m.member), labels, values, datasets: members.map((m) => `${m.d.id}${m.d.version ? `.${m.d.version}` : ""}`) };
  }).sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
  // Statistics across groups at every label any group has.
  const labels = [...new Set(series.flatMap((s) => s.labels))].sort();
  const stats = parseEnsemble(options.ensemble ?? ["mean", "std"]);
  const ensemble: Record<string, Float64Array> = Object.fromEntries(stats.map(([n]) => [n, new Float64Array(labels.length * cells)]));
  const counts = labels.map((label, i) => {
    const present: Float64Array[] = [];
    for (const s of series) {
      const k = s.labels.indexOf(label);
      if (k >= 0) present.push(s.values.subarray(k * cells, (k + 1) * cells));
    }
    for (const [n, stat, p] of stats) ensemble[n].set(ensembleStat(present, stat, p), i * cells);
    return present.length;
  });
  const f0 = results[0].field;
  return { groups: series, labels, ensemble, counts, cells, units: typeof f0.attrs.units === "string" ? f0.attrs.units : undefined, cellMethods: f0.cellMethods.join(" "), notes: [...new Set(results.flatMap((r) => r.field.notes))] };
}

/** Tidy CSV: one row per group (or statistic), label and cell. */
export function archiveCSV(r: ArchiveResult, by: string[]): string {
  const rows = [[...by, "members", "label", ...(r.cells > 1 ? ["cell"] : []), "value"].join(",")];
  const cell = (v: number) => (v === v ? String(v) : "");
  for (const g of r.groups) {
    g.labels.forEach((l, i) => {
      for (let c = 0; c < r.cells; c++) rows.push([...by.map((k) => g.key[k]), g.members.length, l, ...(r.cells > 1 ? [c] : []), cell(g.values[i * r.cells + c])].join(","));
    });
  }
  for (const [n, values] of Object.entries(r.ensemble)) {
    r.labels.forEach((l, i) => {
      for (let c = 0; c < r.cells; c++) rows.push([...by.map((_, k) => (k === 0 ? `ensemble-${n}` : "")), r.counts[i], l, ...(r.cells > 1 ? [c] : []), cell(values[i * r.cells + c])].join(","));
    });
  }
  return rows.join("\n") + "\n";
}
