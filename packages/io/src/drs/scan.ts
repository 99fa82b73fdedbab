/**
 * Scanning a DRS tree: every NetCDF file is matched against the layouts and
 * gets its facets; everything that does not fit is a Problem with its reason,
 * and the scan goes on. Directories are read in parallel. `latest` links are
 * recorded, not followed (their files are reached through the real version);
 * drslib's `files/` store is skipped (its files are reached through `vN/`).
 */
import { readdir, readlink, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { DrsError } from "../errors.ts";
import { Catalog, checkSeries, sortBy, type CatalogFile, type Problem, type VersionPolicy } from "./catalog.ts";
import { compile, matchDir, matchName, TEMPLATES, type DrsTemplate, type Match } from "./templates.ts";
import { parseTimeRange } from "./timerange.ts";
import { CMIP5_TABLES, timePrecision } from "./vocab.ts";

export interface ScanOptions {
  /** Which layouts to try (default: auto, both projects). */
  project?: "cmip5" | "cmip6" | "auto";
  /** Layouts tried first (e.g. from userTemplate()). */
  templates?: DrsTemplate[];
  versions?: VersionPolicy;
  /** Directories read at once (default 64). */
  concurrency?: number;
  /** Called as directories are read: directories and files seen so far. */
  onProgress?: (dirs: number, files: number) => void;
  signal?: AbortSignal;
  /**
   * Reuse what an earlier scan of the same tree in this process found in each
   * directory whose mtime has not changed (default true): a rescan then reads
   * and classifies only the directories that changed (entries added, removed
   * or renamed change a directory's mtime). File records are shared between
   * such catalogs.
   */
  reuse?: boolean;
}

/** What one directory gave. */
interface DirRecord {
  mtimeMs: number;
  /** Subdirectories: name, and whether reached through a link. */
  subdirs: [string, boolean][];
  /** Where a `latest` entry here points. */
  latest?: string;
  files: CatalogFile[];
  problems: Problem[];
}

/** The directory records of the trees scanned lately in this process, by root and layouts (the last few). */
const remembered = new Map<string, { records: Map<string, DirRecord>; built?: Catalog }>();
const REMEMBER = 4;

const NETCDF = /\.nc4?$/;
/** A filename's time range, as the layouts write it: `_N1-N2[-clim]` before the next part or the extension. */
const TIME_TOKEN = /_(\d{4,14}-\d{4,14}(?:-clim)?)(?=[_.])/;

export async function scan(rootPath: string, options: ScanOptions = {}): Promise<Catalog> {
  const root = resolve(rootPath);
  const rootStat = await stat(root).catch((e: NodeJS.ErrnoException) => {
    throw new DrsError(`cannot scan: ${e.code === "ENOENT" ? "no such directory" : e.code ?? e.message}`, root);
  });
  if (!rootStat.isDirectory()) throw new DrsError("cannot scan: not a directory", root);
  const project = options.project ?? "auto";
  if (!["cmip5", "cmip6", "auto"].includes(project)) throw new DrsError(`project must be cmip5, cmip6 or auto, not ${JSON.stringify(project)}`, root);
  if (options.versions !== undefined && !["latest", "newest-per-file", "all"].includes(options.versions)) throw new DrsError(`versions must be latest, newest-per-file or all, not ${JSON.stringify(options.versions)}`, root);
  const compiled = [...(options.templates ?? []), ...TEMPLATES.filter((t) => project === "auto" || t.project === project)].map(compile);
  const seen = new Set<string>(); // real directories, against link cycles
  const memoryKey = `${root}\u0000${JSON.stringify(compiled.map((c) => c.template))}`;
  const reuse = options.reuse !== false;
  const memory = reuse ? remembered.get(memoryKey) : undefined;
  const before = memory?.records;
  let reads = 0;
  const records = new Map<string, DirRecord>();

  /** The files of one directory: its levels matched once per layout, then each name. */
  const classify = (relDir: string, names: string[], record: DirRecord) => {
    if (!names.length) return;
    const problem = (path: string, kind: Problem["kind"], message: string, severity: Problem["severity"] = "error") =>
      record.problems.push({ path, kind, message, severity });
    const parts = relDir ? relDir.split("/") : [];
    const fits = compiled.map((c) => matchDir(c, parts));
    // per layout, the directory holding its version level
    const versionDirs = compiled.map((c) => {
      const k = c.levels.indexOf("{version}");
      return k < 0 ? undefined : parts.slice(0, parts.length - c.levels.length + k).join("/");
    });
    const series: CatalogFile[] = [];
    names.sort();
    // The files of a directory differ by their time range only, as a rule: a name is
    // matched once per shape (the name without its time range), then reused.
    const shapes = new Map<string, { found?: Match; k: number; precision?: number[] }>();
    for (const name of names) {
      const path = relDir ? `${relDir}/${name}` : name;
      const t = TIME_TOKEN.exec(name);
      const shape = t ? `${name.slice(0, t.index)}\u0000${name.slice(t.index + t[0].length)}` : name;
      let hit = shapes.get(shape);
      if (!hit) {
        let found: Match | undefined, k = 0;
        for (; k < compiled.length && !found; k++) if (fits[k]) found = matchName(compiled[k], fits[k]!, name);
        if (found && found.project === "cmip5" && found.facets.mip_table) {
          // What a MIP table implies, where the layout has no level for it.
          const table = CMIP5_TABLES[found.facets.mip_table];
          found.facets.frequency ??= table.frequency;
          if (table.realm) found.facets.modeling_realm ??= table.realm;
        }
        shapes.set(shape, (hit = { found, k, precision: found && timePrecision(found.facets.frequency ?? "") }));
      }
      const found = hit.found;
      if (!found) {
        const why = compiled.some((c) => c.file.test(name)) ? "its directories fit no known layout" : "its name fits no known DRS filename";
        problem(path, "layout", `${why} (tried ${compiled.map((c) => c.template.name).join(", ")})`);
        continue;
      }
      // the shape's facets, with this file's own time range
      const f: Record<string, string> = found.facets.time_range !== undefined && t ? { ...found.facets, time_range: t[1] } : { ...found.facets };
      for (const [facet, inPath, inName] of found.mismatches) problem(path, "mismatch", `${facet} is "${inPath}" in the path but "${inName}" in the name; the name's is used`, "warning");
      const entry: CatalogFile = { path, project: found.project, template: found.template, facets: f };
      if (versionDirs[hit.k - 1] !== undefined) entry.versionDir = versionDirs[hit.k - 1];
      if (f.time_range) {
        const range = parseTimeRange(f.time_range);
        const precision = hit.precision;
        if (!range) problem(path, "time", `time range ${f.time_range} is not two dates of one precision, in order`);
        else {
          entry.time = range;
          if (precision && !precision.includes(range.start.length)) problem(path, "time", `time range ${f.time_range} has ${range.start.length} digits; frequency ${f.frequency} implies ${precision.join(" or ")}`, "warning");
        }
      }
      series.push(entry);
    }
    record.files = series;
    // Each variable's files here are one series (one dataset version): gaps, overlaps, duplicates.
    const byVariable = new Map<string, CatalogFile[]>();
    for (const f of series) {
      const v = f.facets.variable ?? f.facets.variable_id ?? "";
      const g = byVariable.get(v);
      if (g) g.push(f);
      else byVariable.set(v, [f]);
    }
    // (names sort by time already, but for mixed precisions)
    for (const g of byVariable.values()) if (g.length > 1) checkSeries(g.every((f, i) => !i || (f.time?.from ?? "") >= (g[i - 1].time?.from ?? "")) ? g : sortBy(g, (f) => `${f.time?.from ?? ""}\u0000${f.path}`), record.problems);
  };

  /** Reads a directory (`rel` to the root): its subdirectories, and its NetCDF files classified. */
  const read = async (dir: string, rel: string, mtimeMs: number): Promise<DirRecord> => {
    reads++;
    const record: DirRecord = { mtimeMs, subdirs: [], files: [], problems: [] };
    const problem = (path: string, kind: Problem["kind"], message: string) => record.problems.push({ path, kind, message, severity: "error" });
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      problem(rel, "unreadable", `cannot read the directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      record.mtimeMs = -1; // never reused
      return record;
    }
    const storeDir = rel.endsWith("/files") || rel === "files";
    const names: string[] = [];
    const at = (name: string) => (rel ? `${rel}/${name}` : name);
    for (const d of entries) {
      const path = `${dir}/${d.name}`;
      if (d.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        if (!target) {
          problem(at(d.name), "broken-link", `a link to ${await readlink(path).catch(() => "?")}, which does not exist`);
          continue;
        }
        if (target.isDirectory()) {
          if (d.name === "latest") record.latest = basename(await readlink(path));
          else record.subdirs.push([d.name, true]);
          continue;
        }
        if (NETCDF.test(d.name)) names.push(d.name);
        else problem(at(d.name), "not-netcdf", "not a NetCDF file (.nc)");
      } else if (d.isDirectory()) {
        if (d.name === "latest") record.latest = "latest"; // a real directory named latest: a version of its own
        if (storeDir && /_\d+$/.test(d.name)) continue; // drslib's files/<variable>_<N>: reached through vN/
        record.subdirs.push([d.name, false]);
      } else if (d.isFile()) {
        if (!NETCDF.test(d.name)) problem(at(d.name), "not-netcdf", "not a NetCDF file (.nc)");
        else if (storeDir) problem(at(d.name), "layout", "a file directly in a drslib files/ store (expected files/<variable>_<N>/)");
        else names.push(d.name);
      }
    }
    classify(rel, names, record);
    return record;
  };

  /** A directory's record: the one an earlier scan made while its mtime is the same, else read now. */
  const visit = async (dir: string, rel: string): Promise<DirRecord> => {
    if (!reuse) return read(dir, rel, -1);
    // (a link inside changes the directory's mtime when replaced, as `ln -sfn` does)
    const mtimeMs = (await stat(dir).catch(() => undefined))?.mtimeMs ?? -1;
    const old = before?.get(rel);
    return old && mtimeMs >= 0 && old.mtimeMs === mtimeMs ? old : read(dir, rel, mtimeMs);
  };

  // Breadth-first, `concurrency` directories at once.
  const limit = options.concurrency ?? 64;
  const groups: CatalogFile[][] = [];
  const problems: Problem[] = [];
  const latest = new Map<string, string>();
  let dirs = 0, fileCount = 0;
  let queue: [string, string, boolean][] = [[root, "", false]];
  while (queue.length) {
    options.signal?.throwIfAborted();
    const next: [string, string, boolean][] = [];
    for (let i = 0; i < queue.length; i += limit) {
      const batch = queue.slice(i, i + limit);
      const found = await Promise.all(batch.map(async ([d, rel, linked]) => (linked && !(await firstVisit(d, seen)) ? undefined : visit(d, rel))));
      found.forEach((record, k) => {
        if (!record) return;
        const [dir, rel] = batch[k];
        records.set(rel, record);
        dirs++;
        if (record.files.length) groups.push(record.files);
        fileCount += record.files.length;
        for (const p of record.problems) problems.push(p);
        if (record.latest) latest.set(rel, record.latest);
        for (const [name, link] of record.subdirs) next.push([`${dir}/${name}`, rel ? `${rel}/${name}` : name, link]);
      });
      options.onProgress?.(dirs, fileCount);
    }
    queue = next;
  }
  const policy = options.versions ?? "latest";
  // Nothing changed since the last scan with this policy: its catalog again (with its own list of problems).
  if (memory?.built && reads === 0 && records.size === before!.size && memory.built.versions === policy) return memory.built.again();
  const catalog = Catalog.build(root, groups, problems, latest, policy);
  if (reuse) {
    remembered.delete(memoryKey);
    remembered.set(memoryKey, { records, built: catalog.again() });
    if (remembered.size > REMEMBER) remembered.delete(remembered.keys().next().value!);
  }
  return catalog;
}

/** True the first time a directory reached through a link is seen (a link loop would repeat it forever). */
async function firstVisit(dir: string, seen: Set<string>): Promise<boolean> {
  const t = await stat(dir).catch(() => undefined);
  const key = `${t?.dev}:${t?.ino}`;
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}
