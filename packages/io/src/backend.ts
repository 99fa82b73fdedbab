import type { Attribute } from "./attribute.ts";
import type { Decoded } from "./cf.ts";
import type { DType, NumericArray, NumericDType } from "./dtype.ts";
import type { Hyperslab } from "./selection.ts";
import type { ByteSource } from "./source.ts";

export type Format = "netcdf3" | "netcdf4" | "hdf5" | "fits";

export interface VariableInfo {
  name: string;
  dims: string[];
  shape: number[];
  /** On-disk type: numeric, `char` (text bytes), `bool` or `string`. */
  dtype: NumericDType | "char" | "string" | "bool";
  attributes: Attribute[];
  /** The format's own decoding (FITS scaling is not CF's); without it, CF decoding applies. */
  decoding?: Decoding;
}

export interface Decoding {
  dtype: DType;
  decode(raw: NumericArray, shape: number[]): Decoded;
}

/** Values and the positions that hold nothing (the padding of variable-length rows), 1 where absent. */
export interface PaddedValues {
  values: NumericArray;
  absent: Uint8Array;
}

/**
 * What a format reader provides: metadata, parsed once, and raw reads of
 * hyperslabs. Everything else (selections, CF decoding, blocks, refs) is shared.
 */
export interface Backend {
  format: Format;
  /** Finer format name, e.g. `cdf2` for a NetCDF 64-bit-offset file. */
  variant: string;
  source: ByteSource;
  dims: Record<string, number>;
  unlimited: string[];
  attributes: Attribute[];
  variables: VariableInfo[];
  /**
   * Raw values of a hyperslab, row-major over the slab's counts (dropped dims
   * included), in native byte order. With `into`, a reader may place them there
   * (when it is large enough) instead of allocating.
   */
  read(variable: VariableInfo, slab: Hyperslab, into?: Uint8Array): Promise<NumericArray | string[] | PaddedValues>;
  /** Datasets present in the file that cannot be read yet, with the reason. */
  unsupported?: Map<string, string>;
  /** Releases what the reader holds besides the source (h5wasm's file). */
  close?(): Promise<void>;
}
