import type { DType, NumericArray } from "./dtype.ts";
import type { AttrValue, Attrs } from "./ndarray.ts";

/** An attribute with the type it has in the file (CF decoding needs the type of `scale_factor`). */
export interface Attribute {
  name: string;
  dtype: DType;
  value: string | NumericArray;
}

/** The user-facing value: a string, a scalar for one number, else a list. */
export function attrValue(a: Attribute): AttrValue {
  if (typeof a.value === "string") return a.value;
  if (a.dtype === "bool") return a.value.length === 1 ? a.value[0] === 1 : Array.from(a.value as Uint8Array, (x) => x === 1);
  const list = Array.from(a.value as ArrayLike<number | bigint>);
  return list.length === 1 ? list[0] : (list as number[] | bigint[]);
}

export function toAttrs(list: readonly Attribute[]): Attrs {
  const out: Attrs = {};
  for (const a of list) out[a.name] = attrValue(a);
  return out;
}
