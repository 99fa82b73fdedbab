/**
 * Reading a hyperslab of a classic variable: the selection becomes a list of
 * contiguous byte runs in file order; runs close together are fetched with one
 * positional read through a scratch buffer, long runs go straight into the
 * output; the big-endian output is then swapped to native order in place.
 */
import { itemSize, viewAs, type NumericArray } from "../../dtype.ts";
import { FormatError } from "../../errors.ts";
import type { Hyperslab } from "../../selection.ts";
import type { ByteSource } from "../../source.ts";
import { swapToNative, type Nc3Header, type Nc3Var } from "./header.ts";

/** Runs closer than this are read together (reading a gap is cheaper than another system call). */
const GAP = 64 * 1024;
/** Largest scratch read for coalesced runs. */
const SPAN = 4 * 1024 * 1024;

export async function readSlab(source: ByteSource, header: Nc3Header, v: Nc3Var, slab: Hyperslab): Promise<NumericArray> {
  const size = itemSize(v.dtype);
  const n = slab.count.reduce((a, b) => a * b, 1);
  if (n > 0) checkExtent(source, header, v, slab); // before allocating: the extent is bounded by the file size
  const out = new Uint8Array(new ArrayBuffer(n * size));
  if (n > 0) {
    await gather(source, runs(header, v, slab), out);
    swapToNative(out, size);
  }
  return viewAs(v.dtype, out);
}

/** Fails fast, before any read, when the selection reaches past the end of the file. */
function checkExtent(source: ByteSource, header: Nc3Header, v: Nc3Var, slab: Hyperslab) {
  const last = slab.start.map((s, d) => s + (slab.count[d] - 1) * slab.step[d]);
  const end = offsetOf(header, v, last) + itemSize(v.dtype);
  if (end > source.size) {
    const first = offsetOf(header, v, slab.start);
    throw new FormatError(source.name, Math.max(first, Math.min(end, source.size)),
      `file is truncated: variable ${v.name} needs bytes up to ${end} but the file ends at byte ${source.size}`);
  }
}

/** Byte offset of the element at a multi-index. */
function offsetOf(header: Nc3Header, v: Nc3Var, index: number[]): number {
  const size = itemSize(v.dtype);
  let off = v.begin;
  let stride = size;
  for (let d = index.length - 1; d >= 0; d--) {
    if (d === 0 && v.isRecord) off += index[0] * header.recSize;
    else {
      off += index[d] * stride;
      stride *= v.shape[d];
    }
  }
  return off;
}

interface Run { offset: number; length: number }

/** Contiguous byte runs of a selection, in file order (which is also output order). */
function* runs(header: Nc3Header, v: Nc3Var, slab: Hyperslab): Generator<Run> {
  const nd = v.shape.length;
  const size = itemSize(v.dtype);
  if (nd === 0) {
    yield { offset: v.begin, length: size };
    return;
  }
  // Merge trailing dims into one run while the dims inside are taken whole.
  const firstMergeable = v.isRecord ? 1 : 0;
  let inner = nd;
  let runElems = 1;
  let whole = true;
  while (inner - 1 >= firstMergeable && whole && slab.step[inner - 1] === 1) {
    inner--;
    runElems *= slab.count[inner];
    whole = slab.count[inner] === v.shape[inner];
  }
  const length = runElems * size;
  // Byte strides of each dim.
  const strides = new Array<number>(nd);
  let acc = size;
  for (let d = nd - 1; d >= 0; d--) {
    strides[d] = d === 0 && v.isRecord ? header.recSize : acc;
    acc *= v.shape[d];
  }
  const outer = inner; // dims [0, outer) are iterated
  if (outer === 0) {
    yield { offset: offsetOf(header, v, slab.start), length };
    return;
  }
  const idx = new Array<number>(outer).fill(0);
  const base = offsetOf(header, v, slab.start);
  for (;;) {
    let off = base;
    for (let d = 0; d < outer; d++) off += idx[d] * slab.step[d] * strides[d];
    yield { offset: off, length };
    let d = outer - 1;
    while (d >= 0 && ++idx[d] === slab.count[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/**
 * Reads the runs into `out` back to back. Adjacent runs form a dense span, read
 * straight into `out`; runs separated by small gaps form a sparse span, read
 * once into a scratch buffer and copied out.
 */
async function gather(source: ByteSource, it: Iterable<Run>, out: Uint8Array) {
  let scratch: Uint8Array | undefined;
  let spanStart = 0, spanEnd = 0, spanDst = 0, dst = 0;
  let dense = true;
  let pieces: { src: number; dst: number; length: number }[] = [];
  const flush = async () => {
    if (!pieces.length) return;
    if (dense) {
      await source.read(spanStart, spanEnd - spanStart, out, spanDst);
    } else {
      const len = spanEnd - spanStart;
      if (!scratch || scratch.byteLength < len) scratch = new Uint8Array(Math.max(len, 64 * 1024));
      await source.read(spanStart, len, scratch, 0);
      for (const p of pieces) out.set(scratch.subarray(p.src, p.src + p.length), p.dst);
    }
    pieces = [];
  };
  for (const run of it) {
    const end = run.offset + run.length;
    const gap = run.offset - spanEnd;
    if (pieces.length && gap === 0) {
      pieces[pieces.length - 1].length += run.length; // continues the last piece
      spanEnd = end;
      dst += run.length;
      continue;
    } else if (pieces.length && gap > 0 && gap <= GAP && end - spanStart <= SPAN) {
      dense = false;
    } else {
      await flush();
      spanStart = run.offset;
      spanDst = dst;
      dense = true;
    }
    pieces.push({ src: run.offset - spanStart, dst, length: run.length });
    spanEnd = end;
    dst += run.length;
  }
  await flush();
}
