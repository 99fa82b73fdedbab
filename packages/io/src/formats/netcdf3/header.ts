/**
 * The header of a NetCDF classic file: CDF-1 (classic), CDF-2 (64-bit offset)
 * and CDF-5 (64-bit data), as specified in the NetCDF User Guide's "File Format
 * Specification". Every count and offset is checked against the file size before
 * anything is allocated, so a lying header gives a FormatError, not an out-of-memory.
 */
import type { Attribute } from "../../attribute.ts";
import { allocate, itemSize, viewAs, type NumericDType } from "../../dtype.ts";
import { FormatError } from "../../errors.ts";
import { swapToNative } from "../../kernels/simd.ts";

export type Variant = "cdf1" | "cdf2" | "cdf5";

export interface Nc3Dim { name: string; size: number; unlimited: boolean }

export interface Nc3Var {
  name: string;
  dims: string[];
  shape: number[];
  attrs: Attribute[];
  /** On-disk type; `char` for NC_CHAR. */
  dtype: NumericDType | "char";
  /** Byte offset of the data (of the first record, for record variables). */
  begin: number;
  isRecord: boolean;
  /** Bytes of one record (record variables) or of the whole variable, unpadded. */
  bytes: number;
}

export interface Nc3Header {
  variant: Variant;
  numrecs: number;
  dims: Nc3Dim[];
  attrs: Attribute[];
  vars: Nc3Var[];
  /** Bytes from one record to the next. */
  recSize: number;
  /** Where the header ends. */
  headerSize: number;
}

const NC_DIMENSION = 10, NC_VARIABLE = 11, NC_ATTRIBUTE = 12;
const TYPES: Record<number, NumericDType | "char"> = {
  1: "int8", 2: "char", 3: "int16", 4: "int32", 5: "float32", 6: "float64",
  7: "uint8", 8: "uint16", 9: "uint32", 10: "int64", 11: "uint64",
};
const MAGIC: Record<number, Variant> = { 1: "cdf1", 2: "cdf2", 5: "cdf5" };

/** Thrown when the buffer holds too little of the header; the caller reads more and parses again. */
export class NeedMore {
  constructor(readonly bytes: number) {}
}

const utf8 = new TextDecoder("utf-8");

class Cursor {
  pos = 0;
  private view: DataView;
  constructor(readonly buf: Uint8Array, readonly file: string, readonly fileSize: number, readonly wide: boolean) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  fail(message: string, at = this.pos): never {
    throw new FormatError(this.file, at, message);
  }
  need(n: number, what: string) {
    const end = this.pos + n;
    if (end > this.fileSize) this.fail(`file is truncated: ${what} needs ${n} bytes but the file ends at byte ${this.fileSize}`);
    if (end > this.buf.byteLength) throw new NeedMore(end);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  /** NON_NEG: unsigned 32-bit in CDF-1/2 (as netCDF-C reads it), signed 64-bit in CDF-5. */
  count(what: string): number {
    return this.wide ? this.i64(what) : this.u32(what);
  }
  /** A CDF-1 data offset: a signed 32-bit integer. */
  offset32(what: string): number {
    const at = this.pos;
    const v = this.u32(what);
    if (v > 0x7fffffff) this.fail(`${what} is negative (${v | 0})`, at);
    return v;
  }
  i64(what: string, at = this.pos): number {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    if (v < 0n) this.fail(`${what} is negative (${v})`, at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is impossibly large (${v})`, at);
    return Number(v);
  }
  /** Refuses a list of `n` items when even the smallest item of each would run past the end of the file. */
  checkCount(n: number, minBytes: number, what: string, at: number) {
    if (n * minBytes > this.fileSize - this.pos) {
      this.fail(`${what} count ${n} cannot fit in the ${this.fileSize - this.pos} bytes left in the file`, at);
    }
  }
  bytes(n: number, what: string): Uint8Array {
    const padded = (n + 3) & ~3;
    this.need(padded, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += padded;
    return out;
  }
  name(what: string): string {
    const at = this.pos;
    const n = this.count(`length of ${what} name`);
    if (n === 0) this.fail(`${what} has an empty name`, at);
    this.checkCount(n, 1, `${what} name length`, at);
    const raw = this.bytes(n, `${what} name`);
    const nul = raw.indexOf(0); // names are C strings in netCDF-C: a NUL ends them
    const name = utf8.decode(nul < 0 ? raw : raw.subarray(0, nul));
    if (name === "") this.fail(`${what} has an empty name`, at);
    return name;
  }
}

/** Parses the header in `buf` (the first bytes of a file of `fileSize` bytes). Throws NeedMore for more bytes. */
export function parseHeader(buf: Uint8Array, file: string, fileSize: number): Nc3Header {
  if (buf.byteLength < 4) {
    if (fileSize < 4) throw new FormatError(file, 0, `file is truncated: ${fileSize} bytes, too short for a NetCDF header`);
    throw new NeedMore(4);
  }
  if (buf[0] !== 0x43 || buf[1] !== 0x44 || buf[2] !== 0x46 || !MAGIC[buf[3]]) {
    throw new FormatError(file, 0, `expected the magic "CDF\\x01", "CDF\\x02" or "CDF\\x05"`);
  }
  const variant = MAGIC[buf[3]];
  const c = new Cursor(buf, file, fileSize, variant === "cdf5");
  c.pos = 4;
  const numrecsAt = c.pos;
  let numrecs: number;
  if (variant === "cdf5") {
    c.need(8, "numrecs");
    const streaming = new DataView(buf.buffer, buf.byteOffset + c.pos, 8).getBigInt64(0) === -1n;
    numrecs = streaming ? -1 : c.i64("number of records");
    if (streaming) c.pos += 8;
  } else {
    const v = c.u32("numrecs");
    numrecs = v === 0xffffffff ? -1 : v;
  }

  const dims = parseDims(c);
  const attrs = parseAttrs(c, "global attribute");
  const vars = parseVars(c, dims, variant);
  const headerSize = c.pos;

  // Sizes and layout, computed here rather than trusted from the header's vsize.
  const recordVars = vars.filter((v) => v.isRecord);
  const pad = (n: number) => (n + 3) & ~3;
  const recSize = recordVars.length === 1 ? recordVars[0].bytes : recordVars.reduce((s, v) => s + pad(v.bytes), 0);
  for (const v of vars) {
    if (v.begin < headerSize) c.fail(`variable ${v.name} starts at byte ${v.begin}, inside the header (which ends at byte ${headerSize})`, headerSize);
  }
  const recBegin = recordVars.length ? recordVars.reduce((m, v) => Math.min(m, v.begin), Infinity) : fileSize;
  if (numrecs === -1) numrecs = recSize > 0 ? Math.max(0, Math.floor((fileSize - recBegin) / recSize)) : 0;
  if (recordVars.length && numrecs * recSize + recBegin > Number.MAX_SAFE_INTEGER) {
    c.fail(`${numrecs} records of ${recSize} bytes overflow the addressable size`, numrecsAt);
  }
  const unlimited = dims.find((d) => d.unlimited);
  if (unlimited) unlimited.size = numrecs;
  for (const v of vars) if (v.isRecord) v.shape[0] = numrecs;
  return { variant, numrecs, dims, attrs, vars, recSize, headerSize };
}

/** A list is either ABSENT (ZERO ZERO) or its tag and a count. */
function listHeader(c: Cursor, tag: number, what: string): number {
  const at = c.pos;
  const t = c.u32(`${what} list tag`);
  const n = c.count(`number of ${what}s`);
  if (t === 0) {
    if (n !== 0) c.fail(`${what} list is marked absent but has ${n} entries`, at);
    return 0;
  }
  if (t !== tag) c.fail(`expected the ${what} list tag ${tag} (or 0 for none), found ${t}`, at);
  return n;
}

function parseDims(c: Cursor): Nc3Dim[] {
  const at = c.pos;
  const n = listHeader(c, NC_DIMENSION, "dimension");
  c.checkCount(n, c.wide ? 20 : 12, "dimension", at);
  const dims: Nc3Dim[] = [];
  for (let i = 0; i < n; i++) {
    const name = c.name("dimension");
    const size = c.count(`size of dimension ${name}`);
    dims.push({ name, size, unlimited: size === 0 });
  }
  if (dims.filter((d) => d.unlimited).length > 1) c.fail("more than one unlimited dimension", at);
  if (new Set(dims.map((d) => d.name)).size !== dims.length) c.fail("two dimensions have the same name", at);
  return dims;
}

function parseAttrs(c: Cursor, what: string): Attribute[] {
  const at = c.pos;
  const n = listHeader(c, NC_ATTRIBUTE, what);
  c.checkCount(n, c.wide ? 24 : 16, what, at);
  const attrs: Attribute[] = [];
  for (let i = 0; i < n; i++) {
    const name = c.name(what);
    const typeAt = c.pos;
    const code = c.u32(`type of ${what} ${name}`);
    const dtype = TYPES[code];
    if (!dtype || (code > 6 && !c.wide)) c.fail(`${what} ${name} has unknown type ${code}`, typeAt);
    const countAt = c.pos;
    const nelems = c.count(`length of ${what} ${name}`);
    const size = itemSize(dtype);
    c.checkCount(nelems, size, `${what} ${name} value`, countAt);
    const raw = c.bytes(nelems * size, `value of ${what} ${name}`);
    // A char _FillValue is a byte, NUL included; other text drops its NUL padding.
    const text = () => (name === "_FillValue" ? utf8.decode(raw) : decodeText(raw));
    attrs.push({ name, dtype, value: dtype === "char" ? text() : decodeBigEndian(dtype, raw) });
  }
  return attrs;
}

function parseVars(c: Cursor, dims: Nc3Dim[], variant: Variant): Nc3Var[] {
  const at = c.pos;
  const n = listHeader(c, NC_VARIABLE, "variable");
  c.checkCount(n, c.wide ? 48 : 32, "variable", at);
  const vars: Nc3Var[] = [];
  for (let i = 0; i < n; i++) {
    const name = c.name("variable");
    const ndimsAt = c.pos;
    const ndims = c.count(`number of dims of variable ${name}`);
    c.checkCount(ndims, c.wide ? 8 : 4, `dims of variable ${name}`, ndimsAt);
    const ids: number[] = [];
    for (let d = 0; d < ndims; d++) {
      const idAt = c.pos;
      const id = c.count(`dim id of variable ${name}`);
      if (id >= dims.length) c.fail(`variable ${name} uses dimension id ${id}, but there are only ${dims.length} dimensions`, idAt);
      if (dims[id].unlimited && d > 0) c.fail(`variable ${name} has the unlimited dimension in position ${d}; it must come first`, idAt);
      ids.push(id);
    }
    const attrs = parseAttrs(c, `attribute of ${name}`);
    const typeAt = c.pos;
    const code = c.u32(`type of variable ${name}`);
    const dtype = TYPES[code];
    if (!dtype || (code > 6 && !c.wide)) c.fail(`variable ${name} has unknown type ${code}`, typeAt);
    c.count(`vsize of variable ${name}`); // recomputed below; writers set it to 2^32-1 for large variables
    const begin = variant === "cdf1" ? c.offset32(`offset of variable ${name}`) : c.i64(`offset of variable ${name}`);
    const isRecord = ids.length > 0 && dims[ids[0]].unlimited;
    const shape = ids.map((id) => dims[id].size);
    let bytes = itemSize(dtype);
    for (const s of isRecord ? shape.slice(1) : shape) {
      bytes *= s;
      if (bytes > Number.MAX_SAFE_INTEGER) c.fail(`variable ${name}: its dimensions' product overflows (${shape.join(" x ")})`, ndimsAt);
    }
    if (begin + bytes > Number.MAX_SAFE_INTEGER) c.fail(`variable ${name}: offset ${begin} plus size ${bytes} overflows`, typeAt);
    vars.push({ name, dims: ids.map((id) => dims[id].name), shape, attrs, dtype, begin, isRecord, bytes });
  }
  if (new Set(vars.map((v) => v.name)).size !== vars.length) c.fail("two variables have the same name", at);
  return vars;
}

/** NetCDF text: bytes, usually UTF-8; NULs are padding (as netCDF4-python drops them). */
export function decodeText(bytes: Uint8Array): string {
  return utf8.decode(bytes).replace(/\0/g, "");
}

/** Big-endian bytes to a native typed array (a copy, aligned). */
export function decodeBigEndian(dtype: NumericDType, bytes: Uint8Array): ReturnType<typeof allocate> {
  const out = allocate(dtype, bytes.byteLength / itemSize(dtype));
  const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  outBytes.set(bytes);
  swapToNative(outBytes, itemSize(dtype));
  return viewAs(dtype, outBytes) as typeof out;
}
