/**
 * Reading a hyperslab of an array stored as items `strides[d]` bytes apart along
 * each dimension, from `begin` (a NetCDF classic variable, with whole records
 * between its records; a FITS image; a column of a FITS table). The selection
 * becomes runs of bytes in file order, which is also output order; runs close
 * together are planned as one read, and several reads run at once.
 */
import { FormatError } from "./errors.ts";
import { allocateBytes } from "./kernels/simd.ts";
import type { Hyperslab } from "./selection.ts";
import type { ByteSource } from "./source.ts";

/** Where an array's bytes lie in a file. */
export interface Layout {
  /** Named in errors, e.g. "variable tas". */
  what: string;
  begin: number;
  shape: readonly number[];
  /** Bytes from one index to the next, per dimension. */
  strides: readonly number[];
  itemSize: number;
}

/** Runs closer than this are read together (reading a gap is cheaper than another system call). */
const GAP = 64 * 1024;
/** Largest single read; bigger ones are split so that several run in parallel. */
const READ_BYTES = 8 * 1024 * 1024;
/** Reads in flight at once (libuv runs four file-system threads). */
const IN_FLIGHT = 4;
/** Pieces planned before the planned reads are carried out (bounds the plan's memory). */
const BATCH_PIECES = 1 << 16;
/** Buffers per vectored read (IOV_MAX is 1024 on Linux). */
const MAX_BUFFERS = 1000;
/** Pieces smaller than this on average are copied out of a scratch read rather than read in place. */
const SMALL_PIECE = 512;
/** Where the bytes of gaps go. Concurrent reads may share it: nobody reads it. */
const gapSink = new Uint8Array(GAP);

/** Row-major strides of a contiguous array. */
export function contiguousStrides(shape: readonly number[], itemSize: number): number[] {
  const strides = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = itemSize; d >= 0; d--) {
    strides[d] = acc;
    acc *= shape[d];
  }
  return strides;
}

/**
 * The bytes of a selection, as stored (no byte swap), back to back in row-major
 * order; in `into` when it is large enough, else in a new array.
 */
export async function readStrided(source: ByteSource, layout: Layout, slab: Hyperslab, into?: Uint8Array): Promise<Uint8Array> {
  const n = slab.count.reduce((a, b) => a * b, 1);
  const bytes = n * layout.itemSize;
  if (n > 0) checkExtent(source, layout, slab); // before allocating: the extent is bounded by the file size
  const out = into && into.byteLength >= bytes && into.byteOffset % 8 === 0 ? into.subarray(0, bytes) : allocateBytes(bytes);
  if (n > 0) await gather(source, runs(layout, slab), out);
  return out;
}

const offsetOf = (layout: Layout, index: readonly number[]) => index.reduce((off, i, d) => off + i * layout.strides[d], layout.begin);

/** Fails fast, before any read, when the selection reaches past the end of the file. */
function checkExtent(source: ByteSource, layout: Layout, slab: Hyperslab) {
  const last = slab.start.map((s, d) => s + (slab.count[d] - 1) * slab.step[d]);
  const end = offsetOf(layout, last) + layout.itemSize;
  if (end > source.size) {
    const first = offsetOf(layout, slab.start);
    throw new FormatError(source.name, Math.max(first, Math.min(end, source.size)),
      `file is truncated: ${layout.what} needs bytes up to ${end} but the file ends at byte ${source.size}`);
  }
}

/** `count` items of `length` bytes, `stride` bytes apart (`count` 1 for a plain run); they fill the output back to back. */
interface Run { offset: number; length: number; count: number; stride: number }

/** Contiguous (or evenly strided) byte runs of a selection, in file order. */
function* runs(layout: Layout, slab: Hyperslab): Generator<Run> {
  const { shape, strides, itemSize: size } = layout;
  const nd = shape.length;
  const base = offsetOf(layout, slab.start);
  if (nd === 0) {
    yield { offset: base, length: size, count: 1, stride: size };
    return;
  }
  // Trailing dims merge into one run while they are stored contiguously and the
  // dims inside them are taken whole. A last dim that cannot (taken with a step,
  // or not contiguous, like a table column) becomes one strided run.
  let inner = nd;
  let runElems = 1;
  let whole = true;
  let span = size; // bytes the merged dims [inner, nd) cover
  while (inner > 0 && whole && slab.step[inner - 1] === 1 && strides[inner - 1] === span) {
    inner--;
    runElems *= slab.count[inner];
    whole = slab.count[inner] === shape[inner];
    span *= shape[inner];
  }
  let count = 1, stride = runElems * size;
  if (inner === nd) {
    inner = nd - 1;
    count = slab.count[nd - 1];
    stride = slab.step[nd - 1] * strides[nd - 1];
  }
  const length = runElems * size;
  const idx = new Array<number>(inner).fill(0); // dims [0, inner) are iterated
  for (;;) {
    let off = base;
    for (let d = 0; d < inner; d++) off += idx[d] * slab.step[d] * strides[d];
    yield { offset: off, length, count, stride };
    let d = inner - 1;
    while (d >= 0 && ++idx[d] === slab.count[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/**
 * A planned read of file bytes [position, position + length) and where its
 * pieces go: (offset in the read, offset in the output, item length, stride,
 * count) for each.
 */
interface Plan { position: number; length: number; pieces: number[] }
const PIECE = 5;

/** Reads the runs into `out` back to back, planning and reading in bounded batches. */
async function gather(source: ByteSource, it: Iterable<Run>, out: Uint8Array) {
  let batch: Plan[] = [];
  let planned = 0;
  let plan: Plan | undefined;
  let dst = 0;
  const flush = async () => {
    await carryOut(source, batch, out);
    batch = [];
    planned = 0;
    plan = undefined;
  };
  for (const run of it) {
    // A strided run whose items lie far apart is read as separate runs.
    const items = run.count > 1 && run.stride - run.length > GAP
      ? Array.from({ length: run.count }, (_, c) => ({ offset: run.offset + c * run.stride, length: run.length, count: 1, stride: run.length }))
      : [run];
    for (const r of items) {
      const span = (r.count - 1) * r.stride + r.length;
      const gap = plan ? r.offset - (plan.position + plan.length) : -1;
      const grown = plan ? plan.length + gap + span : 0;
      const last = plan ? plan.pieces.length - PIECE : 0;
      if (plan && gap === 0 && r.count === 1 && plan.pieces[last + 4] === 1 && grown <= READ_BYTES) {
        plan.pieces[last + 2] += r.length; // the last piece goes on
        plan.length = grown;
      } else if (plan && gap >= 0 && gap <= GAP && grown <= READ_BYTES) {
        plan.pieces.push(grown - span, dst, r.length, r.stride, r.count);
        plan.length = grown;
        planned++;
      } else if (r.count > 1) {
        plan = { position: r.offset, length: span, pieces: [0, dst, r.length, r.stride, r.count] };
        batch.push(plan);
        planned++;
      } else {
        // A run longer than one read becomes several, so that big reads also run in parallel.
        for (let done = 0; done < r.length; done += READ_BYTES) {
          const n = Math.min(READ_BYTES, r.length - done);
          plan = { position: r.offset + done, length: n, pieces: [0, dst + done, n, n, 1] };
          batch.push(plan);
          planned++;
        }
      }
      dst += r.length * r.count;
      if (planned >= BATCH_PIECES) await flush();
    }
  }
  await flush();
}

/** Carries out planned reads, a few at a time; the first failure stops the rest. */
/** Reads at most this long, when there are many, are done without the thread pool (see ByteSource.readSmall). */
const SMALL_READ = 4096;

async function carryOut(source: ByteSource, allPlans: Plan[], out: Uint8Array) {
  let plans = allPlans;
  if (source.readSmall && plans.length > IN_FLIGHT) {
    const isSmall = (p: Plan) => p.length <= SMALL_READ && p.pieces.length === PIECE && p.pieces[0] === 0 && p.pieces[4] === 1;
    const small = plans.filter(isSmall);
    if (small.length > IN_FLIGHT) {
      await source.readSmall(small.map((p) => [p.position, p.length, p.pieces[1]]), out);
      plans = plans.filter((p) => !isSmall(p));
    }
  }
  let next = 0;
  let failed = false;
  const worker = async () => {
    let scratch: Uint8Array | undefined;
    while (!failed && next < plans.length) {
      const { position, length, pieces } = plans[next++];
      const count = pieces.length / PIECE;
      const plain = pieces.every((x, i) => i % PIECE !== 4 || x === 1);
      try {
        if (count === 1 && plain) {
          await source.read(position, length, out, pieces[1]);
        } else if (plain && count * 2 <= MAX_BUFFERS && length / count >= SMALL_PIECE) {
          // Few large pieces: one vectored read straight into the output, gaps to the sink.
          const buffers: Uint8Array[] = [];
          let at = 0;
          for (let p = 0; p < pieces.length; p += PIECE) {
            if (pieces[p] > at) buffers.push(gapSink.subarray(0, pieces[p] - at));
            buffers.push(out.subarray(pieces[p + 1], pieces[p + 1] + pieces[p + 2]));
            at = pieces[p] + pieces[p + 2];
          }
          await source.readv(position, buffers);
        } else {
          // Many small or strided pieces (say, every other value): one read, then a copy loop.
          if (!scratch || scratch.byteLength < length) scratch = new Uint8Array(Math.max(length, 1 << 16));
          await source.read(position, length, scratch, 0);
          for (let p = 0; p < pieces.length; p += PIECE) copyPiece(scratch, out, pieces, p);
        }
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, plans.length) }, worker));
}

/** Copies one planned piece from the scratch read to the output. */
function copyPiece(scratch: Uint8Array, out: Uint8Array, pieces: number[], p: number) {
  const [src, to, len, stride, count] = [pieces[p], pieces[p + 1], pieces[p + 2], pieces[p + 3], pieces[p + 4]];
  if (count === 1 && len > 16) {
    out.set(scratch.subarray(src, src + len), to);
    return;
  }
  for (let c = 0, s = src, d = to; c < count; c++, s += stride) for (let k = 0; k < len; k++) out[d++] = scratch[s + k];
}
