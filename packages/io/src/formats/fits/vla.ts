/**
 * Variable-length array columns (TFORM rPt(emax) and rQt(emax), FITS Standard
 * 4.0 §7.3.5): each row holds a (count, offset) descriptor of its array in the
 * heap. A column reads as [rows, emax] (and a last dim of 2 for complex
 * elements): each row's elements, then padding that the read reports absent.
 */
import type { PaddedValues } from "../../backend.ts";
import { viewAs, type NumericDType } from "../../dtype.ts";
import { FormatError } from "../../errors.ts";
import { swapToNative } from "../../kernels/simd.ts";
import type { Hyperslab } from "../../selection.ts";
import type { ByteSource } from "../../source.ts";
import { readStrided } from "../../strided.ts";
import type { Tform } from "./tform.ts";

export interface VlaColumn {
  name: string;
  /** File offset of row 0's descriptor. */
  begin: number;
  rowBytes: number;
  rows: number;
  /** Q descriptors are two int64, P two int32. */
  wide: boolean;
  element: Tform;
  /** File offset of the heap, and its bytes. */
  heap: number;
  heapBytes: number;
}

/** Heaps spanning at most this many bytes are fetched in one read. */
const ONE_READ = 256 * 2 ** 20;

const pairOf = (e: Tform) => (e.code === "C" || e.code === "M" ? 2 : 1);

/** The (count, offset) descriptors of a range of rows, checked against the heap. */
async function descriptors(source: ByteSource, col: VlaColumn, start: number, count: number, step: number): Promise<{ count: number; offset: number }[]> {
  const size = col.wide ? 8 : 4;
  const bytes = await readStrided(source, { what: `column ${col.name}`, begin: col.begin, shape: [col.rows, 2], strides: [col.rowBytes, size], itemSize: size },
    { start: [start, 0], count: [count, 2], step: [step, 1], keep: [true, true] });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elementBytes = col.element.itemSize * pairOf(col.element);
  return Array.from({ length: count }, (_, i) => {
    const n = col.wide ? Number(view.getBigInt64(16 * i)) : view.getInt32(8 * i);
    const offset = col.wide ? Number(view.getBigInt64(16 * i + 8)) : view.getInt32(8 * i + 4);
    if (n < 0 || offset < 0 || offset + n * elementBytes > col.heapBytes) {
      const row = start + i * step;
      throw new FormatError(source.name, col.begin + row * col.rowBytes, `column ${col.name}, row ${row}: ${n} elements at heap offset ${offset} do not fit in the ${col.heapBytes}-byte heap`);
    }
    return { count: n, offset };
  });
}

/** The longest row of a column whose TFORM does not say: one pass over its descriptors. */
export async function longestRow(source: ByteSource, col: VlaColumn): Promise<number> {
  let most = 0;
  const batch = 1 << 16;
  for (let r = 0; r < col.rows; r += batch) {
    for (const d of await descriptors(source, col, r, Math.min(batch, col.rows - r), 1)) most = Math.max(most, d.count);
  }
  return most;
}

/** Values of a hyperslab over [rows, max(, 2)], in native byte order, with the padding absent. */
export async function readVla(source: ByteSource, col: VlaColumn, max: number, slab: Hyperslab): Promise<PaddedValues> {
  const e = col.element, pair = pairOf(e), size = e.itemSize;
  const [rows, elements, parts = 1] = slab.count;
  const descs = await descriptors(source, col, slab.start[0], rows, slab.step[0]);
  for (const [i, d] of descs.entries()) {
    if (d.count > max) throw new FormatError(source.name, col.begin + (slab.start[0] + i * slab.step[0]) * col.rowBytes, `column ${col.name}: a row of ${d.count} elements, but TFORM says at most ${max}`);
  }
  const lo = descs.reduce((a, d) => (d.count ? Math.min(a, d.offset) : a), Infinity);
  const hi = descs.reduce((a, d) => Math.max(a, d.offset + d.count * size * pair), 0);
  const span = lo < hi && hi - lo <= ONE_READ ? await source.read(col.heap + lo, hi - lo) : undefined;
  const n = rows * elements * parts;
  const out = new Uint8Array(n * size);
  const absent = new Uint8Array(n);
  let o = 0;
  for (const d of descs) {
    const bytes = !d.count ? undefined : span ? span.subarray(d.offset - lo) : await source.read(col.heap + d.offset, d.count * size * pair);
    for (let j = 0; j < elements; j++) {
      const at = slab.start[1] + j * slab.step[1];
      for (let k = 0; k < parts; k++, o++) {
        if (at >= d.count) { absent[o] = 1; continue; }
        const from = (at * pair + (parts > 1 ? slab.start[2] + k * slab.step[2] : 0)) * size;
        out.set(bytes!.subarray(from, from + size), o * size);
      }
    }
  }
  swapToNative(out, size);
  return { values: viewAs(e.dtype as NumericDType | "char" | "bool", out), absent };
}
