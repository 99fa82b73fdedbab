/**
 * DRS layouts as data. A template names the directory levels (right-aligned
 * against a file's directory, so the scan may start above or at the archive's
 * root) and the filename's parts. Each facet has a check; a layout matches a
 * file when every level and the filename check out. Add layouts, or give your
 * own in ESMValCore's style (`input_dir` / `input_file`, with its facet names).
 */
import { CMIP5_ENSEMBLE, CMIP5_FREQUENCIES, CMIP5_PRODUCTS, CMIP5_REALMS, CMIP5_TABLES, CMIP6_MEMBER, COMPONENT, GRID_LABEL, VERSION } from "./vocab.ts";

export interface DrsTemplate {
  name: string;
  project: "cmip5" | "cmip6";
  /** Directory levels: `{facet}` or a literal name, `/`-separated. */
  dir: string;
  /** Filename: `{facet}`, `[optional part]`, `*` for anything. */
  file: string;
}

const CMIP5_FILE = "{variable}_{mip_table}_{model}_{experiment}_{ensemble_member}[_{time_range}][_{geo}].nc";
const CMIP6_FILE = "{variable_id}_{table_id}_{source_id}_{experiment_id}_{member_id}_{grid_label}[_{time_range}].nc";

/** The layouts tried, most specific first. */
export const TEMPLATES: DrsTemplate[] = [
  // ESGF data nodes and drslib (with files/ + vN/ + latest)
  { name: "cmip5-esgf", project: "cmip5", dir: "{activity}/{product}/{institute}/{model}/{experiment}/{frequency}/{modeling_realm}/{mip_table}/{ensemble_member}/{version}/{variable}", file: CMIP5_FILE },
  // BADC, DKRZ and NCI: the same below the product level
  { name: "cmip5-badc", project: "cmip5", dir: "{institute}/{model}/{experiment}/{frequency}/{modeling_realm}/{mip_table}/{ensemble_member}/{version}/{variable}", file: CMIP5_FILE },
  // DRS up to v0.27: version before variable, no MIP table level, ensemble last
  { name: "cmip5-old", project: "cmip5", dir: "{activity}/{product}/{institute}/{model}/{experiment}/{frequency}/{modeling_realm}/{version}/{variable}/{ensemble_member}", file: CMIP5_FILE },
  // raw CMOR output: no version level
  { name: "cmip5-cmor", project: "cmip5", dir: "{institute}/{model}/{experiment}/{frequency}/{modeling_realm}/{variable}/{ensemble_member}", file: CMIP5_FILE },
  { name: "cmip6", project: "cmip6", dir: "{mip_era}/{activity_id}/{institution_id}/{source_id}/{experiment_id}/{member_id}/{table_id}/{variable_id}/{grid_label}/{version}", file: CMIP6_FILE },
  // intake-esm's sample tree: a variable level below the version
  { name: "cmip6-variable-below-version", project: "cmip6", dir: "{mip_era}/{activity_id}/{institution_id}/{source_id}/{experiment_id}/{member_id}/{table_id}/{variable_id}/{grid_label}/{version}/{variable_id}", file: CMIP6_FILE },
];

/** ESMValCore's facet names, and ours. */
const ESMVALCORE: Record<string, string> = { dataset: "model", exp: "experiment", mip: "mip_table", ensemble: "ensemble_member", short_name: "variable", project: "activity" };

/** A template from ESMValCore-style `input_dir` and `input_file`, e.g. "{institute}/{dataset}/{exp}/…" and "{short_name}_{mip}_{dataset}_{exp}_{ensemble}*.nc". */
export function userTemplate(dir: string, file: string, project: "cmip5" | "cmip6" = "cmip5"): DrsTemplate {
  const rename = (t: string) => t.replace(/\{(\w+)(?:\.lower)?\}/g, (_, f: string) => `{${ESMVALCORE[f] ?? f}}`);
  return { name: `user:${dir}`, project, dir: rename(dir).replace(/^\/+|\/+$/g, ""), file: rename(file) };
}

type Check = (v: string) => boolean;
const oneOf = (xs: string[]): Check => (v) => xs.includes(v);
const re = (r: RegExp): Check => (v) => r.test(v);

/** What each facet may hold; facets not listed are DRS components (letters, digits, hyphens). */
export const CHECKS: Record<string, Check> = {
  activity: (v) => v.toLowerCase() === "cmip5",
  product: oneOf(CMIP5_PRODUCTS),
  frequency: oneOf(CMIP5_FREQUENCIES),
  modeling_realm: oneOf(CMIP5_REALMS),
  mip_table: (v) => v in CMIP5_TABLES,
  ensemble_member: re(CMIP5_ENSEMBLE),
  version: (v) => VERSION.test(v) || v === "latest",
  mip_era: (v) => v === "CMIP6",
  member_id: re(CMIP6_MEMBER),
  grid_label: re(GRID_LABEL),
  time_range: re(/^\d{4,14}-\d{4,14}(-clim)?$/),
  geo: re(/^g-[A-Za-z0-9-]+$/),
};
const component = re(COMPONENT);

/** A template ready to match: its levels, and its filename as a regular expression. */
export interface Compiled {
  template: DrsTemplate;
  levels: string[];
  file: RegExp;
  fileFacets: string[];
  /** For each filename facet, its check when the pattern alone does not settle it. */
  fileChecks: (Check | undefined)[];
  /** For each directory level: its facet and check, or undefined for a literal name. */
  levelChecks: ([string, Check] | undefined)[];
}

export function compile(template: DrsTemplate): Compiled {
  const fileFacets: string[] = [];
  let src = "";
  for (const tok of template.file.match(/\{\w+\}|\[|\]|\*|[^{}[\]*]+/g) ?? []) {
    if (tok === "[") src += "(?:";
    else if (tok === "]") src += ")?";
    else if (tok === "*") src += ".*";
    else if (tok.startsWith("{")) {
      fileFacets.push(tok.slice(1, -1));
      src += tok === "{time_range}" ? "(\\d{4,14}-\\d{4,14}(?:-clim)?)" : tok === "{geo}" ? "(g-[A-Za-z0-9-]+)" : "([A-Za-z0-9-]+)";
    } else src += tok.replace(/[.+?^$()|\\]/g, "\\$&").replace(/\\\.nc$/, "\\.nc4?");
  }
  // The pattern already limits components to letters, digits and hyphens, and time ranges and geo to their form.
  const fileChecks = fileFacets.map((f) => (f in CHECKS && f !== "time_range" && f !== "geo" ? CHECKS[f] : undefined));
  const levels = template.dir.split("/").filter(Boolean);
  const levelChecks = levels.map((l): [string, Check] | undefined => (l[0] === "{" ? [l.slice(1, -1), CHECKS[l.slice(1, -1)] ?? component] : undefined));
  return { template, levels, file: new RegExp(`^${src}$`), fileFacets, fileChecks, levelChecks };
}

/** A file's facets by one template, with the disagreements between its path and its name. */
export interface Match {
  template: string;
  project: "cmip5" | "cmip6";
  facets: Record<string, string>;
  /** Facets whose directory level and filename part differ: [facet, from the path, from the name] (the name's is kept). */
  mismatches: [string, string, string][];
}

/** The facets a template's directory levels give, or undefined when a level does not fit. Shared by a directory's files. */
export function matchDir(c: Compiled, dirs: string[]): Record<string, string> | undefined {
  if (dirs.length < c.levels.length) return undefined;
  const offset = dirs.length - c.levels.length;
  const fromPath: Record<string, string> = {};
  for (let k = 0; k < c.levels.length; k++) {
    const value = dirs[offset + k], facetCheck = c.levelChecks[k];
    if (!facetCheck) {
      if (value !== c.levels[k]) return undefined;
      continue;
    }
    const [facet, check] = facetCheck;
    if (!check(value)) return undefined;
    if (fromPath[facet] !== undefined && fromPath[facet] !== value) return undefined; // a facet twice in the path
    fromPath[facet] = value;
  }
  return fromPath;
}

/**
 * Matches a file's name against a template whose directory levels matched
 * (`fromPath`): undefined unless the name checks out. Facets given twice (path
 * and name) take the name's value when they differ, and say so.
 */
export function matchName(c: Compiled, fromPath: Record<string, string>, name: string): Match | undefined {
  const f = c.file.exec(name);
  if (!f) return undefined;
  const facets = { ...fromPath };
  let mismatches: [string, string, string][] | undefined;
  for (let i = 0; i < c.fileFacets.length; i++) {
    const v = f[i + 1];
    if (v === undefined) continue;
    const facet = c.fileFacets[i];
    if (c.fileChecks[i] && !c.fileChecks[i]!(v)) return undefined;
    const inPath = fromPath[facet];
    if (inPath !== undefined && inPath !== v) (mismatches ??= []).push([facet, inPath, v]);
    facets[facet] = v;
  }
  return { template: c.template.name, project: c.template.project, facets, mismatches: mismatches ?? NONE };
}

const NONE: [string, string, string][] = [];
