/**
 * FITS scaling (Standard 4.0 §4.4.2.5, §7.3.2): physical = BZERO + BSCALE × stored,
 * with BLANK (TNULL in tables) marking undefined integers. Integer data offset by
 * 2^(bits-1) with a scale of 1 are unsigned integers (int8 for bytes offset by
 * -128); they are decoded by flipping the sign bit, exactly. Other scaled data
 * become float32 (from 8- or 16-bit integers or float32) or float64, computed as
 * astropy does; BLANK becomes NaN there, and a mask in integer output.
 */
import type { Decoding } from "../../backend.ts";
import { unpackLinear, type Decoded } from "../../cf.ts";
import { viewAs, type NumericArray, type NumericDType } from "../../dtype.ts";

const OFFSET_TYPE: Partial<Record<NumericDType, [number, NumericDType]>> = {
  uint8: [-128, "int8"], int16: [32768, "uint16"], int32: [2147483648, "uint32"], int64: [2 ** 63, "uint64"],
};

export interface Scaling { scale: number; zero: number; blank?: number | bigint }

/** How values of on-disk type `raw` with this scaling decode. */
export function scalingDecoding(raw: NumericDType, { scale, zero, blank }: Scaling, floatType?: "float32" | "float64"): Decoding {
  const offset = OFFSET_TYPE[raw];
  const isBlank = (x: number | bigint) => blank !== undefined && (typeof x === "bigint" ? x === BigInt(blank) : x === Number(blank));
  if (offset && scale === 1 && zero === offset[0]) {
    const to = offset[1];
    return {
      dtype: to,
      decode(data, shape) {
        const mask = blankMask(data, isBlank, blank);
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        const width = data.BYTES_PER_ELEMENT;
        for (let i = width - 1; i < bytes.length; i += width) bytes[i] ^= 0x80; // the sign bit of each little-endian item
        return withMask({ data: viewAs(to, bytes), dtype: to, shape }, mask);
      },
    };
  }
  if (scale !== 1 || zero !== 0) {
    const to = floatType ?? (raw === "uint8" || raw === "int16" || raw === "float32" ? "float32" : "float64");
    return { dtype: to, decode: (data, shape) => ({ data: unpackLinear(data, scale, zero, to, blankMask(data, isBlank, blank)), dtype: to, shape }) };
  }
  return { dtype: raw, decode: (data, shape) => withMask({ data, dtype: raw, shape }, blankMask(data, isBlank, blank)) };
}

function blankMask(data: NumericArray, isBlank: (x: number | bigint) => boolean, blank: unknown): Uint8Array | undefined {
  if (blank === undefined || data instanceof Float32Array || data instanceof Float64Array) return undefined;
  let mask: Uint8Array | undefined;
  const d = data as ArrayLike<number | bigint>;
  for (let i = 0; i < d.length; i++) if (isBlank(d[i])) (mask ??= new Uint8Array(d.length))[i] = 1;
  return mask;
}

const withMask = (d: Decoded, mask: Uint8Array | undefined): Decoded => (mask ? { ...d, mask } : d);
