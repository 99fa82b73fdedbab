/**
 * Big arrays live in WebAssembly memory, where the SIMD kernels of simd.wat
 * (byte swap, bit-pattern replace) work on them in place at memory speed; the
 * typed arrays handed to users are ordinary views of that memory. Small arrays,
 * and any memory the kernels cannot reach, take the plain JavaScript path.
 */
import { SIMD_WASM } from "./simd-wasm.ts";

interface Kernels {
  swap16(ptr: number, bytes: number): void;
  swap32(ptr: number, bytes: number): void;
  swap64(ptr: number, bytes: number): void;
  replace32(ptr: number, bytes: number, from: number, to: number): void;
  replace64(ptr: number, bytes: number, from: bigint, to: bigint): void;
}

const module = new WebAssembly.Module(Buffer.from(SIMD_WASM, "base64"));
const PAGE = 65536;
const kernelsOf = new WeakMap<ArrayBufferLike, Kernels>();

/** Arrays at least this big are allocated in WebAssembly memory. */
export const WASM_MIN_BYTES = 1 << 20;
/** The kernels take lengths as signed 32-bit integers. */
const WASM_MAX_BYTES = 2 ** 31 - PAGE;

/**
 * A zeroed WebAssembly memory of at least `bytes` (fixed: it never grows, so
 * views of it stay valid), on which the kernels here work: other modules may
 * work on it too. Undefined when the engine has no room for another one.
 */
export function kernelMemory(bytes: number): WebAssembly.Memory | undefined {
  if (bytes > WASM_MAX_BYTES) return undefined;
  try {
    const pages = Math.max(1, Math.ceil(bytes / PAGE));
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    kernelsOf.set(memory.buffer, instance.exports as unknown as Kernels);
    return memory;
  } catch {
    return undefined;
  }
}

/** A zeroed, 8-byte-aligned byte array; big ones in WebAssembly memory (a plain array does the same job, slower). */
export function allocateBytes(bytes: number): Uint8Array {
  const memory = bytes >= WASM_MIN_BYTES ? kernelMemory(bytes) : undefined;
  return memory ? new Uint8Array(memory.buffer, 0, bytes) : new Uint8Array(new ArrayBuffer(bytes));
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Swaps big-endian items of `size` bytes to native order, in place (no-op on a big-endian host). */
export function swapToNative(bytes: Uint8Array, size: number) {
  if (!littleEndianHost || size === 1) return;
  const k = kernelsOf.get(bytes.buffer);
  let done = 0;
  if (k) {
    done = bytes.byteLength - (bytes.byteLength % 16);
    (size === 2 ? k.swap16 : size === 4 ? k.swap32 : k.swap64)(bytes.byteOffset, done);
  }
  const rest = Buffer.from(bytes.buffer, bytes.byteOffset + done, bytes.byteLength - done);
  if (size === 2) rest.swap16();
  else if (size === 4) rest.swap32();
  else rest.swap64();
}

/** Replaces every 32-bit word equal to `from` by `to`, in place. */
export function replace32(words: Int32Array, from: number, to: number) {
  const k = kernelsOf.get(words.buffer);
  let i = 0;
  if (k) {
    i = words.length - (words.length % 4);
    k.replace32(words.byteOffset, i * 4, from, to);
  }
  const n = words.length;
  for (; i + 4 <= n; i += 4) {
    if (words[i] === from) words[i] = to;
    if (words[i + 1] === from) words[i + 1] = to;
    if (words[i + 2] === from) words[i + 2] = to;
    if (words[i + 3] === from) words[i + 3] = to;
  }
  for (; i < n; i++) if (words[i] === from) words[i] = to;
}

/** Replaces every 64-bit word equal to `from` by `to`, in place. */
export function replace64(words: BigInt64Array, from: bigint, to: bigint) {
  const k = kernelsOf.get(words.buffer);
  let i = 0;
  if (k) {
    i = words.length - (words.length % 2);
    k.replace64(words.byteOffset, i * 8, from, to);
  }
  for (; i < words.length; i++) if (words[i] === from) words[i] = to;
}
