/** Data types, named as numpy names them, and the typed arrays that hold them. */

export type NumericDType =
  | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32"
  | "int64" | "uint64" | "float32" | "float64";
/** `char` is a raw byte of text; `string` is decoded text (one JS string per element); `bool` is one byte, 0 or 1. */
export type DType = NumericDType | "char" | "string" | "bool";

export type NumericArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array | Float32Array | Float64Array;
export type ArrayData = NumericArray | string[];

type TypedArrayConstructor = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): NumericArray; new (length: number): NumericArray; BYTES_PER_ELEMENT: number };

const CONSTRUCTORS: Record<NumericDType | "char" | "bool", TypedArrayConstructor> = {
  int8: Int8Array, uint8: Uint8Array, char: Uint8Array, bool: Uint8Array,
  int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array,
  float32: Float32Array, float64: Float64Array,
};

export function itemSize(dtype: NumericDType | "char" | "bool"): number {
  return CONSTRUCTORS[dtype].BYTES_PER_ELEMENT;
}

/** A zero-copy typed-array view of `bytes` (which must be aligned for the type). */
export function viewAs(dtype: NumericDType | "char" | "bool", bytes: Uint8Array): NumericArray {
  const C = CONSTRUCTORS[dtype];
  return new C(bytes.buffer, bytes.byteOffset, bytes.byteLength / C.BYTES_PER_ELEMENT);
}

export function allocate(dtype: NumericDType | "char" | "bool", length: number): NumericArray {
  return new CONSTRUCTORS[dtype](length);
}

export const isFloat = (d: DType): d is "float32" | "float64" => d === "float32" || d === "float64";
export const isBig = (d: DType): d is "int64" | "uint64" => d === "int64" || d === "uint64";

/** The unsigned type of the same width (for CF `_Unsigned = "true"`). */
export const UNSIGNED: Partial<Record<DType, NumericDType>> = { int8: "uint8", int16: "uint16", int32: "uint32", int64: "uint64" };

/** numpy's array-interface type string, e.g. `<f4`, for .npy headers. */
export function numpyDescr(dtype: DType): string {
  if (dtype === "char") return "|S1";
  if (dtype === "bool") return "|b1";
  if (dtype === "string") throw new TypeError("strings have no fixed-width numpy descr");
  const kind = dtype.startsWith("float") ? "f" : dtype.startsWith("u") ? "u" : "i";
  const size = itemSize(dtype);
  return `${size === 1 ? "|" : "<"}${kind}${size}`;
}
