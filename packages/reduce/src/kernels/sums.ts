/**
 * Where a piece's time sums are computed fast: one WebAssembly memory holds
 * the block the reader fills (byte-swapped and NaN-filled there by the io
 * kernels) and the groups' float64 accumulators, and the SIMD kernel of
 * sums.wat adds each step to them. The result is bit for bit that of the
 * plain loops in accumulate.ts, which do what the kernel cannot reach.
 */
import { kernelMemory } from "@meridian/io";
import { SUMS_WASM } from "./sums-wasm.ts";

interface Kernels {
  sumF32(x: number, n: number, sum: number, missing: number): void;
  sumF32Weighted(x: number, n: number, w: number, sum: number, missing: number, missingWeight: number): void;
}

const module = new WebAssembly.Module(Buffer.from(SUMS_WASM, "base64"));

export class SumArena {
  /** Where the reader puts each block. */
  readonly block: Uint8Array;
  private readonly kernels: Kernels;
  private next: number;
  private readonly free: Float64Array[] = [];

  private constructor(private readonly memory: WebAssembly.Memory, blockBytes: number, private readonly end: number) {
    this.block = new Uint8Array(memory.buffer, 0, blockBytes);
    this.next = align(blockBytes);
    this.kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernels;
  }

  /** Room for a block of `blockBytes` and `arrays` float64 arrays of `cells`; undefined when there is no room for the memory. */
  static create(blockBytes: number, arrays: number, cells: number): SumArena | undefined {
    const end = align(blockBytes) + arrays * align(8 * cells);
    const memory = kernelMemory(end);
    return memory && new SumArena(memory, blockBytes, end);
  }

  /** A zeroed float64 array of `cells` in this memory, or a plain one when the room is used up. */
  float64(cells: number): Float64Array {
    const free = this.free.pop();
    if (free && free.length === cells) return free.fill(0);
    if (free) this.free.push(free);
    const bytes = align(8 * cells);
    if (this.next + bytes > this.end) return new Float64Array(cells);
    const out = new Float64Array(this.memory.buffer, this.next, cells);
    this.next += bytes;
    return out;
  }

  /** Gives arrays of this memory back, for float64() to hand out again. */
  release(...arrays: (Float64Array | undefined)[]) {
    for (const a of arrays) if (a?.buffer === this.memory.buffer) this.free.push(a);
  }

  /**
   * Adds float32 values [base, base + n) of `x` to `sum` (w·x with a weight)
   * and counts the missing (NaN) ones, in whole vectors of 4 cells; returns
   * how many cells it did (none when an array lies outside this memory).
   */
  add(x: ArrayLike<number>, base: number, n: number, w: number | undefined, sum: Float64Array, missing: Float64Array, missingWeight?: Float64Array): number {
    const buffer = this.memory.buffer;
    if (!(x instanceof Float32Array) || x.buffer !== buffer || sum.buffer !== buffer || missing.buffer !== buffer) return 0;
    const done = n - (n % 4), at = x.byteOffset + 4 * base;
    if (w === undefined) this.kernels.sumF32(at, done, sum.byteOffset, missing.byteOffset);
    else if (missingWeight?.buffer === buffer) this.kernels.sumF32Weighted(at, done, w, sum.byteOffset, missing.byteOffset, missingWeight.byteOffset);
    else return 0;
    return done;
  }
}

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;
