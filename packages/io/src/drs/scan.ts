/**
 * Scanning a DRS tree: every NetCDF file is matched against the layouts and
 * gets its facets; everything that does not fit is a Problem with its reason,
 * and the scan goes on. Directories are read in parallel. `latest` links are
 * recorded, not followed (their files are reached through the real version);
 * drslib's `files/` store is skipped (its files are reached through `vN/`).
 */
import { lstat, opendir, readlink, stat } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import { DrsError } from "../errors.ts";
import { Catalog, type CatalogFile, type Problem, type VersionPolicy } from "./catalog.ts";
import { compile, match, TEMPLATES, type DrsTemplate } from "./templates.ts";
import { parseTimeRange } from "./timerange.ts";
import { CMIP5_TABLES, timePrecision } from "./vocab.ts";

export interface ScanOptions {
  /** Which layouts to try (default: auto, both projects). */
  project?: "cmip5" | "cmip6" | "auto";
  /** Layouts tried first (e.g. from userTemplate()). */
  templates?: DrsTemplate[];
  versions?: VersionPolicy;
  /** Directories read at once (default 32). */
  concurrency?: number;
  /** Called as directories are read: directories and files seen so far. */
  onProgress?: (dirs: number, files: number) => void;
  signal?: AbortSignal;
}

const NETCDF = /\.nc4?$/;

export async function scan(rootPath: string, options: ScanOptions = {}): Promise<Catalog> {
  const root = resolve(rootPath);
  const rootStat = await stat(root).catch((e: NodeJS.ErrnoException) => {
    throw new DrsError(`cannot scan: ${e.code === "ENOENT" ? "no such directory" : e.code ?? e.message}`, root);
  });
  if (!rootStat.isDirectory()) throw new DrsError("cannot scan: not a directory", root);
  const project = options.project ?? "auto";
  const compiled = [...(options.templates ?? []), ...TEMPLATES.filter((t) => project === "auto" || t.project === project)].map(compile);
  const files: CatalogFile[] = [];
  const problems: Problem[] = [];
  /** Per directory holding versions: where its `latest` points. */
  const latest = new Map<string, string>();
  const seen = new Set<string>(); // real paths of directories, against link cycles
  let dirs = 0;
  const rel = (p: string) => relative(root, p).split(sep).join("/");
  const problem = (path: string, kind: Problem["kind"], message: string, severity: Problem["severity"] = "error") =>
    problems.push({ path: rel(path), kind, message, severity });

  const classify = (path: string) => {
    const parts = rel(path).split("/");
    const name = parts.pop()!;
    let found;
    for (const c of compiled) if ((found = match(c, parts, name))) break;
    if (!found) {
      const why = compiled.some((c) => c.file.test(name)) ? "its directories fit no known layout" : "its name fits no known DRS filename";
      return problem(path, "layout", `${why} (tried ${compiled.map((c) => c.template.name).join(", ")})`);
    }
    const f = found.facets;
    for (const [facet, inPath, inName] of found.mismatches) problem(path, "mismatch", `${facet} is "${inPath}" in the path but "${inName}" in the name; the name's is used`, "warning");
    // What a MIP table implies, where the layout has no level for it.
    if (found.project === "cmip5" && f.mip_table) {
      const t = CMIP5_TABLES[f.mip_table];
      f.frequency ??= t.frequency;
      if (t.realm) f.modeling_realm ??= t.realm;
    }
    const entry: CatalogFile = { path: rel(path), project: found.project, template: found.template, facets: f };
    if (f.time_range) {
      const range = parseTimeRange(f.time_range);
      const precision = timePrecision(f.frequency ?? "");
      if (!range) problem(path, "time", `time range ${f.time_range} is not two dates of one precision, in order`);
      else {
        entry.time = range;
        if (precision && !precision.includes(range.start.length)) problem(path, "time", `time range ${f.time_range} has ${range.start.length} digits; frequency ${f.frequency} implies ${precision.join(" or ")}`, "warning");
      }
    }
    files.push(entry);
  };

  const visit = async (dir: string): Promise<string[]> => {
    const subdirs: string[] = [];
    let handle;
    try {
      handle = await opendir(dir);
    } catch (e) {
      problem(dir, "unreadable", `cannot read the directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return subdirs;
    }
    dirs++;
    const storeDir = basename(dir) === "files";
    for await (const d of handle) {
      const path = join(dir, d.name);
      if (d.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        if (!target) {
          problem(path, "broken-link", `a link to ${await readlink(path).catch(() => "?")}, which does not exist`);
          continue;
        }
        if (target.isDirectory()) {
          if (d.name === "latest") latest.set(rel(dir), basename(await readlink(path)));
          else subdirs.push(path);
          continue;
        }
        if (NETCDF.test(d.name)) classify(path);
        else problem(path, "not-netcdf", "not a NetCDF file (.nc)");
      } else if (d.isDirectory()) {
        if (d.name === "latest") latest.set(rel(dir), "latest"); // a real directory named latest: a version of its own
        if (storeDir && /_\d+$/.test(d.name)) continue; // drslib's files/<variable>_<N>: reached through vN/
        subdirs.push(path);
      } else if (d.isFile()) {
        if (!NETCDF.test(d.name)) problem(path, "not-netcdf", "not a NetCDF file (.nc)");
        else if (storeDir) problem(path, "layout", "a file directly in a drslib files/ store (expected files/<variable>_<N>/)");
        else classify(path);
      }
    }
    return subdirs;
  };

  // Breadth-first, `concurrency` directories at once.
  const limit = options.concurrency ?? 32;
  let queue = [root];
  while (queue.length) {
    options.signal?.throwIfAborted();
    const next: string[] = [];
    for (let i = 0; i < queue.length; i += limit) {
      const batch = queue.slice(i, i + limit);
      const found = await Promise.all(batch.map(async (d) => {
        const real = await realKey(d);
        if (seen.has(real)) return [];
        seen.add(real);
        return visit(d);
      }));
      for (const f of found) next.push(...f);
      options.onProgress?.(dirs, files.length);
    }
    queue = next;
  }
  return Catalog.build(root, files, problems, latest, options.versions ?? "latest");
}

async function realKey(dir: string): Promise<string> {
  const s = await lstat(dir).catch(() => undefined);
  if (!s?.isSymbolicLink()) return `${s?.dev}:${s?.ino}`;
  const t = await stat(dir).catch(() => undefined);
  return `${t?.dev}:${t?.ino}`;
}
