/**
 * A catalog of DRS files: the files kept by a version policy, their datasets
 * (ESGF dataset ids, files in time order with gaps, overlaps and duplicates
 * reported), queries by facet, and intake-esm's ESM collection format
 * (CSV + JSON) both ways.
 */
import type { ColumnTable } from "arquero";
import { DrsError } from "../errors.ts";
import type { TimeRange } from "./timerange.ts";
import { parseTimeRange } from "./timerange.ts";

export type VersionPolicy = "latest" | "newest-per-file" | "all";

export interface CatalogFile {
  /** Relative to the catalog's root, with `/`. */
  path: string;
  project: "cmip5" | "cmip6";
  /** The layout that matched. */
  template: string;
  facets: Record<string, string>;
  time?: TimeRange;
  /** The directory holding the version level (what a `latest` link sits in), when the layout has one. */
  versionDir?: string;
}

export interface Problem {
  path: string;
  kind: "layout" | "mismatch" | "time" | "unreadable" | "broken-link" | "not-netcdf" | "version" | "gap" | "overlap" | "duplicate" | "check";
  message: string;
  /** error: the file is left out; warning: kept, but something is off. */
  severity: "error" | "warning";
}

export interface DrsDataset {
  /** ESGF dataset id, e.g. cmip5.output1.MOHC.HadGEM2-ES.rcp85.mon.atmos.Amon.r1i1p1 */
  id: string;
  version?: string;
  variables: string[];
  /** By variable, then time. */
  files: CatalogFile[];
}

/** Catalog columns, intake-esm's for CMIP5 and CMIP6's own facet names. */
export const COLUMNS = {
  cmip5: ["activity", "product", "institute", "model", "experiment", "frequency", "modeling_realm", "mip_table", "ensemble_member", "version", "variable", "time_range", "path"],
  cmip6: ["mip_era", "activity_id", "institution_id", "source_id", "experiment_id", "member_id", "table_id", "variable_id", "grid_label", "version", "time_range", "path"],
};
const DATASET_FACETS = {
  cmip5: ["activity", "product", "institute", "model", "experiment", "frequency", "modeling_realm", "mip_table", "ensemble_member"],
  cmip6: ["mip_era", "activity_id", "institution_id", "source_id", "experiment_id", "member_id", "table_id", "variable_id", "grid_label"],
};
const VARIABLE = { cmip5: "variable", cmip6: "variable_id" };

const versionNumber = (v: string | undefined) => (v === "latest" ? Infinity : Number(v?.slice(1) ?? -1));

/** A facet test: a value, a list, `*`/`?` wildcards, or a RegExp. */
export type Where = Record<string, string | string[] | RegExp>;

function matcher(want: string | string[] | RegExp): (v: string | undefined) => boolean {
  if (want instanceof RegExp) return (v) => v !== undefined && want.test(v);
  const list = [want].flat().map((w) => (/[*?]/.test(w) ? new RegExp(`^${w.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`) : w));
  return (v) => v !== undefined && list.some((w) => (typeof w === "string" ? w === v : w.test(v)));
}

export class Catalog {
  private constructor(
    readonly root: string,
    /** The files the version policy keeps. */
    readonly files: CatalogFile[],
    readonly problems: Problem[],
    readonly versions: VersionPolicy,
  ) {}

  /**
   * From a scan: its series (the files of one variable in one directory, in
   * name order), the `latest` links found, the problems so far. Applies the
   * version policy.
   */
  static build(root: string, series: CatalogFile[][], problems: Problem[], latest: Map<string, string>, policy: VersionPolicy): Catalog {
    const kept = selectVersions(series, latest, policy, problems);
    // Directories in path order (their path with a trailing "/" sorts as their files do).
    const files = sortBy(kept, (d) => d[0].path.slice(0, d[0].path.lastIndexOf("/") + 1)).flat();
    const catalog = new Catalog(root, files, problems, policy);
    problems.splice(0, problems.length, ...sortBy(problems, (p) => `${p.path}\u0000${p.kind}`)); // the same order whatever the scan's
    return catalog;
  }

  /** The same catalog with its own list of problems (the file records are shared). */
  again(): Catalog {
    return new Catalog(this.root, this.files, [...this.problems], this.versions);
  }

  /** Datasets: files grouped by ESGF dataset id (and version), in time order per variable. */
  datasets(): DrsDataset[] {
    const groups = new Map<string, DrsDataset>();
    for (const f of this.files) {
      const facets = DATASET_FACETS[f.project];
      const id = [f.project === "cmip5" ? "cmip5" : "CMIP6", ...facets.slice(1).map((k) => f.facets[k] ?? "?")].join(".");
      const key = `${id}|${f.facets.version ?? ""}`;
      let d = groups.get(key);
      if (!d) groups.set(key, (d = { id, version: f.facets.version, variables: [], files: [] }));
      d.files.push(f);
    }
    for (const d of groups.values()) {
      d.files = sortBy(d.files, (f) => `${f.facets[VARIABLE[f.project]]}\u0000${f.time?.from ?? ""}\u0000${f.path}`);
      d.variables = [...new Set(d.files.map((f) => f.facets[VARIABLE[f.project]]))];
    }
    return sortBy([...groups.values()], (d) => `${d.id}\u0000${d.version ?? ""}`);
  }

  /**
   * Files whose facets pass every test, overlapping `time` ([from, to] labels,
   * any precision) if given. With `requireAllOn`, only the groups (by the `on`
   * facets) that have every combination of the `of` values are kept: e.g. the
   * models that have both tas and pr for both historical and rcp45.
   */
  query(where: Where = {}, options: { time?: [string, string]; requireAllOn?: { on: string[]; of: Record<string, string[]> } } = {}): Catalog {
    const tests = Object.entries(where).map(([facet, want]) => [facet, matcher(want)] as const);
    let files = this.files.filter((f) => tests.every(([facet, test]) => test(facet === "path" ? f.path : f.facets[facet])));
    if (options.time) {
      const [a, b] = options.time;
      const from = a.padEnd(14, "0"), to = b + "99991231235959".slice(b.length);
      files = files.filter((f) => !f.time || (f.time.from <= to && f.time.to >= from));
    }
    const req = options.requireAllOn;
    if (req) {
      const combos = Object.entries(req.of).reduce<string[][]>((acc, [, values]) => acc.flatMap((c) => values.map((v) => [...c, v])), [[]]);
      const ofFacets = Object.keys(req.of);
      const groups = new Map<string, CatalogFile[]>();
      for (const f of files) {
        const key = req.on.map((k) => f.facets[k]).join("\u0000");
        const g = groups.get(key);
        if (g) g.push(f);
        else groups.set(key, [f]);
      }
      files = [...groups.values()].filter((g) => combos.every((c) => g.some((f) => ofFacets.every((k, i) => f.facets[k] === c[i])))).flat();
    }
    return new Catalog(this.root, files, this.problems, this.versions);
  }

  /** Distinct values of a facet, sorted. */
  unique(facet: string): string[] {
    return [...new Set(this.files.map((f) => f.facets[facet]).filter((v): v is string => v !== undefined))].sort();
  }

  /** Files per value of a facet. */
  counts(facet: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.files) {
      const v = f.facets[facet];
      if (v !== undefined) out[v] = (out[v] ?? 0) + 1;
    }
    return out;
  }

  /** The catalog's columns: CMIP5's, CMIP6's, or both (with `project`) for a mixed catalog. */
  columns(): string[] {
    const projects = new Set(this.files.map((f) => f.project));
    if (projects.size === 2) return ["project", ...new Set([...COLUMNS.cmip5, ...COLUMNS.cmip6].filter((c) => c !== "path")), "path"];
    return COLUMNS[projects.has("cmip6") ? "cmip6" : "cmip5"];
  }

  /** The files as an arquero table (one column per catalog column) for exploring: groupby, rollup, filter, … */
  async toTable(): Promise<ColumnTable> {
    const aq = await import("arquero"); // (a quarter of a second to load: only when asked for)
    const cols = this.columns();
    return aq.table(Object.fromEntries(cols.map((c) => [c, this.files.map((f) => (c === "path" ? f.path : c === "project" ? f.project : f.facets[c] ?? null))])));
  }

  /** One row per file, as intake-esm reads it; paths relative to the root. */
  toCSV(): string {
    const cols = this.columns();
    const cell = (v: string | undefined) => (v === undefined ? "" : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const rows = this.files.map((f) => cols.map((c) => cell(c === "path" ? f.path : c === "project" ? f.project : f.facets[c])).join(","));
    return [cols.join(","), ...rows].join("\n") + "\n";
  }

  /** The ESM collection (esmcat 0.1.0) describing `csvName`, as intake-esm's open_esm_datastore expects. */
  toESMCollection(csvName: string, id = "meridian-drs"): object {
    const cmip6 = this.columns().includes("source_id") && !this.columns().includes("model");
    const cols = this.columns().filter((c) => c !== "path");
    return {
      esmcat_version: "0.1.0",
      id,
      description: `DRS catalog of ${this.root}, made by meridian (versions: ${this.versions})`,
      catalog_file: csvName,
      attributes: cols.map((c) => ({ column_name: c, vocabulary: "" })),
      assets: { column_name: "path", format: "netcdf" },
      aggregation_control: {
        variable_column_name: cmip6 ? "variable_id" : "variable",
        groupby_attrs: cmip6 ? ["activity_id", "institution_id", "source_id", "experiment_id", "table_id", "grid_label"] : ["institute", "model", "experiment", "frequency", "modeling_realm"],
        aggregations: [
          { type: "join_new", attribute_name: cmip6 ? "member_id" : "ensemble_member", options: { coords: "minimal", compat: "override" } },
          { type: "join_existing", attribute_name: "time_range", options: { dim: "time" } },
          { type: "union", attribute_name: cmip6 ? "variable_id" : "variable" },
        ],
      },
    };
  }

  /** A catalog from its CSV (as toCSV writes, or intake-esm's): paths stay as written. */
  static fromCSV(text: string, root = "."): Catalog {
    const rows = parseCSV(text);
    const [head, ...body] = rows;
    if (!head?.includes("path")) throw new DrsError("not a catalog: the CSV has no path column");
    const files = body.filter((r) => r.length > 1 || r[0]).map((r) => {
      const facets: Record<string, string> = {};
      head.forEach((c, i) => {
        if (c !== "path" && c !== "project" && r[i] !== undefined && r[i] !== "") facets[c] = r[i];
      });
      const project = (r[head.indexOf("project")] as "cmip5" | "cmip6") || (facets.source_id ? "cmip6" : "cmip5");
      const f: CatalogFile = { path: r[head.indexOf("path")], project, template: "csv", facets };
      const t = facets.time_range && parseTimeRange(facets.time_range);
      if (t) f.time = t;
      return f;
    });
    return new Catalog(root, files, [], "all");
  }
}

/** RFC 4180 CSV: quoted cells, doubled quotes, CRLF or LF. */
export function parseCSV(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') cell += '"', i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cell), rows.push(row), (row = []), (cell = "");
    } else cell += ch;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

/**
 * The series a version policy keeps (see VersionPolicy); conflicts under `all`
 * are reported. A series is one variable of one dataset version: its files
 * share a version and a version directory (where `latest` sits).
 */
function selectVersions(series: CatalogFile[][], latest: Map<string, string>, policy: VersionPolicy, problems: Problem[]): CatalogFile[][] {
  const name = (f: CatalogFile) => f.path.slice(f.path.lastIndexOf("/") + 1);
  const versioned = (s: CatalogFile[]) => s[0].versionDir !== undefined && s[0].facets.version !== undefined;
  if (policy === "all" || policy === "newest-per-file") {
    const byName = new Map<string, CatalogFile[]>();
    for (const s of series) if (versioned(s)) for (const f of s) {
      const k = `${f.versionDir}|${name(f)}`;
      const g = byName.get(k);
      if (g) g.push(f);
      else byName.set(k, [f]);
    }
    if (policy === "all") {
      for (const group of byName.values()) {
        if (group.length > 1) for (const f of group) problems.push({ path: f.path, kind: "version", message: `the same file is in versions ${group.map((g) => g.facets.version!).sort((a, b) => versionNumber(a) - versionNumber(b)).join(", ")}`, severity: "warning" });
      }
      return series;
    }
    const newest = new Set([...byName.values()].map((g) => g.reduce((a, b) => (versionNumber(b.facets.version) > versionNumber(a.facets.version) ? b : a))));
    return series.map((s) => (versioned(s) ? s.filter((f) => newest.has(f)) : s)).filter((s) => s.length);
  }
  // latest: per dataset and variable, the version `latest` points to if it has the variable, else the newest that has it.
  const versions = new Map<string, Set<string>>(); // dataset|variable -> versions present
  const key = (s: CatalogFile[]) => `${s[0].versionDir}|${s[0].facets[VARIABLE[s[0].project]]}`;
  for (const s of series) {
    if (!versioned(s)) continue;
    const k = key(s);
    let set = versions.get(k);
    if (!set) versions.set(k, (set = new Set()));
    set.add(s[0].facets.version!);
  }
  const chosen = new Map<string, string>();
  for (const [k, set] of versions) {
    const linked = latest.get(k.slice(0, k.lastIndexOf("|")));
    chosen.set(k, linked && set.has(linked) ? linked : [...set].reduce((a, b) => (versionNumber(b) > versionNumber(a) ? b : a)));
  }
  return series.filter((s) => !versioned(s) || chosen.get(key(s)) === s[0].facets.version);
}

/** Sorted by a string key (the engine's sort of plain strings is several times faster than a comparator's). */
export function sortBy<T>(items: T[], key: (x: T) => string): T[] {
  const keyed = items.map((x, i) => `${key(x)}\u0000${i}`).sort();
  return keyed.map((k) => items[Number(k.slice(k.lastIndexOf("\u0000") + 1))]);
}
