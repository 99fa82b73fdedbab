/**
 * `--check`: each file's global attributes, read through open() (header only),
 * against the facets its path and name gave. A disagreement is a warning; a
 * file that does not open is an error, with the reader's reason.
 */
import { join } from "node:path";
import { open } from "../open.ts";
import type { Catalog, CatalogFile, Problem } from "./catalog.ts";

/** Global attribute -> facet, and how to compare. */
const CMIP5: [string, string, (attr: string, facet: string) => boolean][] = [
  ["project_id", "activity", (a, f) => a.toLowerCase() === f.toLowerCase()],
  // CMOR writes "output"; the publisher splits it into output1 and output2
  ["product", "product", (a, f) => a === f || (a === "output" && /^output[12]$/.test(f))],
  ["institute_id", "institute", (a, f) => a === f],
  ["model_id", "model", (a, f) => a === f],
  ["experiment_id", "experiment", (a, f) => a === f],
  ["frequency", "frequency", (a, f) => a === f],
  ["modeling_realm", "modeling_realm", (a, f) => a.split(/\s+/).includes(f)],
  ["table_id", "mip_table", (a, f) => new RegExp(`^Table ${f}\\b`).test(a)],
];
const CMIP6: [string, string, (attr: string, facet: string) => boolean][] = ["mip_era", "activity_id", "institution_id", "source_id", "experiment_id", "member_id", "table_id", "variable_id", "grid_label"]
  .map((k) => [k, k, (a: string, f: string) => (k === "activity_id" ? a.split(/\s+/).includes(f) : a === f)]);

export async function checkFiles(catalog: Catalog, onProgress?: (done: number, total: number) => void): Promise<Problem[]> {
  const out: Problem[] = [];
  let done = 0;
  for (const f of catalog.files) {
    out.push(...(await checkFile(catalog.root, f)));
    onProgress?.(++done, catalog.files.length);
  }
  catalog.problems.push(...out);
  return out;
}

async function checkFile(root: string, f: CatalogFile): Promise<Problem[]> {
  let attrs: Record<string, unknown>;
  try {
    const ds = await open(join(root, f.path));
    attrs = ds.attrs;
    await ds.close();
  } catch (e) {
    return [{ path: f.path, kind: "check", message: `cannot be opened: ${(e as Error).message}`, severity: "error" }];
  }
  const problems: Problem[] = [];
  const text = (k: string) => (typeof attrs[k] === "string" ? (attrs[k] as string).trim() : undefined);
  for (const [attr, facet, same] of f.project === "cmip6" ? CMIP6 : CMIP5) {
    const a = text(attr), v = f.facets[facet];
    if (a !== undefined && v !== undefined && !same(a, v)) problems.push({ path: f.path, kind: "check", message: `global attribute ${attr} is "${a}" but the path says ${facet} "${v}"`, severity: "warning" });
  }
  if (f.project === "cmip5" && f.facets.ensemble_member && attrs.realization !== undefined) {
    const rip = `r${Number(attrs.realization)}i${Number(attrs.initialization_method)}p${Number(attrs.physics_version)}`;
    if (rip !== f.facets.ensemble_member) problems.push({ path: f.path, kind: "check", message: `global attributes realization, initialization_method, physics_version say ${rip} but the path says ${f.facets.ensemble_member}`, severity: "warning" });
  }
  return problems;
}
