/**
 * Scanning a DRS tree: every NetCDF file is matched against the layouts and
 * gets its facets; everything that does not fit is a Problem with its reason,
 * and the scan goes on. Directories are read in parallel. `latest` links are
 * recorded, not followed (their files are reached through the real version);
 * drslib's `files/` store is skipped (its files are reached through `vN/`).
 */
import { statSync } from "node:fs";
import { readdir, readlink, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { DrsError } from "../errors.ts";
import { Catalog, type CatalogFile, type Problem, type VersionPolicy } from "./catalog.ts";
import { compile, matchDir, matchName, TEMPLATES, type DrsTemplate, type Match } from "./templates.ts";
import { compareStarts, continuity, parseTimeRange, rangeDigits, type TimeRange } from "./timerange.ts";
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
  /** Its files, one piece per variable (a series: one variable of one dataset version). */
  pieces: CatalogFile[][];
  problems: Problem[];
}

/** What a directory's files of one shape (their name but for its time range) share. */
interface Shape {
  /** The directory, relative to the root. */
  dir: string;
  project: "cmip5" | "cmip6";
  template: string;
  /** With the time range of the first file of the shape. */
  facets: Record<string, string>;
  mismatches: Match["mismatches"];
  versionDir?: string;
  /** Where the time range sits in the names: characters before it and after it (none: the facets' own). */
  timeAt?: [number, number];
}

/**
 * A scanned file: its name and its shape. Its path, time range and facets are
 * built when asked for: a scan of 200,000 files then keeps two small things
 * per file instead of ten (garbage collection was a third of a scan's time).
 */
class ScannedFile implements CatalogFile {
  #facets?: Record<string, string>;
  #time?: TimeRange;
  constructor(
    private readonly name: string,
    private readonly shape: Shape,
  ) {}
  get path() {
    return this.shape.dir ? `${this.shape.dir}/${this.name}` : this.name;
  }
  get project() {
    return this.shape.project;
  }
  get template() {
    return this.shape.template;
  }
  get versionDir() {
    return this.shape.versionDir;
  }
  /** As the name writes it (valid: checked by the scan). */
  get timeRange(): string | undefined {
    const at = this.shape.timeAt;
    return at ? this.name.slice(at[0], this.name.length - at[1]) : this.shape.facets.time_range;
  }
  get facets() {
    return (this.#facets ??= this.shape.timeAt ? { ...this.shape.facets, time_range: this.timeRange! } : { ...this.shape.facets });
  }
  get time() {
    const text = this.timeRange;
    return text === undefined ? undefined : (this.#time ??= parseTimeRange(text));
  }
  toJSON(): CatalogFile {
    const { path, project, template, facets, time, versionDir } = this;
    return { path, project, template, facets, ...(time && { time }), ...(versionDir !== undefined && { versionDir }) };
  }
}

/** A shape's layout match (none: the name fits no layout), the precision its frequency implies, its files here. */
interface ShapeHit {
  shape?: Shape;
  precision?: number[];
  series?: ScannedFile[];
}

/** Gaps, overlaps and duplicate time ranges in a series of files (one variable of one dataset version). */
function checkSeries(files: ScannedFile[], problems: Problem[]) {
  const timed = files.filter((f) => f.timeRange !== undefined);
  // (names sort by time already, but for mixed precisions)
  if (!timed.every((f, i) => !i || compareStarts(timed[i - 1].timeRange!, f.timeRange!) <= 0)) timed.sort((a, b) => compareStarts(a.timeRange!, b.timeRange!) || (a.path < b.path ? -1 : 1));
  for (let i = 1; i < timed.length; i++) {
    const a = timed[i - 1], b = timed[i];
    const c = continuity(a.timeRange!, b.timeRange!);
    if (c === "contiguous") continue;
    const message = c === "gap" ? `a gap: ${a.timeRange} is followed by ${b.timeRange}`
      : c === "duplicate" ? `the same time range as ${a.path}` : `overlaps ${a.path} (${a.timeRange} and ${b.timeRange})`;
    problems.push({ path: b.path, kind: c, message, severity: "warning" });
  }
}

/** The directory records of the trees scanned lately in this process, by root and layouts (the last few). */
const remembered = new Map<string, { records: Map<string, DirRecord>; built?: Catalog }>();
const REMEMBER = 4;

const NETCDF = /\.nc4?$/;
/** A filename's time range, as the layouts write it: `_N1-N2[-clim]` before the next part or the extension. */
const TIME_TOKEN = /_(\d{4,14}-\d{4,14}(?:-clim)?)(?=[_.])/;
const RANGE_TEXT = /^\d{4,14}-\d{4,14}(?:-clim)?$/;

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
    /** A problem with the file `name` of this directory. */
    const problem = (name: string, kind: Problem["kind"], message: string, severity: Problem["severity"] = "error") =>
      record.problems.push({ path: relDir ? `${relDir}/${name}` : name, kind, message, severity });
    const parts = relDir ? relDir.split("/") : [];
    const fits = compiled.map((c) => matchDir(c, parts));
    names.sort();
    // The files of a directory differ by their time range only, as a rule: a name is
    // matched once per shape (the name but for its time range), then reused.
    const shapes = new Map<string, ShapeHit>();
    let last: { before: string; after: string; hit: ShapeHit } | undefined;
    for (const name of names) {
      // the previous name's shape, as a rule: no regular expression, no key built
      let hit: ShapeHit | undefined, text: string | undefined;
      if (last && name.length > last.before.length + last.after.length && name.startsWith(last.before) && name.endsWith(last.after)) {
        text = name.slice(last.before.length, name.length - last.after.length);
        if (RANGE_TEXT.test(text)) hit = last.hit;
      }
      if (!hit) {
        const t = TIME_TOKEN.exec(name);
        text = t?.[1];
        const before = t ? t.index + 1 : 0, after = t ? name.length - before - t[1].length : 0;
        const key = t ? `${name.slice(0, before)}\u0000${name.slice(name.length - after)}` : name;
        hit = shapes.get(key) ?? shapeOf(name, relDir, parts, fits, t ? [before, after] : undefined);
        shapes.set(key, hit);
        // a layout whose time range is not the one the scan looks for: each name is its own shape
        if (hit.shape && hit.shape.facets.time_range !== undefined && !hit.shape.timeAt && key !== name) shapes.set(name, (hit = shapeOf(name, relDir, parts, fits))), (text = undefined);
        else if (t) last = { before: name.slice(0, before), after: name.slice(name.length - after), hit };
      }
      const shape = hit.shape;
      if (!shape) {
        const why = compiled.some((c) => c.file.test(name)) ? "its directories fit no known layout" : "its name fits no known DRS filename";
        problem(name, "layout", `${why} (tried ${compiled.map((c) => c.template.name).join(", ")})`);
        continue;
      }
      for (const [facet, inPath, inName] of shape.mismatches) problem(name, "mismatch", `${facet} is "${inPath}" in the path but "${inName}" in the name; the name's is used`, "warning");
      if (shape.facets.time_range !== undefined) {
        text ??= shape.facets.time_range;
        const n = rangeDigits(text);
        if (!n) {
          problem(name, "time", `time range ${text} is not two dates of one precision, in order`);
          continue;
        }
        if (hit.precision && !hit.precision.includes(n)) problem(name, "time", `time range ${text} has ${n} digits; frequency ${shape.facets.frequency} implies ${hit.precision.join(" or ")}`, "warning");
      }
      hit.series!.push(new ScannedFile(name, shape));
    }
    // Each variable's files here are one series (one dataset version): gaps, overlaps, duplicates.
    const byVariable = new Map<string, ScannedFile[]>();
    for (const hit of new Set(shapes.values())) {
      if (!hit.series?.length) continue;
      const v = hit.shape!.facets.variable ?? hit.shape!.facets.variable_id ?? "";
      const series = byVariable.get(v);
      if (!series) byVariable.set(v, hit.series);
      else byVariable.set(v, [...series, ...hit.series].sort((a, b) => (a.path < b.path ? -1 : 1))); // several shapes: back to name order
    }
    for (const series of byVariable.values()) {
      record.pieces.push(series);
      checkSeries(series, record.problems);
    }
  };

  /** A name's layout and facets, and what they imply. */
  const shapeOf = (name: string, dir: string, parts: string[], fits: (Record<string, string> | undefined)[], timeAt?: [number, number]): ShapeHit => {
    let found: Match | undefined, k = 0;
    for (; k < compiled.length && !found; k++) if (fits[k]) found = matchName(compiled[k], fits[k]!, name);
    if (!found) return {};
    if (found.project === "cmip5" && found.facets.mip_table) {
      // What a MIP table implies, where the layout has no level for it.
      const table = CMIP5_TABLES[found.facets.mip_table];
      found.facets.frequency ??= table.frequency;
      if (table.realm) found.facets.modeling_realm ??= table.realm;
    }
    const shape: Shape = { dir, project: found.project, template: found.template, facets: found.facets, mismatches: found.mismatches };
    // (the time range the layout found is the one the scan finds, as a rule)
    if (timeAt && found.facets.time_range === name.slice(timeAt[0], name.length - timeAt[1])) shape.timeAt = timeAt;
    // the directory holding the layout's version level
    const c = compiled[k - 1], level = c.levels.indexOf("{version}");
    if (level >= 0) shape.versionDir = parts.slice(0, parts.length - c.levels.length + level).join("/");
    return { shape, precision: timePrecision(found.facets.frequency ?? ""), series: [] };
  };

  /** Reads a directory (`rel` to the root): its subdirectories, and its NetCDF files classified. */
  const read = async (dir: string, rel: string, mtimeMs: number): Promise<DirRecord> => {
    reads++;
    const record: DirRecord = { mtimeMs, subdirs: [], pieces: [], problems: [] };
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
      if (d.isSymbolicLink()) {
        const path = `${dir}/${d.name}`;
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
  const visit = (dir: string, rel: string): DirRecord | Promise<DirRecord> => {
    if (!reuse) return read(dir, rel, -1);
    // (a link inside changes the directory's mtime when replaced, as `ln -sfn` does.
    // A directory's attributes are in the kernel's cache, and a thread-pool round trip
    // per directory would double a rescan's time.)
    const mtimeMs = mtimeOf(dir);
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
        if (reuse) records.set(rel, record);
        dirs++;
        for (const piece of record.pieces) groups.push(piece), (fileCount += piece.length);
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

/** A directory's mtime (ms), or -1 when it cannot be had. */
function mtimeOf(dir: string): number {
  try {
    return statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? -1;
  } catch {
    return -1;
  }
}

/** True the first time a directory reached through a link is seen (a link loop would repeat it forever). */
async function firstVisit(dir: string, seen: Set<string>): Promise<boolean> {
  const t = await stat(dir).catch(() => undefined);
  const key = `${t?.dev}:${t?.ino}`;
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}
