/** A NetCDF classic variable's layout: whole records lie between its records. */
import { itemSize, viewAs, type NumericArray } from "../../dtype.ts";
import { swapToNative } from "../../kernels/simd.ts";
import type { Hyperslab } from "../../selection.ts";
import type { ByteSource } from "../../source.ts";
import { contiguousStrides, readStrided } from "../../strided.ts";
import type { Nc3Header, Nc3Var } from "./header.ts";

export async function readSlab(source: ByteSource, header: Nc3Header, v: Nc3Var, slab: Hyperslab, into?: Uint8Array): Promise<NumericArray> {
  const size = itemSize(v.dtype);
  const strides = contiguousStrides(v.shape, size);
  if (v.isRecord) strides[0] = header.recSize;
  const out = await readStrided(source, { what: `variable ${v.name}`, begin: v.begin, shape: v.shape, strides, itemSize: size }, slab, into);
  swapToNative(out, size);
  return viewAs(v.dtype, out);
}
