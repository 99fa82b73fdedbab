/**
 * Rice decompression of FITS tiles (RICE_1 in the tiled-image convention,
 * Pence et al.; White & Becker's algorithm). The first pixel is stored whole;
 * then blocks of `blocksize` differences, each block led by a code that says
 * how many low bits each difference keeps: none (all zero), all (stored raw),
 * or fs bits after a unary-coded high part. Differences are zigzag mapped.
 * The decoder itself is WebAssembly (kernels/rice.wat), about twice as fast
 * as the same loop in JavaScript.
 */
import { FormatError } from "../../errors.ts";
import { RICE_WASM } from "../../kernels/rice-wasm.ts";

const module = new WebAssembly.Module(Buffer.from(RICE_WASM, "base64"));
const PAGE = 65536, PAD = 32; // the decoder reads at most 16 bytes past the tile's end
let memory = new Uint8Array(0);
let decode: (input: number, len: number, out: number, n: number, blocksize: number, bytepix: number, width: number) => number;

/** The decoder's memory, with room for `bytes`. */
function memoryFor(bytes: number): Uint8Array {
  if (memory.byteLength < bytes) {
    const m = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    decode = (new WebAssembly.Instance(module, { env: { memory: m } }).exports as any).decode;
    memory = new Uint8Array(m.buffer);
  }
  return memory;
}

/** Decodes the `out.length` pixels of a tile, `bytepix` bytes each, into `out` (which keeps the low bits of its width). */
export function riceDecode(input: Uint8Array, out: Uint8Array | Int16Array | Int32Array, blocksize: number, bytepix: number, where: { file: string; at: number }) {
  if (bytepix !== 1 && bytepix !== 2 && bytepix !== 4) throw new FormatError(where.file, where.at, `RICE_1 BYTEPIX must be 1, 2 or 4, found ${bytepix}`);
  if (!(blocksize >= 1)) throw new FormatError(where.file, where.at, `RICE_1 BLOCKSIZE must be positive, found ${blocksize}`);
  // Memory: the pixels, then the tile's bytes and zero padding (the decoder reads a little ahead).
  const outBytes = Math.ceil(out.byteLength / 8) * 8;
  const mem = memoryFor(outBytes + input.length + PAD);
  mem.set(input, outBytes);
  mem.fill(0, outBytes + input.length, outBytes + input.length + PAD);
  let status: number;
  try {
    status = decode(outBytes, input.length, 0, out.length, Math.min(blocksize, 2 ** 31 - 1), bytepix, out.BYTES_PER_ELEMENT);
  } catch (e) {
    status = -1; // a trap (it reads only within its memory, so this would be a bug, but never a crash)
  }
  if (status !== 0) {
    throw new FormatError(where.file, where.at, `RICE_1 tile is corrupt: its ${input.length} bytes end before its ${out.length} pixels`);
  }
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(mem.subarray(0, out.byteLength));
}
