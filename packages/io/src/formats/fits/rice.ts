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

/** Decodes `n` pixels of `bytepix` bytes each into `out` (whose type wraps them: Uint8, Int16 or Int32). */
export function riceDecode(bytes: Uint8Array, out: Uint8Array | Int16Array | Int32Array, blocksize: number, bytepix: number, where: { file: string; at: number }) {
  const n = out.length;
  const fsBits = FS_BITS[bytepix], fsMax = FS_MAX[bytepix], bbits = 8 * bytepix;
  if (!fsBits) throw new FormatError(where.file, where.at, `RICE_1 BYTEPIX must be 1, 2 or 4, found ${bytepix}`);
  const len = bytes.length;
  const fail = (): never => { throw new FormatError(where.file, where.at, `RICE_1 tile is corrupt: its ${len} bytes end before its ${n} pixels`); };
  // The unread bits: the low `left` bits of `buf`, at most 31 of them, so integer operations are exact.
  let pos = 0, buf = 0, left = 0;
  const small = (k: number): number => { // k <= 24
    while (left < k) {
      if (pos >= len) fail();
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
      const top = 2 ** fs;
      for (let j = i; j < end; j++) {
        // the unary high part: zero bits up to the next one bit
        let high = 0;
        while (buf === 0) {
          high += left;
          if (pos >= len) fail();
          buf = bytes[pos++];
          left = 8;
        }
        const lead = Math.clz32(buf) - (32 - left);
        high += lead;
        left -= lead + 1;
        buf &= (1 << left) - 1;
        // then fs low bits
        while (left < fs) {
          if (pos >= len) fail();
          buf = (buf << 8) | bytes[pos++];
          left += 8;
        }
        left -= fs;
        const diff = high * top + (buf >>> left);
        buf &= (1 << left) - 1;
        last = (last + ((diff >>> 1) ^ -(diff & 1))) | 0; // zigzag
        out[j] = last;
      }
    }
  }
}
