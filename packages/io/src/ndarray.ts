import type { ArrayData, DType } from "./dtype.ts";

/** An attribute value as users see it: text, one number, or a list of numbers. */
export type AttrValue = string | number | bigint | boolean | number[] | bigint[] | boolean[];
export type Attrs = Record<string, AttrValue>;

/**
 * An n-dimensional array in row-major (C) order.
 *
 * Masked values are NaN in float data. Integer data cannot hold NaN, so there a
 * `mask` (1 = missing) comes along whenever any value is missing, as numpy's
 * masked arrays do.
 */
export interface NDArray<D extends ArrayData = ArrayData> {
  data: D;
  shape: number[];
  dims: string[];
  dtype: DType;
  attrs: Attrs;
  mask?: Uint8Array;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major strides, in elements. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** The element at a multi-index (or undefined when masked), for tests and the REPL. */
export function at(a: NDArray, index: readonly number[]): number | bigint | string | undefined {
  if (index.length !== a.shape.length) throw new RangeError(`index has ${index.length} positions, array has ${a.shape.length} dims`);
  const st = strides(a.shape);
  let flat = 0;
  index.forEach((i, d) => {
    if (i < 0 || i >= a.shape[d]) throw new RangeError(`index ${i} out of range for dim ${a.dims[d] ?? d} of size ${a.shape[d]}`);
    flat += i * st[d];
  });
  if (a.mask?.[flat]) return undefined;
  return a.data[flat];
}
