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
  let pos = 0, buf = 0, left = 0;
  const fail = (): never => { throw new FormatError(where.file, where.at, `RICE_1 tile is corrupt: its ${bytes.length} bytes end before its ${n} pixels`); };
  const bit = () => {
    if (left === 0) {
      if (pos >= bytes.length) fail();
      buf = bytes[pos++];
      left = 8;
    }
    return (buf >> --left) & 1;
  };
  const bits = (k: number) => {
    let v = 0;
    for (let i = 0; i < k; i++) v = v * 2 + bit();
    return v;
  };
  if (n === 0) return;
  let last = bits(bbits);
  for (let i = 0; i < n; i += blocksize) {
    const end = Math.min(i + blocksize, n);
    const fs = bits(fsBits) - 1;
    for (let j = i; j < end; j++) {
      let diff: number;
      if (fs < 0) diff = 0;
      else if (fs === fsMax) diff = bits(bbits);
      else {
        let high = 0;
        while (bit() === 0) high++;
        diff = high * 2 ** fs + bits(fs);
      }
      const delta = diff % 2 === 0 ? diff / 2 : -(diff + 1) / 2; // zigzag
      last = (last + delta) % 2 ** bbits;
      out[j] = last; // the typed array wraps to its own width and sign
    }
  }
}
