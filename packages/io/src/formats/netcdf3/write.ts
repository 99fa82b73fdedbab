/**
 * Writes NetCDF classic files: CDF-1 (classic), CDF-2 (64-bit offset) and CDF-5
 * (64-bit data), laid out as the NetCDF User Guide's "File Format Specification"
 * says: header, the fixed-size variables one after another, then the records,
 * each holding one slice of every record variable. Values are converted to
 * big-endian in one reused buffer and written piece by piece, so a file of any
 * size costs the caller's arrays plus a few MiB.
 */
import { open as openFile, rename, rm, type FileHandle } from "node:fs/promises";
import { itemSize, type NumericArray, type NumericDType } from "../../dtype.ts";
import { ioError, MeridianError } from "../../errors.ts";
import { allocateBytes, swapToNative } from "../../kernels/simd.ts";
import type { Variant } from "./header.ts";

export type NcDType = NumericDType | "char";

/**
 * An attribute: text is NC_CHAR (UTF-8); a number or list of numbers is float64
 * unless typed, by `{dtype, value}` or by a typed array; a bigint is int64.
 */
export type AttrInput =
  | string | number | bigint | readonly number[] | readonly bigint[] | NumericArray
  | { dtype: NumericDType; value: number | bigint | readonly number[] | readonly bigint[] };

export interface NcVarSpec {
  name: string;
  /** Dimension names; a record variable has the unlimited dimension first. */
  dims: readonly string[];
  dtype: NcDType;
  /** `_FillValue`, when given as a plain number, takes the variable's type. */
  attrs?: Record<string, AttrInput>;
  /**
   * Row-major values, all records included. For `char`: one string per row
   * along the last dimension (UTF-8, NUL-padded, cut at a whole character), or
   * the bytes themselves. `"later"`: none yet, the bytes are left as zeros
   * and filled with writeValues() (by other processes too) where the layout
   * writeNetCDF() returns says.
   */
  data: ArrayLike<number> | ArrayLike<bigint> | readonly string[] | "later";
}

/** Where a variable's values lie in a written file, for writeValues(). */
export interface NcSlot {
  dtype: NumericDType;
  begin: number;
  /** Values per record (record variables) or in all. */
  count: number;
  /** Bytes from one record to the next; 0 for a fixed-size variable. */
  recSize: number;
}

export interface NcFileSpec {
  /** Sizes in file order (note that JavaScript puts integer-like keys first). */
  dims: Record<string, number>;
  /** The record dimension; its size in `dims` is the number of records. */
  unlimited?: string;
  attrs?: Record<string, AttrInput>;
  variables: readonly NcVarSpec[];
}

export interface WriteOptions {
  /** Default: the first of cdf1, cdf2, cdf5 that can hold the file (cdf5 when unsigned or 64-bit integer types are used). */
  format?: Variant;
  /**
   * Flush the data to the disk before the rename (default false: as netCDF-C,
   * CDO and NCO, the file is complete when the call returns but may sit in the
   * page cache; flushing 250 MB cost a second here).
   */
  sync?: boolean;
}

/** A file spec that cannot be written: invalid names, sizes, values, or a format too small for them. */
export class WriteError extends MeridianError {
  override name = "WriteError";
}

const CODES: Record<NcDType, number> = {
  int8: 1, char: 2, int16: 3, int32: 4, float32: 5, float64: 6,
  uint8: 7, uint16: 8, uint32: 9, int64: 10, uint64: 11,
};
/** Default fill values (netcdf.h NC_FILL_*); they also fill the padding of data. */
const DEFAULT_FILL: Record<NcDType, number | bigint> = {
  int8: -127, char: 0, int16: -32767, int32: -2147483647, float32: 9.969209968386869e36, float64: 9.969209968386869e36,
  uint8: 255, uint16: 65535, uint32: 4294967295, int64: -9223372036854775806n, uint64: 18446744073709551614n,
};
const INT_RANGE: Partial<Record<NcDType, [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], char: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1],
};
const BIG_RANGE: Partial<Record<NcDType, [bigint, bigint]>> = { int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n] };
/** The typed array that holds each type natively: data in it is copied without checks. */
const NATIVE: Record<NcDType, Function> = {
  int8: Int8Array, char: Uint8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array,
};
const ARRAY_DTYPE = new Map<Function, NumericDType>(
  (Object.entries(NATIVE) as [NcDType, Function][]).filter(([d]) => d !== "char").map(([d, c]) => [c, d as NumericDType]));

const NC_DIMENSION = 10, NC_VARIABLE = 11, NC_ATTRIBUTE = 12;
const MAGIC: Record<Variant, number> = { cdf1: 1, cdf2: 2, cdf5: 5 };
/** NC_MAX_NAME: names are at most this many bytes. */
const MAX_NAME = 256;
/** The size of the conversion buffer: pieces of the file are written this big. */
export const CHUNK = 4 * 2 ** 20;

const utf8 = new TextEncoder();
const pad4 = (n: number) => Math.ceil(n / 4) * 4;
const isClassic = (d: NcDType) => CODES[d] <= 6;

interface EncAttr { name: string; dtype: NcDType; count: number; bytes: Uint8Array }

interface VarPlan {
  spec: NcVarSpec;
  dtype: NcDType;
  dimIds: number[];
  attrs: EncAttr[];
  isRecord: boolean;
  /** Values per record (record variables) or in all. */
  count: number;
  /** Bytes per record or in all, unpadded. */
  bytes: number;
  begin: number;
  /** One fill value, big-endian: data padding is made of it. */
  fill: Uint8Array;
  /** For char data given as strings: bytes per string (the last dimension). */
  rowLength: number;
}

export interface NcPlan {
  format: Variant;
  numrecs: number;
  header: Uint8Array;
  vars: VarPlan[];
  /** Where the records begin, and the bytes from one record to the next. */
  recBegin: number;
  recSize: number;
  /** Bytes in the file. */
  size: number;
}

let tempSeq = 0;

/**
 * Writes `spec` to `path` atomically: to `path.tmp-<pid>-<n>` first, renamed
 * over `path` once complete (and flushed to disk with `sync`), and removed on
 * any error. The spec is validated before the disk is touched.
 */
export async function writeNetCDF(path: string, spec: NcFileSpec, options: WriteOptions = {}): Promise<Record<string, NcSlot>> {
  const plan = planNetCDF(spec, options, path);
  const temp = `${path}.tmp-${process.pid}-${++tempSeq}`;
  let fh: FileHandle | undefined;
  try {
    fh = await openFile(temp, "w");
    let at = 0;
    for (const piece of pieces(plan, path)) {
      if (typeof piece === "number") { at += piece; continue; } // values that come later: a hole
      for (let done = 0; done < piece.byteLength;) {
        const { bytesWritten } = await fh.write(piece, done, piece.byteLength - done, at + done);
        done += bytesWritten;
      }
      at += piece.byteLength;
    }
    if (at !== plan.size) throw new Error(`internal: wrote ${at} bytes of ${plan.size}`);
    await fh.truncate(plan.size); // (a hole at the end too)
    if (options.sync) await fh.datasync(); // the rename must not land before the data does
    await fh.close();
    fh = undefined;
    await rename(temp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await rm(temp, { force: true }).catch(() => {});
    throw e instanceof MeridianError || !(e instanceof Error && "code" in e) ? e : ioError(path, e);
  }
  return Object.fromEntries(plan.vars.filter((v) => v.dtype !== "char").map((v) =>
    [v.spec.name, { dtype: v.dtype as NumericDType, begin: v.begin, count: v.count, recSize: v.isRecord ? plan.recSize : 0 }]));
}

/**
 * Writes `values` (native, of the slot's type) into a file writeNetCDF()
 * laid out, from value `first` of the variable on (row-major, records
 * included): the values it left for later, written by whichever process
 * computed them.
 */
export async function writeValues(path: string, slot: NcSlot, first: number, values: NumericArray): Promise<void> {
  if (ARRAY_DTYPE.get(values.constructor) !== slot.dtype) throw new WriteError(`values to write are a ${values.constructor.name}, the variable holds ${slot.dtype}`, path);
  const size = itemSize(slot.dtype), perRecord = slot.recSize ? slot.count : Infinity;
  const bytes = new Uint8Array(values.byteLength);
  bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  swapToNative(bytes, size);
  let fh: FileHandle | undefined;
  try {
    fh = await openFile(path, "r+");
    for (let i = 0; i < values.length;) {
      const k = first + i, record = slot.recSize ? Math.floor(k / perRecord) : 0, within = k - record * (slot.recSize ? perRecord : 0);
      const n = Math.min(values.length - i, perRecord - within);
      const piece = bytes.subarray(i * size, (i + n) * size);
      for (let done = 0; done < piece.byteLength;) {
        const { bytesWritten } = await fh.write(piece, done, piece.byteLength - done, slot.begin + record * slot.recSize + within * size + done);
        done += bytesWritten;
      }
      i += n;
    }
    await fh.close();
    fh = undefined;
  } catch (e) {
    await fh?.close().catch(() => {});
    throw e instanceof MeridianError || !(e instanceof Error && "code" in e) ? e : ioError(path, e);
  }
}

/** The same file, in memory. */
export function encodeNetCDF(spec: NcFileSpec, options: WriteOptions = {}, file?: string): Uint8Array {
  const plan = planNetCDF(spec, options, file);
  const out = new Uint8Array(plan.size);
  let at = 0;
  for (const piece of pieces(plan, file)) {
    if (typeof piece === "number") { at += piece; continue; }
    out.set(piece, at);
    at += piece.byteLength;
  }
  if (at !== plan.size) throw new Error(`internal: encoded ${at} bytes of ${plan.size}`);
  return out;
}

/** Validates `spec`, picks the format and lays the file out (header encoded, data not yet read). */
export function planNetCDF(spec: NcFileSpec, options: WriteOptions = {}, file?: string): NcPlan {
  const fail = (message: string): never => { throw new WriteError(message, file); };
  const dims = Object.entries(spec.dims);
  const dimIndex = new Map(dims.map(([n], i) => [n, i]));
  if (spec.unlimited !== undefined && !dimIndex.has(spec.unlimited)) fail(`unlimited dimension "${spec.unlimited}" is not among the dimensions (${dims.map(([n]) => n).join(", ")})`);
  for (const [name, size] of dims) {
    checkName(name, "dimension", fail);
    if (!Number.isSafeInteger(size) || size < 0) fail(`dimension ${name} has size ${size}; sizes are non-negative integers`);
    if (size === 0 && name !== spec.unlimited) fail(`dimension ${name} has size 0, which the format reserves for the unlimited dimension`);
  }
  const numrecs = spec.unlimited === undefined ? 0 : spec.dims[spec.unlimited];
  const globals = encodeAttrs(spec.attrs, "global attribute", undefined, fail);

  const seen = new Set<string>();
  const vars: VarPlan[] = spec.variables.map((v) => {
    checkName(v.name, "variable", fail);
    if (seen.has(v.name)) fail(`two variables are named ${v.name}`);
    seen.add(v.name);
    if (!(v.dtype in CODES)) fail(`variable ${v.name} has unknown type ${JSON.stringify(v.dtype)}`);
    const dimIds = v.dims.map((d, i) => {
      const id = dimIndex.get(d);
      if (id === undefined) fail(`variable ${v.name} uses dimension "${d}", which is not defined (dimensions: ${dims.map(([n]) => n).join(", ") || "none"})`);
      if (d === spec.unlimited && i > 0) fail(`variable ${v.name} has the unlimited dimension ${d} in position ${i}; it must come first`);
      return id!;
    });
    const isRecord = v.dims.length > 0 && v.dims[0] === spec.unlimited;
    const shape = v.dims.map((d) => spec.dims[d]);
    const count = (isRecord ? shape.slice(1) : shape).reduce((a, b) => a * b, 1);
    const total = isRecord ? count * numrecs : count;
    const later = v.data === "later";
    if (later && v.dtype === "char") fail(`variable ${v.name}: char values cannot come later`);
    const strings = v.dtype === "char" && Array.isArray(v.data) && v.data.some((x) => typeof x === "string");
    const rowLength = v.dtype === "char" ? (shape.length ? shape[shape.length - 1] : 1) : 1;
    const shapeText = `(${v.dims.map((d) => `${d}=${spec.dims[d]}`).join(", ")})`;
    if (strings) {
      const rows = rowLength === 0 ? 0 : total / rowLength;
      if (v.data.length !== rows) fail(`variable ${v.name}: ${v.data.length} strings given, but its shape ${shapeText} holds ${rows} strings of ${rowLength} bytes`);
    } else if (!later && v.data?.length !== total) {
      const rec = isRecord ? ` (${numrecs} records of ${count})` : "";
      fail(`variable ${v.name}: ${v.data?.length ?? "no"} values given, but its shape ${shapeText} holds ${total}${rec}`);
    }
    const attrs = encodeAttrs(v.attrs, `attribute of ${v.name}`, v, fail);
    const fillAttr = attrs.find((a) => a.name === "_FillValue");
    const fill = fillAttr ? fillAttr.bytes : encodeValues(v.dtype, [DEFAULT_FILL[v.dtype]] as ArrayLike<number>, "", fail);
    return { spec: v, dtype: v.dtype, dimIds, attrs, isRecord, count, bytes: count * itemSize(v.dtype), begin: 0, fill, rowLength: strings ? rowLength : 0 };
  });

  // Unsigned and 64-bit integer types exist only in CDF-5.
  const wide: [string, NcDType][] = [
    ...vars.map((v): [string, NcDType] => [`variable ${v.spec.name}`, v.dtype]),
    ...globals.map((a): [string, NcDType] => [`global attribute ${a.name}`, a.dtype]),
    ...vars.flatMap((v) => v.attrs.map((a): [string, NcDType] => [`attribute ${a.name} of ${v.spec.name}`, a.dtype])),
  ].filter(([, d]) => !isClassic(d));
  if (options.format !== undefined && !(options.format in MAGIC)) fail(`unknown format ${JSON.stringify(options.format)}; expected cdf1, cdf2 or cdf5`);
  if (options.format && options.format !== "cdf5" && wide.length) {
    fail(`${wide[0][0]} has type ${wide[0][1]}, which needs format cdf5 (CDF-1 and CDF-2 have no unsigned or 64-bit integer types)`);
  }
  const candidates: Variant[] = options.format ? [options.format] : wide.length ? ["cdf5"] : ["cdf1", "cdf2", "cdf5"];
  let problem = "";
  for (const format of candidates) {
    const plan = layout(format, numrecs, dims, spec.unlimited, globals, vars);
    problem = limits(plan, dims, spec.unlimited);
    if (!problem) return plan;
  }
  const hint = options.format && options.format !== "cdf5" ? `; use a larger format (${options.format === "cdf1" ? "cdf2 or " : ""}cdf5), or leave the format unset` : "";
  return fail(problem + hint);
}

/** Sets every variable's `begin` and encodes the header for `format`. */
function layout(format: Variant, numrecs: number, dims: [string, number][], unlimited: string | undefined, globals: EncAttr[], vars: VarPlan[]): NcPlan {
  const plan: NcPlan = { format, numrecs, header: new Uint8Array(), vars: vars.map((v) => ({ ...v })), recBegin: 0, recSize: 0, size: 0 };
  const headerSize = encodeHeader(plan, dims, unlimited, globals).byteLength;
  let at = headerSize;
  for (const v of plan.vars) if (!v.isRecord) { v.begin = at; at += pad4(v.bytes); }
  plan.recBegin = at;
  const records = plan.vars.filter((v) => v.isRecord);
  // The one exception to padding: a lone record variable's records are packed.
  for (const v of records) { v.begin = at; at += records.length === 1 ? v.bytes : pad4(v.bytes); }
  plan.recSize = at - plan.recBegin;
  plan.size = plan.recBegin + numrecs * plan.recSize;
  plan.header = encodeHeader(plan, dims, unlimited, globals);
  return plan;
}

/** What does not fit `plan.format`, as netCDF-C judges it (NC_check_vlens, dimension and offset sizes); "" when it all fits. */
function limits(plan: NcPlan, dims: [string, number][], unlimited: string | undefined): string {
  const f = plan.format.toUpperCase().replace("CDF", "CDF-");
  if (plan.size > Number.MAX_SAFE_INTEGER) return `the file would be ${plan.size} bytes, beyond what can be addressed here`;
  if (plan.format === "cdf5") return "";
  const dimMax = plan.format === "cdf1" ? 2 ** 31 - 4 : 2 ** 32 - 4;
  for (const [name, size] of dims) if (name !== unlimited && size > dimMax) return `dimension ${name} has size ${size}, over the ${f} limit of ${dimMax}`;
  if (plan.numrecs > 2 ** 32 - 2) return `${plan.numrecs} records are more than ${f} can count`;
  if (plan.format === "cdf1") {
    const far = plan.vars.find((v) => v.begin > 2 ** 31 - 1);
    if (far) return `variable ${far.spec.name} would start at byte ${far.begin}, past the 2 GiB reach of ${f} offsets`;
  }
  // Sizes are 32-bit fields: only the last fixed variable (with no record
  // variables after it) or the last record variable may be too big for one.
  const vmax = plan.format === "cdf1" ? 2 ** 31 - 4 : 2 ** 32 - 4;
  const fixed = plan.vars.filter((v) => !v.isRecord), records = plan.vars.filter((v) => v.isRecord);
  for (const [list, last] of [[fixed, records.length === 0], [records, true]] as const) {
    const big = list.findIndex((v) => v.bytes > vmax);
    if (big >= 0 && (big < list.length - 1 || !last)) {
      const v = list[big];
      return `variable ${v.spec.name} is ${v.bytes} bytes${v.isRecord ? " per record" : ""}, over the ${f} limit of ${vmax} for any but the last ${v.isRecord ? "record" : "fixed-size"} variable${v.isRecord ? "" : " (when there are no record variables)"}`;
    }
  }
  return "";
}

/** The header (NUG grammar: magic numrecs dim_list gatt_list var_list). */
function encodeHeader(plan: NcPlan, dims: [string, number][], unlimited: string | undefined, globals: EncAttr[]): Uint8Array {
  const w = new Builder(plan.format === "cdf5");
  w.bytes(Uint8Array.of(0x43, 0x44, 0x46, MAGIC[plan.format]));
  w.count(plan.numrecs);
  w.list(NC_DIMENSION, dims.length);
  for (const [name, size] of dims) { w.name(name); w.count(name === unlimited ? 0 : size); }
  w.attrs(globals);
  w.list(NC_VARIABLE, plan.vars.length);
  for (const v of plan.vars) {
    w.name(v.spec.name);
    w.count(v.dimIds.length);
    for (const id of v.dimIds) w.count(id);
    w.attrs(v.attrs);
    w.u32(CODES[v.dtype]);
    // vsize is informative (readers recompute it); 2^32-1 marks a size too big for 32 bits.
    const vsize = pad4(v.bytes);
    w.count(plan.format !== "cdf5" && vsize > 2 ** 32 - 1 ? 2 ** 32 - 1 : vsize);
    if (plan.format === "cdf1") w.u32(v.begin); else w.u64(v.begin);
  }
  return w.done();
}

/** A growing big-endian byte buffer. */
class Builder {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  constructor(private readonly wide: boolean) {}
  private room(n: number) {
    if (this.pos + n <= this.buf.byteLength) return;
    const next = new Uint8Array(Math.max(this.buf.byteLength * 2, this.pos + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number) { this.room(4); this.view.setUint32(this.pos, v); this.pos += 4; }
  u64(v: number) { this.room(8); this.view.setBigUint64(this.pos, BigInt(v)); this.pos += 8; }
  /** NON_NEG: 32-bit in CDF-1/2, 64-bit in CDF-5. */
  count(v: number) { if (this.wide) this.u64(v); else this.u32(v); }
  /** Bytes, then NUL padding to 4 (header padding is always NUL). */
  bytes(b: Uint8Array) {
    this.room(pad4(b.byteLength));
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
    while (this.pos % 4) this.buf[this.pos++] = 0;
  }
  name(s: string) { const b = utf8.encode(s); this.count(b.byteLength); this.bytes(b); }
  /** A list's tag and count, or ABSENT (two zeros) when empty. */
  list(tag: number, n: number) { this.u32(n ? tag : 0); this.count(n); }
  attrs(list: EncAttr[]) {
    this.list(NC_ATTRIBUTE, list.length);
    for (const a of list) { this.name(a.name); this.u32(CODES[a.dtype]); this.count(a.count); this.bytes(a.bytes); }
  }
  done(): Uint8Array { return this.buf.slice(0, this.pos); }
}

/** NC_check_name: UTF-8 (NFC), a letter, digit, "_" or non-ASCII first, no control characters or "/", no trailing space, at most 256 bytes. */
function checkName(name: string, what: string, fail: (m: string) => never) {
  const bad = (why: string) => fail(`${what} name ${JSON.stringify(name)} is not valid for netCDF: ${why}`);
  if (typeof name !== "string" || name === "") bad("it is empty");
  if (/[\ud800-\udfff]/u.test(name)) bad("it is not valid Unicode (a lone surrogate)");
  if (name.normalize("NFC") !== name) bad("it is not in Unicode normal form NFC");
  if (!/^[A-Za-z0-9_\u0080-\u{10ffff}]/u.test(name)) bad("it must start with a letter, digit, underscore or non-ASCII character");
  if (/[\x00-\x1f\x7f]/.test(name)) bad("it contains a control character");
  if (name.includes("/")) bad('it contains "/"');
  if (/\s$/.test(name)) bad("it ends with white space");
  if (utf8.encode(name).byteLength > MAX_NAME) bad(`it is longer than ${MAX_NAME} bytes`);
}

function encodeAttrs(attrs: Record<string, AttrInput> | undefined, what: string, v: NcVarSpec | undefined, fail: (m: string) => never): EncAttr[] {
  return Object.entries(attrs ?? {}).map(([name, input]) => {
    checkName(name, what, fail);
    const where = v ? `attribute ${name} of ${v.name}` : `global attribute ${name}`;
    if (v && name === "_FillValue") return fillValue(v, input, where, fail);
    if (typeof input === "string") {
      // Empty text is one NUL, as ncgen and netCDF4-python write it (zero-length values trip some readers).
      const bytes = input === "" ? new Uint8Array(1) : utf8.encode(input);
      return { name, dtype: "char", count: bytes.byteLength, bytes };
    }
    const [dtype, values] = typedValues(input, where, fail);
    return { name, dtype, count: values.length, bytes: encodeValues(dtype, values, where, fail) };
  });
}

/** The dtype an attribute input names, and its values. */
function typedValues(input: AttrInput, where: string, fail: (m: string) => never): [NumericDType, ArrayLike<number | bigint>] {
  if (typeof input === "number") return ["float64", [input]];
  if (typeof input === "bigint") return ["int64", [input]];
  if (ArrayBuffer.isView(input)) {
    const dtype = ARRAY_DTYPE.get(input.constructor);
    return dtype ? [dtype, input as ArrayLike<number>] : fail(`${where}: a ${input.constructor.name} is not a netCDF type`);
  }
  if (Array.isArray(input)) {
    const big = input.length > 0 && input.every((x) => typeof x === "bigint");
    if (!big && !input.every((x) => typeof x === "number")) fail(`${where}: a list must be all numbers or all bigints`);
    return [big ? "int64" : "float64", input];
  }
  if (input && typeof input === "object" && "dtype" in input) {
    if (!(input.dtype in CODES) || input.dtype === ("char" as string)) fail(`${where}: unknown type ${JSON.stringify(input.dtype)}`);
    const value = input.value;
    return [input.dtype, typeof value === "number" || typeof value === "bigint" ? [value] : (value as ArrayLike<number>)];
  }
  return fail(`${where}: cannot store ${typeof input} ${String(input)}; give text, numbers, bigints or {dtype, value}`);
}

/** `_FillValue` must be one value of the variable's own type: plain numbers are converted if they fit. */
function fillValue(v: NcVarSpec, input: AttrInput, where: string, fail: (m: string) => never): EncAttr {
  const name = "_FillValue";
  if (v.dtype === "char") {
    const bytes = typeof input === "string" ? utf8.encode(input) : new Uint8Array();
    if (bytes.byteLength !== 1) fail(`${where}: a char variable's fill value must be one byte of text, got ${JSON.stringify(input)}`);
    return { name, dtype: "char", count: 1, bytes };
  }
  if (typeof input === "string") return fail(`${where}: a ${v.dtype} variable's fill value must be a number, got text ${JSON.stringify(input)}`);
  const typed = ArrayBuffer.isView(input) || (typeof input === "object" && !Array.isArray(input));
  const [dtype, values] = typedValues(input, where, fail);
  if (typed && dtype !== v.dtype) fail(`${where}: the fill value has type ${dtype}, but it must have the variable's type ${v.dtype}`);
  if (values.length !== 1) fail(`${where}: a fill value is one value, got ${values.length}`);
  return { name, dtype: v.dtype, count: 1, bytes: encodeValues(v.dtype, values, where, fail) };
}

/** Values to big-endian bytes, each checked to fit `dtype` (the small-data path: attributes and fill values). */
function encodeValues(dtype: NcDType, values: ArrayLike<number | bigint>, where: string, fail: (m: string) => never): Uint8Array {
  const size = itemSize(dtype);
  const out = new Uint8Array(values.length * size);
  const scratch = new ArrayBuffer(out.byteLength);
  convert(dtype, values, 0, values.length, scratch, (i, x) => fail(`${where}: ${show(x)} ${i ? `(item ${i}) ` : ""}is not a valid ${dtype}`));
  out.set(new Uint8Array(scratch));
  swapToNative(out, size);
  return out;
}

const show = (x: unknown) => (typeof x === "string" ? JSON.stringify(x) : typeof x === "bigint" ? `${x}n` : String(x));

/**
 * Converts values [from, from + n) into `scratch` as native `dtype`, checking
 * each fits: integers in range, floats finite unless given non-finite.
 */
function convert(dtype: NcDType, src: ArrayLike<number | bigint>, from: number, n: number, scratch: ArrayBuffer, bad: (i: number, x: unknown) => never) {
  const range = INT_RANGE[dtype], big = BIG_RANGE[dtype];
  if (range) {
    const out = new (NATIVE[dtype] as typeof Int32Array)(scratch, 0, n);
    const [lo, hi] = range;
    for (let i = 0; i < n; i++) {
      let x = src[from + i];
      if (typeof x === "bigint" && x >= BigInt(lo) && x <= BigInt(hi)) x = Number(x);
      if (!(typeof x === "number" && Number.isInteger(x) && x >= lo && x <= hi)) bad(from + i, x);
      out[i] = x as number;
    }
  } else if (big) {
    const out = new (NATIVE[dtype] as typeof BigInt64Array)(scratch, 0, n);
    const [lo, hi] = big;
    for (let i = 0; i < n; i++) {
      const x = src[from + i];
      const b = typeof x === "bigint" ? x : typeof x === "number" && Number.isInteger(x) ? BigInt(x) : undefined;
      if (b === undefined || b < lo || b > hi) bad(from + i, x);
      out[i] = b!;
    }
  } else {
    const out = new (NATIVE[dtype] as typeof Float64Array)(scratch, 0, n);
    const single = dtype === "float32";
    for (let i = 0; i < n; i++) {
      const x = src[from + i];
      if (typeof x !== "number" || (single && Number.isFinite(x) && !Number.isFinite(Math.fround(x)))) bad(from + i, x);
      out[i] = x as number;
    }
  }
}

/** The file's bytes in order, as views of one reused buffer: each must be used before asking for the next. */
function* pieces(plan: NcPlan, file?: string): Generator<Uint8Array | number> {
  const out = allocateBytes(Math.max(8, Math.min(CHUNK, plan.size)));
  let scratch: ArrayBuffer | undefined; // for values that need converting, not copying
  let pos = 0;
  for (let at = 0; at < plan.header.byteLength;) {
    const n = Math.min(out.byteLength - pos, plan.header.byteLength - at);
    out.set(plan.header.subarray(at, at + n), pos);
    pos += n;
    at += n;
    if (pos === out.byteLength) { yield out; pos = 0; }
  }
  const fixed = plan.vars.filter((v) => !v.isRecord), records = plan.vars.filter((v) => v.isRecord);
  const segments = function* () {
    for (const v of fixed) yield { v, from: 0, pad: pad4(v.bytes) - v.bytes };
    for (let r = 0; r < plan.numrecs; r++) {
      for (const v of records) yield { v, from: r * v.count, pad: records.length === 1 ? 0 : pad4(v.bytes) - v.bytes };
    }
  };
  const chars = new Map<VarPlan, CharRows>();
  for (const { v, from, pad } of segments()) {
    if (v.spec.data === "later") {
      // bytes to skip: what is buffered goes first
      if (pos) yield out.subarray(0, pos);
      pos = 0;
      yield v.bytes + pad;
      continue;
    }
    const size = itemSize(v.dtype);
    for (let done = 0; done < v.count;) {
      const n = Math.min(v.count - done, Math.floor((out.byteLength - pos) / size));
      if (n === 0) { yield out.subarray(0, pos); pos = 0; continue; }
      const dest = out.subarray(pos, pos + n * size);
      if (v.rowLength) {
        if (!chars.has(v)) chars.set(v, new CharRows(v, file));
        chars.get(v)!.bytes(from + done, dest);
      } else {
        scratch ??= new ArrayBuffer(out.byteLength);
        encodeData(v, from + done, n, dest, scratch, file);
      }
      pos += n * size;
      done += n;
    }
    if (pad) {
      if (out.byteLength - pos < pad) { yield out.subarray(0, pos); pos = 0; }
      for (let i = 0; i < pad; i++) out[pos + i] = v.fill[i % v.fill.byteLength];
      pos += pad;
    }
  }
  if (pos) yield out.subarray(0, pos);
}

/** Values [from, from + n) of a variable into `dest`, big-endian. */
function encodeData(v: VarPlan, from: number, n: number, dest: Uint8Array, scratch: ArrayBuffer, file?: string) {
  const data = v.spec.data as ArrayLike<number | bigint>;
  const size = itemSize(v.dtype);
  if (data instanceof NATIVE[v.dtype]) {
    const typed = data as unknown as NumericArray;
    dest.set(new Uint8Array(typed.buffer, typed.byteOffset + from * size, n * size));
  } else {
    convert(v.dtype, data, from, n, scratch, (i, x) => {
      throw new WriteError(`variable ${v.spec.name}: value ${show(x)} at index ${i} is not a valid ${v.dtype}`, file);
    });
    dest.set(new Uint8Array(scratch, 0, n * size));
  }
  swapToNative(dest, size);
}

/** Char data given as strings: one row of `rowLength` bytes per string, UTF-8, cut at a whole character, NUL-padded. */
class CharRows {
  private row = -1;
  private encoded = new Uint8Array();
  private readonly strings: readonly unknown[];
  constructor(private readonly v: VarPlan, private readonly file?: string) {
    this.strings = v.spec.data as readonly unknown[];
  }
  /** Bytes [from, from + dest.length) of the variable, flat. */
  bytes(from: number, dest: Uint8Array) {
    const L = this.v.rowLength;
    dest.fill(0);
    for (let k = 0; k < dest.byteLength;) {
      const row = Math.floor((from + k) / L), col = (from + k) % L;
      const text = this.rowBytes(row);
      const n = Math.min(L - col, dest.byteLength - k);
      if (col < text.byteLength) dest.set(text.subarray(col, Math.min(text.byteLength, col + n)), k);
      k += n;
    }
  }
  private rowBytes(row: number): Uint8Array {
    if (row === this.row) return this.encoded;
    const s = this.strings[row];
    if (typeof s !== "string") throw new WriteError(`variable ${this.v.spec.name}: item ${row} is ${show(s)}, not a string`, this.file);
    let b = utf8.encode(s);
    if (b.byteLength > this.v.rowLength) {
      let cut = this.v.rowLength;
      while (cut > 0 && (b[cut] & 0xc0) === 0x80) cut--; // not inside a multi-byte character
      b = b.subarray(0, cut);
    }
    this.row = row;
    this.encoded = b;
    return b;
  }
}
