/**
 * FITS as a Backend. Each image HDU is a variable named after the HDU (its
 * EXTNAME, else PRIMARY or HDU<n>; a repeated EXTNAME gets _<EXTVER>), with its
 * axes reversed into row-major order (NAXISn first, NAXIS1 last) as dims
 * `<hdu>_NAXIS<n>`. Each column of a binary table is a variable `<hdu>/<column>`
 * over the rows `<hdu>_NAXIS2`. Header cards become attributes; the primary
 * header's are the dataset's.
 */
import type { Attribute } from "../../attribute.ts";
import type { Backend, Decoding, PaddedValues, VariableInfo } from "../../backend.ts";
import { viewAs, type NumericArray, type NumericDType } from "../../dtype.ts";
import { FormatError, UnsupportedError } from "../../errors.ts";
import { swapToNative } from "../../kernels/simd.ts";
import type { Hyperslab } from "../../selection.ts";
import type { ByteSource } from "../../source.ts";
import { contiguousStrides, readStrided, type Layout } from "../../strided.ts";
import { scalingDecoding } from "./decode.ts";
import { BITPIX_DTYPE, cardNumber, cardValue, readHdus, type Card, type Hdu } from "./header.ts";
import { parseTform } from "./tform.ts";
import { tiledImage } from "./tiles.ts";
import { longestRow, readVla } from "./vla.ts";

/** A variable and how to read it. */
interface FitsVariable {
  info: VariableInfo;
  read(slab: Hyperslab, into?: Uint8Array): Promise<NumericArray | PaddedValues>;
}

export async function openFits(source: ByteSource, variant = "fits"): Promise<Backend> {
  const hdus = await readHdus(source);
  const names = hduNames(hdus);
  const variables: FitsVariable[] = [];
  const dims: Record<string, number> = {};
  for (const [i, hdu] of hdus.entries()) {
    for (const v of await hduVariables(source, hdu, names[i])) {
      v.info.dims.forEach((d, k) => (dims[d] = v.info.shape[k]));
      variables.push(v);
    }
  }
  const byName = new Map(variables.map((v) => [v.info.name, v]));
  return {
    format: "fits",
    variant,
    source,
    dims,
    unlimited: [],
    attributes: cardAttributes(hdus[0].cards),
    variables: variables.map((v) => v.info),
    read: (info, slab, into) => byName.get(info.name)!.read(slab, into),
  };
}

function hduNames(hdus: Hdu[]): string[] {
  const count = new Map<string, number>();
  for (const h of hdus) count.set(h.name, (count.get(h.name) ?? 0) + 1);
  return hdus.map((h) => {
    if (count.get(h.name) === 1) return h.name;
    const ver = cardValue(h.cards, "EXTVER");
    return `${h.name}_${typeof ver === "number" ? ver : h.index}`;
  });
}

async function hduVariables(source: ByteSource, hdu: Hdu, name: string): Promise<FitsVariable[]> {
  const cards = hdu.cards;
  const attributes = cardAttributes(cards);
  if (cardValue(cards, "ZIMAGE") === true) {
    // A tile-compressed image: a variable with the image's own shape and scaling.
    const image = tiledImage(source, hdu, name);
    const dims = image.shape.map((_, k) => `${name}_ZNAXIS${image.shape.length - k}`);
    if ("unsupported" in image) return [refused({ name, dims, shape: image.shape, dtype: image.dtype, attributes }, source, image.unsupported)];
    const blank = cardValue(cards, "ZBLANK") ?? cardValue(cards, "BLANK");
    const decoding = scalingDecoding(image.dtype, { scale: cardNumber(cards, "BSCALE", 1), zero: cardNumber(cards, "BZERO", 0), blank: typeof blank === "number" || typeof blank === "bigint" ? blank : undefined });
    return [{ info: { name, dims, shape: image.shape, dtype: image.dtype, attributes, decoding }, read: (slab) => image.read(slab) }];
  }
  if (hdu.xtension === null || hdu.xtension === "IMAGE") {
    const naxis = cardNumber(cards, "NAXIS", 0);
    if (naxis === 0) return [];
    const dtype = BITPIX_DTYPE[String(cardNumber(cards, "BITPIX", 0))];
    const shape = Array.from({ length: naxis }, (_, k) => cardNumber(cards, `NAXIS${naxis - k}`, 0));
    const blank = cardValue(cards, "BLANK");
    const decoding = scalingDecoding(dtype, { scale: cardNumber(cards, "BSCALE", 1), zero: cardNumber(cards, "BZERO", 0), blank: typeof blank === "number" || typeof blank === "bigint" ? blank : undefined });
    const layout: Layout = { what: `image ${name}`, begin: hdu.dataOffset, shape, strides: contiguousStrides(shape, Math.abs(cardNumber(cards, "BITPIX", 0)) / 8), itemSize: Math.abs(cardNumber(cards, "BITPIX", 0)) / 8 };
    const info: VariableInfo = { name, dims: shape.map((_, k) => `${name}_NAXIS${naxis - k}`), shape, dtype, attributes, decoding };
    return [{ info, read: (slab, into) => readBigEndian(source, layout, dtype, slab, into) }];
  }
  if (hdu.xtension === "BINTABLE") return tableColumns(source, hdu, name);
  return []; // ASCII TABLE extensions are not read yet
}

async function readBigEndian(source: ByteSource, layout: Layout, dtype: NumericDType | "char" | "bool", slab: Hyperslab, into?: Uint8Array): Promise<NumericArray> {
  const bytes = await readStrided(source, layout, slab, into);
  swapToNative(bytes, layout.itemSize);
  return viewAs(dtype, bytes);
}

function refused(info: VariableInfo, source: ByteSource, why: string): FitsVariable {
  return { info, read: async () => { throw new UnsupportedError(`${info.name}: ${why}`, source.name); } };
}

async function tableColumns(source: ByteSource, hdu: Hdu, table: string): Promise<FitsVariable[]> {
  const cards = hdu.cards;
  const rowBytes = cardNumber(cards, "NAXIS1", 0);
  const rows = cardNumber(cards, "NAXIS2", 0);
  const theap = cardNumber(cards, "THEAP", rowBytes * rows);
  const heap = { at: hdu.dataOffset + theap, bytes: Math.max(0, rowBytes * rows + cardNumber(cards, "PCOUNT", 0) - theap) };
  const rowDim = `${table}_NAXIS2`;
  const out: FitsVariable[] = [];
  let offset = 0;
  for (let n = 1; n <= cardNumber(cards, "TFIELDS", 0); n++) {
    const tform = String(cardValue(cards, `TFORM${n}`) ?? "").trim();
    const parsed = parseTform(tform);
    if (!parsed) throw new FormatError(source.name, hdu.headerOffset, `column ${n} of ${table} has TFORM${n} = "${tform}", not a binary-table format`);
    const { repeat, code, dtype, itemSize, width } = parsed;
    const title = cardValue(cards, `TTYPE${n}`);
    const column = typeof title === "string" && title.trim() ? title.trim() : `col${n}`;
    const name = `${table}/${column}`;
    const attributes = columnAttributes(cards, n);
    const begin = hdu.dataOffset + offset;
    offset += width;
    if (code === "P" || code === "Q") {
      const element = parsed.element;
      if (!element || element.code === "X") {
        out.push(refused({ name, dims: [rowDim], shape: [rows], dtype, attributes }, source, `variable-length arrays of ${element ? "bits" : "no type"} (TFORM ${tform}) cannot be read`));
        continue;
      }
      const col = { name, begin, rowBytes, rows, wide: code === "Q", element, heap: heap.at, heapBytes: heap.bytes };
      const max = parsed.max ?? (await longestRow(source, col));
      const complex = element.code === "C" || element.code === "M";
      // A header may lie about the longest row, but not beyond what the heap holds.
      if (max * element.itemSize * (complex ? 2 : 1) > heap.bytes) throw new FormatError(source.name, hdu.headerOffset, `column ${name} has TFORM${n} = "${tform}": rows of ${max} elements cannot fit in the ${heap.bytes}-byte heap`);
      const shape = complex ? [rows, max, 2] : [rows, max];
      const dims = [rowDim, `${name}_dim1`, ...(complex ? [`${name}_complex`] : [])];
      out.push({ info: { name, dims, shape, dtype: element.dtype, attributes, decoding: columnDecoding(cards, n, element.code, element.dtype) }, read: (slab) => readVla(source, col, max, slab) });
      continue;
    }
    // Shape of one cell: TDIMn (reversed into row-major), else the repeat count; complex values get a last dim of 2.
    const tdim = cardValue(cards, `TDIM${n}`);
    let cell = typeof tdim === "string" && /^\(\s*\d+(\s*,\s*\d+)*\s*\)$/.test(tdim) ? tdim.replace(/[()\s]/g, "").split(",").map(Number).reverse() : repeat === 1 ? [] : [repeat];
    if (code === "A" && cell.length === 0) cell = [repeat];
    if (code === "C" || code === "M") cell = [...cell, 2];
    const shape = [rows, ...cell];
    const dims = [rowDim, ...cell.map((_, k) => `${name}_${k === cell.length - 1 && (code === "C" || code === "M") ? "complex" : `dim${cell.length - k}`}`)];
    if (code === "X") {
      out.push({ info: { name, dims, shape, dtype: "bool", attributes }, read: (slab) => readBits(source, { begin, rowBytes, rows, width, name }, slab) });
      continue;
    }
    const layout: Layout = { what: `column ${name}`, begin, shape, strides: [rowBytes, ...contiguousStrides(cell, itemSize)], itemSize };
    out.push({ info: { name, dims, shape, dtype, attributes, decoding: columnDecoding(cards, n, code, dtype) }, read: (slab, into) => readBigEndian(source, layout, dtype, slab, into) });
  }
  if (offset > rowBytes) throw new FormatError(source.name, hdu.headerOffset, `the columns of ${table} need ${offset} bytes per row but NAXIS1 is ${rowBytes}`);
  return out;
}

function columnDecoding(cards: Card[], n: number, code: string, dtype: NumericDType | "char" | "bool"): Decoding {
  if (dtype === "bool") return { dtype: "bool", decode: (data, shape) => ({ data: Uint8Array.from(data as Uint8Array, (b) => (b === 0x54 ? 1 : 0)), dtype: "bool", shape }) };
  if (dtype === "char") return { dtype: "string", decode: (data, shape) => fitsStrings(data as Uint8Array, shape) };
  const tnull = cardValue(cards, `TNULL${n}`);
  const scaling = { scale: cardNumber(cards, `TSCAL${n}`, 1), zero: cardNumber(cards, `TZERO${n}`, 0), blank: typeof tnull === "number" || typeof tnull === "bigint" ? tnull : undefined };
  // astropy scales table columns to float64 whatever their type.
  return scalingDecoding(dtype, scaling, "float64");
}

/** FITS character data: one string per cell, trailing spaces and NULs dropped. */
function fitsStrings(bytes: Uint8Array, shape: number[]) {
  const width = shape[shape.length - 1] || 1;
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += width) {
    let end = i + width;
    while (end > i && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end--;
    out.push(Buffer.from(bytes.buffer, bytes.byteOffset + i, end - i).toString("latin1"));
  }
  return { data: out, dtype: "string" as const, shape: shape.slice(0, -1) };
}

/** X columns: bits packed most significant first; each selected bit becomes a bool. */
async function readBits(source: ByteSource, col: { begin: number; rowBytes: number; rows: number; width: number; name: string }, slab: Hyperslab): Promise<NumericArray> {
  const rowsSlab: Hyperslab = { start: [slab.start[0], 0], count: [slab.count[0], col.width], step: [slab.step[0], 1], keep: [true, true] };
  const bytes = await readStrided(source, { what: `column ${col.name}`, begin: col.begin, shape: [col.rows, col.width], strides: [col.rowBytes, 1], itemSize: 1 }, rowsSlab);
  const bits = slab.count.length > 1 ? slab.count[1] : 1;
  const out = new Uint8Array(slab.count[0] * bits);
  for (let r = 0; r < slab.count[0]; r++) {
    for (let b = 0; b < bits; b++) {
      const bit = slab.count.length > 1 ? slab.start[1] + b * slab.step[1] : 0;
      out[r * bits + b] = (bytes[r * col.width + (bit >> 3)] >> (7 - (bit & 7))) & 1;
    }
  }
  return out;
}

/** Header cards as attributes: first value of each keyword; COMMENT and HISTORY joined into lines. */
export function cardAttributes(cards: readonly Card[]): Attribute[] {
  const out: Attribute[] = [];
  const seen = new Set<string>();
  const text = new Map<string, string[]>();
  for (const c of cards) {
    if (c.commentary) {
      if (c.keyword) text.set(c.keyword, [...(text.get(c.keyword) ?? []), String(c.value).trim()]);
      continue;
    }
    if (seen.has(c.keyword)) continue;
    seen.add(c.keyword);
    out.push(cardAttribute(c));
  }
  for (const [name, lines] of text) out.push({ name, dtype: "char", value: lines.join("\n") });
  return out;
}

function cardAttribute(c: Card): Attribute {
  const { keyword: name, value: v } = c;
  if (typeof v === "boolean") return { name, dtype: "bool", value: Uint8Array.of(v ? 1 : 0) };
  if (typeof v === "bigint") return { name, dtype: "int64", value: BigInt64Array.of(v) };
  if (Array.isArray(v)) return { name, dtype: "float64", value: Float64Array.from(v) };
  if (typeof v === "number") {
    if (c.kind === "int") return Math.abs(v) < 2 ** 31 ? { name, dtype: "int32", value: Int32Array.of(v) } : { name, dtype: "int64", value: BigInt64Array.of(BigInt(v)) };
    return { name, dtype: "float64", value: Float64Array.of(v) };
  }
  return { name, dtype: "char", value: v ?? "" };
}

/** A column's own cards (TUNITn becomes `units`, and so on) as attributes without their index. */
function columnAttributes(cards: readonly Card[], n: number): Attribute[] {
  const suffix = String(n);
  const own = cards.filter((c) => !c.commentary && /^T[A-Z]+\d+$/.test(c.keyword) && c.keyword.endsWith(suffix) && /^\D+$/.test(c.keyword.slice(0, -suffix.length)))
    .map((c) => ({ ...c, keyword: c.keyword.slice(0, -suffix.length) }));
  const attrs = cardAttributes(own);
  const unit = own.find((c) => c.keyword === "TUNIT");
  if (typeof unit?.value === "string") attrs.push({ name: "units", dtype: "char", value: unit.value });
  return attrs;
}
