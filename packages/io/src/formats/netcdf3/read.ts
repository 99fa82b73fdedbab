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
import { allocateBytes, swapToNative } from "../../kernels/simd.ts";
import type { Nc3Header, Nc3Var } from "./header.ts";

/** Runs closer than this are read together (reading a gap is cheaper than another system call). */
const GAP = 64 * 1024;
/** Largest single read; bigger ones are split so that several run in parallel. */
const READ_BYTES = 8 * 1024 * 1024;
/** Reads in flight at once (libuv runs four file-system threads). */
const IN_FLIGHT = 4;
/** Buffers per vectored read (IOV_MAX is 1024 on Linux). */
const MAX_BUFFERS = 1000;
/** Where the bytes of gaps go. Concurrent reads may share it: nobody reads it. */
const gapSink = new Uint8Array(GAP);

export async function readSlab(source: ByteSource, header: Nc3Header, v: Nc3Var, slab: Hyperslab, into?: Uint8Array): Promise<NumericArray> {
  const size = itemSize(v.dtype);
  const n = slab.count.reduce((a, b) => a * b, 1);
  if (n > 0) checkExtent(source, header, v, slab); // before allocating: the extent is bounded by the file size
  const out = into && into.byteLength >= n * size && into.byteOffset % 8 === 0 ? into.subarray(0, n * size) : allocateBytes(n * size);
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
 * Reads the runs into `out` back to back. Runs separated by small gaps are
 * fetched with one vectored read whose buffers are the destinations in `out`
 * and, for the gaps, a throwaway buffer; several reads are in flight at once.
 */
async function gather(source: ByteSource, it: Iterable<Run>, out: Uint8Array) {
  const reads: { position: number; buffers: Uint8Array[] }[] = [];
  let op: { position: number; buffers: Uint8Array[] } | undefined;
  let opEnd = 0, opBytes = 0, pieceStart = 0, dst = 0;
  for (const run of it) {
    const gap = run.offset - opEnd;
    const fits = op !== undefined && opBytes + gap + run.length <= READ_BYTES;
    if (op && gap === 0 && fits) {
      op.buffers[op.buffers.length - 1] = out.subarray(pieceStart, dst + run.length); // extends the last piece
      opBytes += run.length;
    } else if (op && gap > 0 && gap <= GAP && fits && op.buffers.length < MAX_BUFFERS) {
      op.buffers.push(gapSink.subarray(0, gap), out.subarray(dst, dst + run.length));
      pieceStart = dst;
      opBytes += gap + run.length;
    } else {
      // A run longer than one read becomes several, so that big reads also run in parallel.
      for (let done = 0; done < run.length; done += READ_BYTES) {
        const n = Math.min(READ_BYTES, run.length - done);
        op = { position: run.offset + done, buffers: [out.subarray(dst + done, dst + done + n)] };
        reads.push(op);
        pieceStart = dst + done;
        opBytes = n;
      }
    }
    opEnd = run.offset + run.length;
    dst += run.length;
  }
  let next = 0;
  const worker = async () => {
    while (next < reads.length) {
      const r = reads[next++];
      if (r.buffers.length === 1) await source.read(r.position, r.buffers[0].byteLength, r.buffers[0], 0);
      else await source.readv(r.position, r.buffers);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, reads.length) }, worker));
}
