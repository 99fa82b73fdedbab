/**
 * Writing a result: CF NetCDF classic (float32 with one fill value, time and
 * its bounds or climatology bounds, coordinates with bounds, cell_methods
 * extended, `history` naming the files, versions and weights used), tidy CSV
 * (one row per point) or JSON.
 */
import { writeFile } from "node:fs/promises";
import { writeNetCDF, type AttrValue, type CFDate } from "@meridian/io";
import type { NcFileSpec, NcVarSpec } from "@meridian/io";
import { ReduceError } from "./errors.ts";
import type { Field } from "./evaluate.ts";

export const FILL = 1e20;

/** Attributes that described the stored values of the input, not the result. */
const STORAGE = new Set(["_FillValue", "missing_value", "scale_factor", "add_offset", "valid_min", "valid_max", "valid_range", "_Unsigned", "_ChunkSizes", "cell_methods", "history"]);

const pad = (n: number, w = 2) => String(n).padStart(w, "0");
export const isoDate = (d: CFDate) => `${d.year < 0 ? "-" + pad(-d.year, 4) : pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}T${pad(d.hour)}:${pad(d.minute)}:${pad(Math.floor(d.second))}`;

/** What to say in `history` besides the command. */
export interface Provenance {
  command: string;
  files: string[];
  /** e.g. DRS versions used. */
  extra?: string[];
}

function attrs(a: Record<string, AttrValue>, drop = STORAGE): Record<string, string | number | number[]> {
  const out: Record<string, string | number | number[]> = {};
  for (const [k, v] of Object.entries(a)) {
    if (drop.has(k)) continue;
    if (typeof v === "string" || typeof v === "number") out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === "number")) out[k] = v as number[];
  }
  return out;
}

export function history(f: Field, p: Provenance, previous?: AttrValue): string {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const lines = [`${now} ${p.command}`, `  files: ${p.files.join(" ")}`, ...f.notes.map((n) => `  ${n}`), ...(p.extra ?? []).map((n) => `  ${n}`)];
  return typeof previous === "string" && previous ? `${lines.join("\n")}\n${previous}` : lines.join("\n");
}

/** The result as a CF NetCDF classic file. */
export async function writeResultNetCDF(path: string, f: Field, p: Provenance, globalAttrs: Record<string, AttrValue> = {}): Promise<void> {
  await writeNetCDF(path, resultSpec(f, p, globalAttrs));
}

/**
 * The CF NetCDF classic file of a result; with `later`, its values are left
 * for writeValues() (float32, FILL for missing), as engines compute them.
 */
export function resultSpec(f: Field, p: Provenance, globalAttrs: Record<string, AttrValue> = {}, later = false): NcFileSpec {
  const steps = f.time.length;
  const dims: Record<string, number> = { time: steps };
  const variables: NcVarSpec[] = [];
  const timeAttrs: Record<string, string | number> = { standard_name: "time", long_name: "time", units: f.axis.unitsText, calendar: f.axis.calendar.name, axis: "T" };
  if (f.timeBounds) {
    dims.bnds = 2;
    timeAttrs[f.climatology ? "climatology" : "bounds"] = f.climatology ? "climatology_bnds" : "time_bnds";
  }
  variables.push({ name: "time", dims: ["time"], dtype: "float64", attrs: timeAttrs, data: Array.from(f.time, (t) => f.axis.value(t)) });
  if (f.timeBounds) variables.push({ name: f.climatology ? "climatology_bnds" : "time_bnds", dims: ["time", "bnds"], dtype: "float64", data: Array.from(f.timeBounds, (t) => f.axis.value(t)) });
  f.dims.forEach((d, i) => {
    dims[d] = f.shape[i];
    const c = f.coords[d];
    if (!c || c.values.length !== f.shape[i]) return;
    const a = attrs(c.attrs, new Set([...STORAGE, "bounds"]));
    if (c.bounds) {
      dims.bnds = 2;
      a.bounds = `${d}_bnds`;
      variables.push({ name: `${d}_bnds`, dims: [d, "bnds"], dtype: "float64", data: c.bounds });
    }
    variables.push({ name: d, dims: [d], dtype: "float64", attrs: a, data: c.values });
  });
  // (scalar coordinates are not carried over; cell areas no longer apply once the field is reduced)
  const va = attrs(f.attrs, new Set([...STORAGE, "coordinates", ...(f.cellMethods.some((m) => m.startsWith("area:")) ? ["cell_measures"] : [])]));
  const before = typeof f.attrs.cell_methods === "string" ? `${f.attrs.cell_methods} ` : "";
  va.cell_methods = before + f.cellMethods.join(" ");
  const data = later ? "later" : float32Values(f.data);
  variables.push({ name: f.variable, dims: ["time", ...f.dims], dtype: "float32", attrs: { ...va, _FillValue: FILL, missing_value: { dtype: "float32", value: FILL } }, data });
  const g = attrs(globalAttrs, new Set(["history"]));
  return { dims, unlimited: "time", attrs: { ...g, history: history(f, p, globalAttrs.history) }, variables };
}

/** Values as written: float32, FILL for missing. */
export function float32Values(values: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(values);
  for (let i = 0; i < out.length; i++) if (out[i] !== out[i]) out[i] = FILL;
  return out;
}

/** One row per point: time, its bounds, each coordinate, the value (empty when missing). */
export function toCSV(f: Field): string {
  const cells = f.data.length / Math.max(1, f.time.length);
  const header = ["time", ...(f.timeBounds ? ["time_start", "time_end"] : []), ...f.dims, f.variable];
  const rows = [header.join(",")];
  const index = new Array<number>(f.dims.length).fill(0);
  for (let t = 0; t < f.time.length; t++) {
    const time = [isoDate(f.axis.dateOf(f.time[t])), ...(f.timeBounds ? [isoDate(f.axis.dateOf(f.timeBounds[2 * t])), isoDate(f.axis.dateOf(f.timeBounds[2 * t + 1]))] : [])];
    for (let j = 0; j < cells; j++) {
      let r = j;
      for (let d = f.dims.length - 1; d >= 0; d--) (index[d] = r % f.shape[d]), (r = Math.floor(r / f.shape[d]));
      const coords = f.dims.map((d, k) => f.coords[d]?.values[index[k]] ?? index[k]);
      const v = f.data[t * cells + j];
      rows.push([...time, ...coords, v === v ? v : ""].join(","));
    }
  }
  return rows.join("\n") + "\n";
}

/** The result as JSON: dates, coordinates, values (null when missing), cell_methods, notes. */
export function toJSON(f: Field) {
  return {
    variable: f.variable,
    dims: ["time", ...f.dims],
    shape: [f.time.length, ...f.shape],
    time: Array.from(f.time, (t) => isoDate(f.axis.dateOf(t))),
    time_bounds: f.timeBounds ? Array.from({ length: f.time.length }, (_, t) => [isoDate(f.axis.dateOf(f.timeBounds![2 * t])), isoDate(f.axis.dateOf(f.timeBounds![2 * t + 1]))]) : undefined,
    coords: Object.fromEntries(f.dims.map((d) => [d, f.coords[d] ? Array.from(f.coords[d].values) : null])),
    units: f.attrs.units,
    cell_methods: f.cellMethods.join(" "),
    notes: f.notes,
    values: Array.from(f.data, (v) => (v === v ? v : null)),
  };
}

/** Writes a result by the extension of `path`: .nc, .csv or .json. */
export async function writeResult(path: string, f: Field, p: Provenance, globalAttrs?: Record<string, AttrValue>): Promise<void> {
  if (/\.nc$/i.test(path)) return writeResultNetCDF(path, f, p, globalAttrs);
  if (/\.csv$/i.test(path)) return writeFile(path, toCSV(f));
  if (/\.json$/i.test(path)) return writeFile(path, JSON.stringify(toJSON(f), null, 1) + "\n");
  throw new ReduceError("write the result to a .nc, .csv or .json file", path);
}
