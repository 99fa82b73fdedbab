/**
 * Everything that touches h5wasm (HDF5 compiled to WebAssembly, reading files
 * from disk lazily). It runs in a worker thread (worker.ts): HDF5 aborts on some
 * corrupt files, and an abort must end that worker, not the process.
 *
 * Groups are path names: a dataset `/grp/t` is the variable `grp/t`. A file
 * written by netCDF-4 gets netCDF semantics: dimension names from its dimension
 * scales, the dimension-only datasets netCDF-4 adds hidden, unlimited dimensions
 * from their maximum shape, netCDF's internal attributes left out, char
 * variables as text. Other datasets get netCDF-C's "phony" dimensions (one per
 * distinct length in a group). Reads go through h5wasm's hyperslabs in pieces of
 * at most 64 MiB, because h5wasm stages each read in its own heap.
 */
import h5wasm from "h5wasm/node";
import type { Attribute } from "../../attribute.ts";
import type { Format, VariableInfo } from "../../backend.ts";
import { allocate, itemSize, type NumericArray, type NumericDType } from "../../dtype.ts";
import type { Hyperslab } from "../../selection.ts";
import { gist, quietly } from "./quiet.ts";

type H5File = InstanceType<typeof h5wasm.File>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
type H5Group = InstanceType<typeof h5wasm.Group>;

/** Largest piece read through h5wasm at once. */
const PIECE_BYTES = 64 * 1024 * 1024;
const UNLIMITED = Number.MAX_SAFE_INTEGER;
/** HDF5 type classes (H5Tpublic.h) that cannot be read yet. */
const CLASS_NAMES: Record<number, string> = { 2: "time", 4: "bitfield", 5: "opaque", 6: "compound", 7: "reference", 8: "enum", 9: "variable-length", 10: "array" };
/** netCDF-4's bookkeeping, which netCDF hides. */
const NETCDF_INTERNAL = new Set(["DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid", "_Netcdf4Coordinates", "_NCProperties", "_nc3_strict", "_SuperblockVersion", "_IsNetcdf4"]);
const PHANTOM = "This is a netCDF dimension but not a netCDF variable";

/** Largest attribute read (values), and most strings in one read. */
const MAX_ATTRIBUTE_VALUES = 1 << 20;
const MAX_STRINGS = 1 << 24;

/** A problem to report as a typed error in the main thread. */
export class Problem extends Error {
  /** `offset`: the byte the problem is at, when known. */
  constructor(readonly kind: "FormatError" | "UnsupportedError", readonly detail: string, readonly offset?: number) {
    super(detail);
  }
}

/** What the main thread learns about a file. */
export interface Description {
  format: Format;
  variant: string;
  dims: Record<string, number>;
  unlimited: string[];
  attributes: Attribute[];
  variables: VariableInfo[];
  unsupported: [string, string][];
}

interface Found { path: string; dataset: H5Dataset; group: string }

export interface Attached { file: H5File; datasets: Map<string, H5Dataset> }
export interface OpenFile extends Description, Attached {}

let ready: Promise<void> | undefined;

/** Opens and describes a file; a Problem when HDF5 cannot. */
export async function openFile(path: string): Promise<OpenFile> {
  await (ready ??= h5wasm.ready.then(() => undefined));
  const opened = quietly(() => new h5wasm.File(path, "r"));
  const file = opened.value;
  if (!file || file.file_id < 0n) {
    throw new Problem("FormatError", `HDF5 library cannot open the file: ${gist(opened.diagnostics) || (opened.error as Error)?.message || "not a readable HDF5 file"}`, 0);
  }
  const described = quietly(() => describe(file));
  if (described.value) return { ...described.value, file };
  quietly(() => file.close());
  if (described.error instanceof Problem) throw described.error;
  throw new Problem("FormatError", `cannot read the HDF5 structure: ${gist(described.diagnostics) || (described.error as Error)?.message}`);
}

/** Opens a file only to read from it (a second reading thread): its datasets are found when first read. */
export async function attachFile(path: string): Promise<Attached> {
  await (ready ??= h5wasm.ready.then(() => undefined));
  const opened = quietly(() => new h5wasm.File(path, "r"));
  if (!opened.value || opened.value.file_id < 0n) throw new Problem("FormatError", `HDF5 library cannot open the file again: ${gist(opened.diagnostics) || "not readable"}`, 0);
  return { file: opened.value, datasets: new Map() };
}

/** A dataset of an open or attached file, by variable name (its path). */
export function datasetOf(f: Attached, name: string): H5Dataset {
  let d = f.datasets.get(name);
  if (!d) {
    const item = quietly(() => f.file.get(name)).value;
    if (!(item instanceof h5wasm.Dataset)) throw new Problem("FormatError", `variable ${name}: no longer a dataset in the file`);
    f.datasets.set(name, (d = item));
  }
  return d;
}

export const closeFile = (f: Attached) => void quietly(() => f.file.close());

function describe(file: H5File): Description & { datasets: Map<string, H5Dataset> } {
  const found: Found[] = [];
  const walk = (group: H5Group, path: string) => {
    for (const key of group.keys()) {
      const item = group.get(key);
      const p = path ? `${path}/${key}` : key;
      if (item instanceof h5wasm.Group) walk(item, p);
      else if (item instanceof h5wasm.Dataset) found.push({ path: p, dataset: item, group: path });
    }
  };
  walk(file, "");
  const rootAttrs = Object.keys(file.attrs);
  // Written by netCDF-C: its own markers, not merely HDF5 dimension scales (h5py writes those too).
  const netcdf4 = rootAttrs.includes("_NCProperties") || rootAttrs.includes("_nc3_strict") ||
    found.some(({ dataset }) => "_Netcdf4Dimid" in dataset.attrs || "_Netcdf4Coordinates" in dataset.attrs || String(attrValue(dataset, "NAME") ?? "").startsWith(PHANTOM));

  const dims: Record<string, number> = {};
  const unlimited = new Set<string>();
  const phony = new Map<string, string>(); // group + length -> phony dim name
  const variables: VariableInfo[] = [];
  const unsupported = new Map<string, string>();
  const datasets = new Map<string, H5Dataset>();
  const isPhantom = (d: H5Dataset) => String(attrValue(d, "NAME") ?? "").startsWith(PHANTOM);

  for (const { path, dataset, group } of found) {
    const meta = dataset.metadata;
    const shape = dataset.shape ?? [];
    const maxshape = meta.maxshape ?? shape;
    // A dimension-only dataset of netCDF-4 is a dimension, not a variable.
    if (netcdf4 && isPhantom(dataset)) {
      const name = dimName(path);
      dims[name] = shape[0] ?? 0;
      if ((maxshape[0] ?? 0) > UNLIMITED) unlimited.add(name);
      continue;
    }
    const isScale = String(attrValue(dataset, "CLASS") ?? "") === "DIMENSION_SCALE";
    const dimNames = shape.map((size, i) => {
      const scales = isScale && shape.length === 1 ? [path] : safeScales(dataset, i); // a scale is its own dimension
      if (scales.length) {
        const name = dimName(scales[0].replace(/^\//, ""));
        dims[name] = size;
        if ((maxshape[i] ?? 0) > UNLIMITED) unlimited.add(name);
        return name;
      }
      const key = `${group}\u0000${size}`;
      if (!phony.has(key)) phony.set(key, `${group ? group + "/" : ""}phony_dim_${[...phony.keys()].filter((k) => k.startsWith(`${group}\u0000`)).length}`);
      const name = phony.get(key)!;
      dims[name] = size;
      if ((maxshape[i] ?? 0) > UNLIMITED) unlimited.add(name);
      return name;
    });
    const dtype = dtypeOf(meta, netcdf4);
    if (typeof dtype !== "string" || dtype.startsWith("!")) {
      unsupported.set(path, typeof dtype === "string" ? dtype.slice(1) : `has an HDF5 ${CLASS_NAMES[meta.type] ?? `class ${meta.type}`} type, which cannot be read yet`);
      continue;
    }
    datasets.set(path, dataset);
    variables.push({ name: path, dims: dimNames, shape, dtype: dtype as VariableInfo["dtype"], attributes: attributes(dataset.attrs, netcdf4) });
  }

  // netCDF lists dimensions by id: each scale dataset carries its _Netcdf4Dimid.
  const byPath = new Map(found.map((f) => [f.path, f.dataset]));
  const dimid = (name: string) => {
    const d = byPath.get(name);
    const id = d ? attrValue(d, "_Netcdf4Dimid") : undefined;
    return typeof id === "number" ? id : Infinity;
  };
  const ordered = Object.keys(dims).map((name, i) => ({ name, key: dimid(name), i })).sort((a, b) => a.key - b.key || a.i - b.i);
  return {
    format: netcdf4 ? "netcdf4" : "hdf5",
    variant: netcdf4 ? (rootAttrs.includes("_nc3_strict") ? "NETCDF4_CLASSIC" : "NETCDF4") : "hdf5",
    dims: Object.fromEntries(ordered.map(({ name }) => [name, dims[name]])),
    unlimited: ordered.filter(({ name }) => unlimited.has(name)).map(({ name }) => name),
    attributes: attributes(file.attrs, netcdf4),
    variables,
    unsupported: [...unsupported],
    datasets,
  };
}

/** A dimension's name: the scale's path, without the leading slash. */
const dimName = (path: string) => path.replace(/^\//, "");

function safeScales(d: H5Dataset, i: number): string[] {
  try {
    return d.get_attached_scales(i) ?? [];
  } catch {
    return [];
  }
}

function attrValue(d: H5Dataset, name: string): unknown {
  try {
    return name in d.attrs ? d.attrs[name].value : undefined;
  } catch {
    return undefined;
  }
}

type Meta = H5Dataset["metadata"];

/** Our dtype for an HDF5 type, or "!reason" when it cannot be read. */
function dtypeOf(meta: Meta, netcdf4: boolean): VariableInfo["dtype"] | string {
  if (meta.type === 0) {
    const bits = meta.size * 8;
    if (![8, 16, 32, 64].includes(bits)) return `!has ${bits}-bit integers, which cannot be read`;
    return `${meta.signed ? "int" : "uint"}${bits}` as NumericDType;
  }
  if (meta.type === 1) {
    if (meta.size === 4) return "float32";
    if (meta.size === 8) return "float64";
    return `!has ${meta.size * 8}-bit floats, which cannot be read yet`;
  }
  if (meta.type === 3) return netcdf4 && meta.size === 1 && !meta.vlen ? "char" : "string";
  return `!has an HDF5 ${CLASS_NAMES[meta.type] ?? `class ${meta.type}`} type, which cannot be read yet`;
}

/**
 * Text as netCDF and h5py read it: h5wasm turns each byte of an ASCII-class
 * string into one character, so bytes above 127 (UTF-8 in practice) are decoded
 * again as UTF-8, invalid sequences becoming U+FFFD.
 */
function text(s: string, meta: Meta): string {
  return meta.cset === 0 && /[\u0080-\u00ff]/.test(s) ? Buffer.from(s, "latin1").toString("utf8") : s;
}

/** HDF5 attributes as ours; types that cannot be represented are left out. */
function attributes(attrs: H5Dataset["attrs"], netcdf4: boolean): Attribute[] {
  const out: Attribute[] = [];
  for (const name of Object.keys(attrs)) {
    if (netcdf4 && NETCDF_INTERNAL.has(name)) continue;
    let value: unknown, meta: Meta;
    try {
      meta = attrs[name].metadata;
      // h5wasm builds a JS array of this many values: a corrupt count must not get that far.
      if ((meta.shape ?? []).reduce((a: number, b: number) => a * b, 1) > MAX_ATTRIBUTE_VALUES) continue;
      value = attrs[name].value;
    } catch {
      continue;
    }
    if (value === null && meta.type === 3) out.push({ name, dtype: "char", value: "" }); // empty text has a null dataspace
    else if (typeof value === "string") out.push({ name, dtype: "char", value: text(value, meta) });
    else if (Array.isArray(value) && value.every((v) => typeof v === "string")) out.push({ name, dtype: "char", value: value.map((v) => text(v, meta)).join("\n") });
    else if (ArrayBuffer.isView(value)) {
      const dtype = dtypeOf(meta, false);
      if (typeof dtype === "string" && !dtype.startsWith("!") && dtype !== "char" && dtype !== "string") out.push({ name, dtype: dtype as NumericDType, value: value as NumericArray });
    } else if (typeof value === "number" || typeof value === "bigint") {
      const dtype = dtypeOf(meta, false);
      if (typeof dtype === "string" && !dtype.startsWith("!") && dtype !== "char" && dtype !== "string") {
        const box = allocate(dtype as NumericDType, 1);
        (box as any)[0] = value;
        out.push({ name, dtype: dtype as NumericDType, value: box });
      }
    }
  }
  return out;
}

/** Reads a hyperslab in pieces of at most PIECE_BYTES along the first dimension. */
export function readValues(dataset: H5Dataset, info: Pick<VariableInfo, "name" | "dtype">, slab: Hyperslab): NumericArray | string[] {
  const n = slab.count.reduce((a, b) => a * b, 1);
  const nd = slab.count.length;
  const slice = (first: number, rows: number) =>
    slab.start.map((s, d) => {
      const start = d === 0 ? s + first * slab.step[0] : s;
      const count = d === 0 ? rows : slab.count[d];
      return [start, start + (count - 1) * slab.step[d] + 1, slab.step[d]] as [number, number, number];
    });
  const read = (ranges: [number, number, number][]) => {
    const r = quietly(() => dataset.slice(ranges));
    if (r.error || r.diagnostics || r.value == null) {
      const why = gist(r.diagnostics) || (r.error as Error)?.message || "no data returned";
      throw new Problem("FormatError", `variable ${info.name}: HDF5 library cannot read it: ${why}`);
    }
    return r.value;
  };
  if (info.dtype === "string" || info.dtype === "char") {
    // h5wasm returns text as a JS array: cap it (a corrupt count would exhaust V8, killing the process).
    if (n > MAX_STRINGS) throw new Problem("FormatError", `variable ${info.name}: ${n} strings in one read; read at most ${MAX_STRINGS} at a time`);
    const values = n === 0 ? [] : nd === 0 ? [quietly(() => dataset.value).value] : read(slice(0, slab.count[0]));
    const list: string[] = [];
    const flatten = (v: unknown): void => void (Array.isArray(v) ? v.forEach(flatten) : list.push(v as string));
    flatten(values);
    const meta = dataset.metadata;
    return info.dtype === "char" ? Uint8Array.from(list, (s) => (s ? s.charCodeAt(0) & 0xff : 0)) : list.map((v) => text(String(v), meta));
  }
  const out = allocate(info.dtype as NumericDType, n);
  if (n === 0) return out;
  if (nd === 0) {
    (out as any)[0] = quietly(() => dataset.value).value;
    return out;
  }
  const rowBytes = (n / slab.count[0]) * itemSize(info.dtype as NumericDType);
  const rowsPerPiece = Math.max(1, Math.floor(PIECE_BYTES / rowBytes));
  let at = 0;
  for (let first = 0; first < slab.count[0]; first += rowsPerPiece) {
    const rows = Math.min(rowsPerPiece, slab.count[0] - first);
    const piece = read(slice(first, rows)) as NumericArray;
    if (!ArrayBuffer.isView(piece) || piece.length !== rows * (n / slab.count[0])) {
      throw new Problem("FormatError", `variable ${info.name}: HDF5 library returned ${ArrayBuffer.isView(piece) ? piece.length : typeof piece} values, expected ${rows * (n / slab.count[0])}`);
    }
    (out as any).set(piece, at);
    at += piece.length;
  }
  return out;
}

