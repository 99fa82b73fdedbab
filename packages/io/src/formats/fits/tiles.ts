/**
 * Tile-compressed images (the FITS tiled-image convention): a binary table
 * whose rows are tiles of the image, each compressed into the heap. Only the
 * tiles a selection touches are read and decompressed. GZIP_1, GZIP_2 and
 * RICE_1 are decoded; HCOMPRESS_1, PLIO_1 and quantized floating-point tiles
 * are refused with an UnsupportedError.
 */
import { gunzipSync } from "node:zlib";
import { allocate, viewAs, type NumericArray, type NumericDType } from "../../dtype.ts";
import { FormatError } from "../../errors.ts";
import { swapToNative } from "../../kernels/simd.ts";
import { strides } from "../../ndarray.ts";
import type { Hyperslab } from "../../selection.ts";
import type { ByteSource } from "../../source.ts";
import { BITPIX_DTYPE, cardNumber, cardValue, type Hdu } from "./header.ts";
import { riceDecode } from "./rice.ts";
import { parseTform } from "./tform.ts";

export interface TiledImage {
  name: string;
  dtype: NumericDType;
  /** Row-major: ZNAXISn first. */
  shape: number[];
  tile: number[];
  read(slab: Hyperslab): Promise<NumericArray>;
}

const DECODED = new Set(["GZIP_1", "GZIP_2", "RICE_1", "RICE_ONE"]);


/** The tiled image of a ZIMAGE HDU, or the reason it cannot be decoded. */
export function tiledImage(source: ByteSource, hdu: Hdu, name: string): TiledImage | { unsupported: string; dtype: NumericDType; shape: number[] } {
  const cards = hdu.cards;
  const bad = (what: string): never => { throw new FormatError(source.name, hdu.headerOffset, `compressed image ${name}: ${what}`); };
  const nd = cardNumber(cards, "ZNAXIS", 0);
  const fitsShape = Array.from({ length: nd }, (_, k) => cardNumber(cards, `ZNAXIS${k + 1}`, -1));
  if (fitsShape.some((s) => !Number.isInteger(s) || s < 0)) bad("ZNAXISn missing or negative");
  const shape = [...fitsShape].reverse();
  const tile = fitsShape.map((s, k) => cardNumber(cards, `ZTILE${k + 1}`, k === 0 ? s : 1)).reverse();
  const dtype = BITPIX_DTYPE[String(cardNumber(cards, "ZBITPIX", 0))] ?? bad(`ZBITPIX ${String(cardValue(cards, "ZBITPIX"))} is not a FITS BITPIX`);
  const cmp = String(cardValue(cards, "ZCMPTYPE") ?? "").trim();
  const columns = Array.from({ length: cardNumber(cards, "TFIELDS", 0) }, (_, k) => String(cardValue(cards, `TTYPE${k + 1}`) ?? "").trim());
  if (!DECODED.has(cmp)) return { unsupported: `tile-compressed images (${cmp}) cannot be decoded yet`, dtype, shape };
  if (dtype === "float32" || dtype === "float64" || columns.some((c) => c === "ZSCALE" || c === "ZZERO" || c === "UNCOMPRESSED_DATA")) {
    return { unsupported: `quantized or uncompressed floating-point tiles (${cmp}) cannot be decoded yet`, dtype, shape };
  }
  const col = columns.indexOf("COMPRESSED_DATA");
  if (col < 0) bad("no COMPRESSED_DATA column");
  // Where each row's (count, offset) descriptor sits, and the heap.
  let colOffset = 0;
  const formats = columns.map((_, k) => String(cardValue(cards, `TFORM${k + 1}`) ?? "").trim());
  for (let k = 0; k < col; k++) colOffset += parseTform(formats[k])?.width ?? bad(`cannot size column ${k + 1} (${formats[k]})`);
  const wide = parseTform(formats[col])?.code === "Q";
  const rowBytes = cardNumber(cards, "NAXIS1", 0), rows = cardNumber(cards, "NAXIS2", 0);
  const heap = hdu.dataOffset + cardNumber(cards, "THEAP", rowBytes * rows);
  const zval = (key: string, dflt: number) => {
    for (let i = 1; cardValue(cards, `ZNAME${i}`) !== undefined; i++) {
      if (String(cardValue(cards, `ZNAME${i}`)).trim() === key) return cardNumber(cards, `ZVAL${i}`, dflt);
    }
    return dflt;
  };
  const blocksize = zval("BLOCKSIZE", 32);
  const ricePix = zval("BYTEPIX", 4); // the convention's default, whatever ZBITPIX is
  const grid = shape.map((s, d) => Math.ceil(s / tile[d]));
  if (grid.reduce((a, b) => a * b, 1) > rows) bad(`${rows} rows cannot hold ${grid.join(" x ")} tiles`);

  /** Where each tile's compressed bytes are, for tiles first..last (one read of their table rows). */
  async function descriptors(first: number, last: number): Promise<{ count: number; offset: number }[]> {
    const rowsBytes = await source.read(hdu.dataOffset + first * rowBytes, (last - first + 1) * rowBytes);
    const view = new DataView(rowsBytes.buffer, rowsBytes.byteOffset, rowsBytes.byteLength);
    const out = [];
    for (let t = first; t <= last; t++) {
      const at = (t - first) * rowBytes + colOffset;
      const count = wide ? Number(view.getBigInt64(at)) : view.getInt32(at);
      const offset = wide ? Number(view.getBigInt64(at + 8)) : view.getInt32(at + 4);
      if (count < 0 || offset < 0 || heap + offset + count > source.size) bad(`tile ${t} points outside the file (heap offset ${offset}, ${count} bytes)`);
      out.push({ count, offset });
    }
    return out;
  }

  /** Decodes a tile into `out` (of its size) or, by default, a new array. */
  function decodeTile(index: number, packed: Uint8Array, size: number, out = allocate(dtype, size)): NumericArray {
    if (cmp === "RICE_1" || cmp === "RICE_ONE") {
      if (dtype === "int64") bad("RICE_1 cannot hold 64-bit integers");
      riceDecode(packed, out as Int32Array, blocksize, ricePix, { file: source.name, at: heap });
      return out;
    }
    let raw: Uint8Array;
    try {
      raw = gunzipSync(packed);
    } catch (e) {
      return bad(`tile ${index} does not decompress: ${(e as Error).message}`);
    }
    // Writers may store integers wider than the image's (cfitsio gzips 16-bit images as 32-bit integers).
    const width = raw.byteLength / size;
    if (![1, 2, 4, 8].includes(width) || width < out.BYTES_PER_ELEMENT) bad(`tile ${index} decompresses to ${raw.byteLength} bytes, not ${size} values`);
    const values = width === out.BYTES_PER_ELEMENT ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : new Uint8Array(raw.byteLength);
    if (cmp === "GZIP_2") for (let i = 0; i < size; i++) for (let b = 0; b < width; b++) values[i * width + b] = raw[b * size + i]; // bytes were grouped by significance
    else values.set(raw);
    swapToNative(values, width);
    if (width !== out.BYTES_PER_ELEMENT) {
      const stored = viewAs(width === 2 ? "int16" : width === 4 ? "int32" : "int64", values);
      if (stored instanceof BigInt64Array) {
        for (let i = 0; i < size; i++) (out as any)[i] = out instanceof BigInt64Array ? stored[i] : Number(stored[i]);
      } else (out as Int16Array).set(stored as Int32Array);
    }
    return out;
  }

  return {
    name, dtype, shape, tile,
    async read(slab) {
      const n = slab.count.reduce((a, b) => a * b, 1);
      const out = allocate(dtype, n);
      if (n === 0) return out;
      // The tiles a selection touches, per dim, and for each the selected positions in it.
      const last = slab.start.map((s, d) => s + (slab.count[d] - 1) * slab.step[d]);
      const tilesPerDim = shape.map((_, d) => {
        const list: number[] = [];
        for (let t = Math.floor(slab.start[d] / tile[d]); t <= Math.floor(last[d] / tile[d]); t++) list.push(t);
        return list;
      });
      const outStrides = strides(slab.count);
      // Every tile touched, in row-major order, then their bytes: one read of their
      // descriptors and, when not too far apart, one read of the heap they span.
      const touched: number[][] = [];
      const collect = (d: number, t: number[]) => {
        if (d === shape.length) return void touched.push(t);
        for (const k of tilesPerDim[d]) collect(d + 1, [...t, k]);
      };
      collect(0, []);
      const indices = touched.map((t) => t.reduce((acc, k, d) => acc * grid[d] + k, 0));
      const firstTile = indices.reduce((a, b) => Math.min(a, b)), lastTile = indices.reduce((a, b) => Math.max(a, b));
      const descs = await descriptors(firstTile, lastTile);
      const wanted = indices.map((i) => descs[i - firstTile]);
      const lo = wanted.reduce((a, w) => Math.min(a, w.offset), Infinity), hi = wanted.reduce((a, w) => Math.max(a, w.offset + w.count), 0);
      const span = hi - lo <= 256 * 2 ** 20 ? await source.read(heap + lo, hi - lo) : undefined;
      for (const [k, t] of touched.entries()) {
        const w = wanted[k];
        const packed = span ? span.subarray(w.offset - lo, w.offset - lo + w.count) : await source.read(heap + w.offset, w.count);
        const origin = t.map((i, d) => i * tile[d]);
        const size = t.map((i, d) => Math.min(tile[d], shape[d] - origin[d]));
        const n = size.reduce((a, b) => a * b, 1);
        const picks = size.map((s, d) => pick(d, origin[d], s));
        const run = contiguousRun(picks, size);
        if (run >= 0) decodeTile(indices[k], packed, n, out.subarray(run, run + n) as NumericArray);
        else copyTile(decodeTile(indices[k], packed, n), picks, strides(size));
      }
      /** The selected positions of dim d inside a tile at `origin` of `size`: the first (in the tile and in the output) and how many, `step` apart. */
      function pick(d: number, origin: number, size: number) {
        const first = Math.max(0, Math.ceil((origin - slab.start[d]) / slab.step[d])); // first output index at or after the tile's start
        const p = slab.start[d] + first * slab.step[d] - origin;
        const n = p >= size ? 0 : Math.min(slab.count[d] - first, Math.floor((size - 1 - p) / slab.step[d]) + 1);
        return { out: first, at: p, n: Math.max(0, n) };
      }
      /** Where in the output a tile lands as one contiguous run (the whole tile selected, filling whole output rows), else -1. */
      function contiguousRun(picks: { out: number; at: number; n: number }[], size: number[]): number {
        let inner = true; // dims after this one span whole output rows
        for (let d = picks.length - 1; d >= 0; d--) {
          if (picks[d].at !== 0 || picks[d].n !== size[d] || (picks[d].n > 1 && (slab.step[d] !== 1 || !inner))) return -1;
          if (picks[d].n !== slab.count[d]) inner = false;
        }
        return picks.reduce((o, p, d) => o + p.out * outStrides[d], 0);
      }
      function copyTile(values: NumericArray, picks: { out: number; at: number; n: number }[], tileStrides: number[]) {
        const last = picks.length - 1;
        const walk = (d: number, o: number, s: number) => {
          const { out: i0, at: p0, n } = picks[d], step = slab.step[d];
          if (d === last && step === 1) {
            (out as Int16Array).set((values as Int16Array).subarray(s + p0, s + p0 + n), o + i0); // a run of the row at once
          } else if (d === last) {
            for (let j = 0; j < n; j++) (out as any)[o + i0 + j] = values[s + p0 + j * step];
          } else {
            for (let j = 0; j < n; j++) walk(d + 1, o + (i0 + j) * outStrides[d], s + (p0 + j * step) * tileStrides[d]);
          }
        };
        if (picks.every((p) => p.n > 0)) walk(0, 0, 0);
      }
      return out;
    },
  };
}
