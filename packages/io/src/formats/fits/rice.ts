/**
 * Rice decompression of FITS tiles (RICE_1 in the tiled-image convention,
 * Pence et al.; White & Becker's algorithm). The first pixel is stored whole;
 * then blocks of `blocksize` differences, each block led by a code that says
 * how many low bits each difference keeps: none (all zero), all (stored raw),
 * or fs bits after a unary-coded high part. Differences are zigzag mapped.
 */
import { FormatError } from "../../errors.ts";

const FS_BITS: Record<number, number> = { 1: 3, 2: 4, 4: 5 };
const FS_MAX: Record<number, number> = { 1: 6, 2: 14, 4: 25 };

/** Tile bytes plus zero padding, so the decoder may read a few bytes ahead without checks. */
let scratch = new Uint8Array(0);
const PAD = 16;

/** Decodes `n` pixels of `bytepix` bytes each into `out` (whose type wraps them: Uint8, Int16 or Int32). */
export function riceDecode(input: Uint8Array, out: Uint8Array | Int16Array | Int32Array, blocksize: number, bytepix: number, where: { file: string; at: number }) {
  const n = out.length;
  const fsBits = FS_BITS[bytepix], fsMax = FS_MAX[bytepix], bbits = 8 * bytepix;
  if (!fsBits) throw new FormatError(where.file, where.at, `RICE_1 BYTEPIX must be 1, 2 or 4, found ${bytepix}`);
  const len = input.length;
  if (scratch.length < len + PAD) scratch = new Uint8Array(Math.max(len + PAD, 2 * scratch.length));
  const bytes = scratch;
  bytes.set(input);
  bytes.fill(0, len, len + PAD);
  const fail = (): never => { throw new FormatError(where.file, where.at, `RICE_1 tile is corrupt: its ${len} bytes end before its ${n} pixels`); };
  // The unread bits: the low `left` bits of `buf`, at most 31 of them, so integer operations are exact.
  let pos = 0, buf = 0, left = 0;
  const small = (k: number): number => { // k <= 24
    while (left < k) {
      if (pos >= len + PAD) fail();
      buf = (buf << 8) | bytes[pos++];
      left += 8;
    }
    left -= k;
    const v = buf >>> left;
    buf &= (1 << left) - 1;
    return v;
  };
  const bits = (k: number): number => (k <= 24 ? small(k) : small(k - 16) * 65536 + small(16));
  if (n === 0) return;
  // Sums wrap at 2^32 in int32 arithmetic; the typed array keeps the low bits of its own width.
  let last = bits(bbits) | 0;
  for (let i = 0; i < n; i += blocksize) {
    const end = Math.min(i + blocksize, n);
    const fs = small(fsBits) - 1;
    if (fs < 0) {
      for (let j = i; j < end; j++) out[j] = last;
    } else if (fs === fsMax) {
      for (let j = i; j < end; j++) {
        const diff = bits(bbits);
        last = (last + ((diff >>> 1) ^ -(diff & 1))) | 0; // zigzag
        out[j] = last;
      }
    } else {
      const top = 2 ** fs, low = top - 1;
      for (let j = i; j < end; j++) {
        // At least 24 bits at hand (reading into the padding at the end): most
        // differences fit, their unary high part (zeros up to a one) and fs low bits.
        while (left < 24) {
          buf = (buf << 8) | bytes[pos++];
          left += 8;
        }
        let high = Math.clz32(buf) - (32 - left);
        let diff: number;
        if (buf !== 0 && high + 1 + fs <= left) {
          left -= high + 1 + fs;
          diff = high * top + ((buf >>> left) & low);
          buf &= (1 << left) - 1;
        } else {
          // A long high part: zero bytes up to the one bit, then the low bits.
          high = 0;
          while (buf === 0) {
            high += left;
            if (pos >= len + PAD) fail();
            buf = bytes[pos++];
            left = 8;
          }
          const lead = Math.clz32(buf) - (32 - left);
          high += lead;
          left -= lead + 1;
          buf &= (1 << left) - 1;
          diff = high * top + small(fs);
        }
        last = (last + ((diff >>> 1) ^ -(diff & 1))) | 0; // zigzag
        out[j] = last;
      }
    }
    if (pos * 8 - left > len * 8) fail(); // read past the tile's bytes
  }
}
