/**
 * `meridian drs scan|query|problems`: catalogs of CMIP5/CMIP6 trees. A catalog
 * argument may be a tree (scanned), or a catalog written by `drs scan --out`
 * (its .csv, or its .json ESM collection).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { drs } from "@meridian/io";
import { progress } from "../progress.ts";

interface ScanFlags { project?: "cmip5" | "cmip6" | "auto"; template?: string; versions?: drs.VersionPolicy; check?: boolean; out?: string }

async function scanTree(root: string, flags: ScanFlags): Promise<drs.Catalog> {
  const templates = flags.template ? [userTemplateFlag(flags.template, flags.project)] : [];
  const bar = progress(`scanning ${root}`);
  const catalog = await drs.scan(root, { project: flags.project, templates, versions: flags.versions, onProgress: (dirs, files) => bar.update(`${dirs} directories, ${files} files`) });
  bar.done();
  if (flags.check) {
    const checking = progress("checking headers");
    await drs.checkFiles(catalog, (done, total) => checking.update(`${done} of ${total}`));
    checking.done();
  }
  return catalog;
}

/** `--template "DIR|FILE"`, ESMValCore style: "{institute}/{dataset}/…|{short_name}_{mip}_…*.nc". */
function userTemplateFlag(text: string, project?: string) {
  const [dir, file] = text.split("|");
  if (!dir || !file) throw new drs.DrsError(`--template must be "DIR|FILE", e.g. "{institute}/{dataset}/{exp}|{short_name}_{mip}_{dataset}_{exp}_{ensemble}*.nc"; got ${JSON.stringify(text)}`);
  return drs.userTemplate(dir, file, project === "cmip6" ? "cmip6" : "cmip5");
}

/** A tree to scan, or a catalog's .csv or .json. */
export async function load(source: string, flags: ScanFlags = {}): Promise<drs.Catalog> {
  if (!existsSync(source)) throw new drs.DrsError(`${source}: no such file or directory`);
  if (statSync(source).isDirectory()) return scanTree(source, flags);
  if (source.endsWith(".json")) {
    let esm;
    try {
      esm = JSON.parse(readFileSync(source, "utf8"));
    } catch (e) {
      throw new drs.DrsError(`${source}: not an ESM collection (${(e as Error).message})`);
    }
    if (!esm.catalog_file) throw new drs.DrsError(`${source}: an ESM collection needs "catalog_file"`);
    const csv = resolve(dirname(source), esm.catalog_file);
    return drs.Catalog.fromCSV(readFileSync(csv, "utf8"), dirname(csv));
  }
  return drs.Catalog.fromCSV(readFileSync(source, "utf8"), dirname(resolve(source)));
}

export async function drsScan(root: string, flags: ScanFlags) {
  const catalog = await scanTree(root, flags);
  const datasets = catalog.datasets();
  const kinds: Record<string, number> = {};
  for (const p of catalog.problems) kinds[p.kind] = (kinds[p.kind] ?? 0) + 1;
  console.log(`${catalog.files.length} files in ${datasets.length} datasets (versions: ${catalog.versions}); ${catalog.problems.length} problems${catalog.problems.length ? ` (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ")}; meridian drs problems ${root})` : ""}`);
  if (flags.out) {
    const base = flags.out.replace(/\.(csv|json)$/, "");
    writeFileSync(`${base}.csv`, catalog.toCSV());
    writeFileSync(`${base}.json`, JSON.stringify(catalog.toESMCollection(basename(`${base}.csv`)), null, 2) + "\n");
    console.log(`wrote ${base}.csv and ${base}.json (an ESM collection intake-esm opens; paths relative to ${resolve(root)})`);
  }
}

/** "model=HadGEM2-ES,variable=tas|pr,experiment=rcp*,model=/^MPI/" as query tests. */
export function parseWhere(text = ""): drs.Where {
  const where: drs.Where = {};
  for (const part of text.split(",").filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq < 1) throw new drs.DrsError(`--where takes facet=value pairs separated by commas; got ${JSON.stringify(part)}`);
    const [facet, value] = [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    const rx = /^\/(.*)\/([a-z]*)$/.exec(value);
    where[facet] = rx ? new RegExp(rx[1], rx[2]) : value.includes("|") ? value.split("|") : value;
  }
  return where;
}

export async function drsQuery(source: string, flags: ScanFlags & { where?: string; time?: string; requireAllOn?: string; of?: string; json?: boolean }) {
  const catalog = await load(source, flags);
  const where = parseWhere(flags.where);
  let requireAllOn;
  if (flags.requireAllOn) {
    const of = (flags.of ?? "").split(",").filter(Boolean);
    if (!of.length) throw new drs.DrsError("--require-all-on needs --of FACET (whose values, from --where, must all be present)");
    const ofValues = Object.fromEntries(of.map((f) => {
      const w = where[f];
      if (!Array.isArray(w) && typeof w !== "string") throw new drs.DrsError(`--of ${f}: give its values in --where (${f}=a|b)`);
      return [f, [w].flat()];
    }));
    requireAllOn = { on: flags.requireAllOn.split(","), of: ofValues };
  }
  const time = flags.time ? (flags.time.split("-") as [string, string]) : undefined;
  if (time && (time.length !== 2 || !time.every((t) => /^\d{4,14}$/.test(t)))) throw new drs.DrsError(`--time must be FROM-TO dates, e.g. 1850-1900 or 185001-190012; got ${flags.time}`);
  const result = catalog.query(where, { time, requireAllOn });
  if (flags.json) console.log(JSON.stringify(result.files.map((f) => ({ ...f.facets, path: f.path })), null, 2));
  else process.stdout.write(result.toCSV());
}

export async function drsProblems(source: string, flags: ScanFlags & { json?: boolean }) {
  if (existsSync(source) && !statSync(source).isDirectory()) throw new drs.DrsError(`${source} is a catalog; problems are found by scanning: give the tree's root`);
  const catalog = await load(source, flags);
  if (flags.json) return void console.log(JSON.stringify(catalog.problems, null, 2));
  for (const p of catalog.problems) console.log(`${p.severity === "error" ? "error  " : "warning"} ${p.kind.padEnd(11)} ${p.path}: ${p.message}`);
  console.log(`${catalog.problems.length} problems (${catalog.problems.filter((p) => p.severity === "error").length} files left out)`);
}
