import { describe, expect, it } from "vitest";
import { rng } from "../testing.ts";
import { allocateBytes, replace32, replace64, swapToNative, WASM_MIN_BYTES } from "./simd.ts";

/** Plain JavaScript references for the kernels. */
function swapReference(bytes: Uint8Array, size: number) {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i += size) out.subarray(i, i + size).reverse();
  return out;
}

describe("SIMD kernels", () => {
  const random = rng(7);
  // Sizes around the vector width and the wasm threshold, so tails and both paths are exercised.
  const sizes = [8, 24, 40, WASM_MIN_BYTES - 8, WASM_MIN_BYTES, WASM_MIN_BYTES + 24];

  it("big arrays live in wasm memory, small ones in plain buffers", () => {
    expect(allocateBytes(WASM_MIN_BYTES).buffer.byteLength).toBeGreaterThanOrEqual(WASM_MIN_BYTES);
    expect(allocateBytes(WASM_MIN_BYTES + 1).buffer.byteLength % 65536).toBe(0);
    expect(allocateBytes(100).buffer.byteLength).toBe(100);
  });

  it.each([2, 4, 8])("swap%i gives what a byte-by-byte reversal gives", (size) => {
    for (const n of sizes) {
      const bytes = allocateBytes(n);
      for (let i = 0; i < n; i++) bytes[i] = Math.floor(random() * 256);
      const want = swapReference(bytes, size);
      swapToNative(bytes, size);
      expect(Buffer.compare(bytes, want), `${n} bytes`).toBe(0);
    }
  });

  it("replace32 and replace64 change exactly the matching words", () => {
    for (const n of sizes) {
      const words = new Int32Array(allocateBytes(n).buffer, 0, n / 4);
      for (let i = 0; i < words.length; i++) words[i] = random() < 0.3 ? 1234567 : Math.floor(random() * 1e9);
      const want = Int32Array.from(words, (w) => (w === 1234567 ? -1 : w));
      replace32(words, 1234567, -1);
      expect(words).toEqual(want);
      const longs = new BigInt64Array(allocateBytes(n).buffer, 0, n / 8);
      for (let i = 0; i < longs.length; i++) longs[i] = random() < 0.3 ? 99n : BigInt(Math.floor(random() * 1e9));
      const want64 = BigInt64Array.from(longs, (w) => (w === 99n ? -5n : w));
      replace64(longs, 99n, -5n);
      expect(longs).toEqual(want64);
    }
  });
});
