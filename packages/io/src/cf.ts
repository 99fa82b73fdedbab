/**
 * CF decoding of raw values (CF §2.5.1, §8.1; NUG attribute conventions):
 *
 * 1. `_Unsigned = "true"` reinterprets signed integers as unsigned (and "false" the reverse).
 * 2. Missing values are found on the raw, still packed values: every `missing_value`,
 *    the `_FillValue` (or, without one, the netCDF default fill of the type, every
 *    type including bytes, unless `_Unsigned` reinterprets them), and
 *    anything outside `valid_range` (or `valid_min`/`valid_max`). As in netCDF4-python,
 *    an attribute whose value the variable's type cannot represent exactly is ignored.
 * 3. `scale_factor`/`add_offset` unpack into the type of `scale_factor` (else of
 *    `add_offset`) when that is float32 and the packed values are bytes, shorts or
 *    float32; otherwise into float64 (int and int64 would lose digits in float32,
 *    and a non-float scale is non-conforming). float32 output is computed as
 *    numpy computes arrays: in float32, with both attributes rounded to it.
 * 4. Masked values become NaN in float output; integer output keeps its values and
 *    carries a mask instead.
 * 5. Char arrays become strings along their last dimension (`_Encoding`, default UTF-8),
 *    trailing NULs removed.
 */
import type { Attribute } from "./attribute.ts";
import { replace32, replace64 } from "./kernels/simd.ts";
import { allocate, isBig, isFloat, UNSIGNED, viewAs, type ArrayData, type DType, type NumericArray, type NumericDType } from "./dtype.ts";

/** netCDF's default fill values (netcdf.h NC_FILL_*). */
export const DEFAULT_FILL: Record<NumericDType, number | bigint> = {
  int8: -127, uint8: 255, int16: -32767, uint16: 65535, int32: -2147483647, uint32: 4294967295,
  int64: -9223372036854775806n, uint64: 18446744073709551614n,
  float32: Math.fround(9.969209968386869e36), float64: 9.969209968386869e36,
};

export interface Decoded {
  data: ArrayData;
  dtype: DType;
  shape: number[];
  mask?: Uint8Array;
}

const find = (attrs: readonly Attribute[], name: string) => attrs.find((a) => a.name === name);

function numbers(a: Attribute | undefined): (number | bigint)[] {
  if (!a || typeof a.value === "string") return [];
  return Array.from(a.value as ArrayLike<number | bigint>);
}

/** The type values have after `_Unsigned = "true"` (before unpacking). */
function storageType(dtype: NumericDType, attrs: readonly Attribute[]): NumericDType {
  const u = find(attrs, "_Unsigned")?.value;
  return typeof u === "string" && u.toLowerCase() === "true" ? UNSIGNED[dtype] ?? dtype : dtype;
}

const NARROW = new Set<DType>(["int8", "uint8", "int16", "uint16", "float32"]);

/** The float type that unpacking `store` values produces, or undefined when the variable is not packed. */
function packedType(store: NumericDType, attrs: readonly Attribute[]): "float32" | "float64" | undefined {
  const scale = find(attrs, "scale_factor") ?? find(attrs, "add_offset");
  if (!scale || typeof scale.value === "string" || scale.value.length === 0) return undefined;
  return scale.dtype === "float32" && NARROW.has(store) ? "float32" : "float64";
}

/** The dtype `decode` returns for a variable of on-disk type `dtype`. */
export function decodedDtype(dtype: NumericDType | "char" | "string" | "bool", attrs: readonly Attribute[]): DType {
  if (dtype === "char" || dtype === "string") return "string";
  if (dtype === "bool") return "bool";
  const store = storageType(dtype, attrs);
  return packedType(store, attrs) ?? store;
}

/** `value` in type `dtype` (as numpy's `np.array(value, dtype)`), or undefined when it does not fit exactly. */
function castExact(value: number | bigint, dtype: NumericDType): number | bigint | undefined {
  const box = allocate(dtype, 1);
  try {
    (box as any)[0] = isBig(dtype) ? BigInt(typeof value === "number" && !Number.isInteger(value) ? NaN : value) : Number(value);
  } catch {
    return undefined; // e.g. BigInt(1.5) or BigInt(NaN)
  }
  const back = box[0];
  const same = typeof back === "bigint" ? back === BigInt(value) : back === Number(value) || (Number.isNaN(back) && Number.isNaN(Number(value)));
  return same ? back : undefined;
}

/** Reinterprets a value's bits from one type to another of the same width. */
function reinterpret(value: number | bigint, from: NumericDType, to: NumericDType): number | bigint {
  if (from === to) return value;
  const box = allocate(from, 1);
  (box as any)[0] = value;
  return viewAs(to, new Uint8Array(box.buffer))[0];
}

interface MissingRule {
  values: (number | bigint)[];
  nan: boolean;
  min?: number | bigint;
  max?: number | bigint;
}

/** What counts as missing, in the storage type. */
function missingRule(raw: NumericDType, store: NumericDType, attrs: readonly Attribute[], defaultFill: boolean): MissingRule {
  const rule: MissingRule = { values: [], nan: false };
  const add = (v: number | bigint | undefined) => {
    if (v === undefined) return;
    const s = reinterpret(v, raw, store);
    if (typeof s === "number" && Number.isNaN(s)) rule.nan = true;
    else rule.values.push(s);
  };
  const cast = (v: number | bigint) => castExact(v, raw);
  // An attribute counts only when all its values are representable, as netCDF4-python's _check_safecast.
  const exact = (a: Attribute | undefined) => {
    const vs = numbers(a).map(cast);
    return vs.every((v) => v !== undefined) ? (vs as (number | bigint)[]) : [];
  };
  exact(find(attrs, "missing_value")).forEach(add);
  // Without a usable _FillValue, the type's default fill applies; but not to
  // reinterpreted (_Unsigned) data, where its bit pattern is an ordinary value
  // (129 in unsigned flags). netCDF4-python agrees on both.
  const fill = exact(find(attrs, "_FillValue"))[0];
  if (fill !== undefined) add(fill);
  else if (defaultFill && store === raw) add(DEFAULT_FILL[raw]);
  const range = exact(find(attrs, "valid_range"));
  let min: number | bigint | undefined, max: number | bigint | undefined;
  if (range.length === 2) [min, max] = range;
  else {
    min = exact(find(attrs, "valid_min"))[0];
    max = exact(find(attrs, "valid_max"))[0];
  }
  if (min !== undefined) rule.min = reinterpret(min, raw, store);
  if (max !== undefined) rule.max = reinterpret(max, raw, store);
  rule.values = [...new Set(rule.values)];
  return rule;
}

/**
 * Sets missing floats to NaN in place. The common case, a few fill values and no
 * valid range, replaces bit patterns (with SIMD when the array lives in wasm
 * memory); zero is left to the float comparison, which also matches -0.
 */
function maskFloats(data: Float32Array | Float64Array, rule: MissingRule) {
  const { values, min, max } = rule;
  if (min === undefined && max === undefined && values.length && !values.includes(0)) {
    if (data instanceof Float32Array) {
      const words = new Int32Array(data.buffer, data.byteOffset, data.length);
      for (const v of values) replace32(words, new Int32Array(Float32Array.of(Number(v)).buffer)[0], 0x7fc00000);
    } else {
      const words = new BigInt64Array(data.buffer, data.byteOffset, data.length);
      for (const v of values) replace64(words, new BigInt64Array(Float64Array.of(Number(v)).buffer)[0], 0x7ff8000000000000n);
    }
    return;
  }
  const mask = findMissing(data, rule);
  if (mask) for (let i = 0; i < data.length; i++) if (mask[i]) data[i] = NaN;
}

/** Marks missing values; returns undefined when none is missing. */
function findMissing(data: NumericArray, rule: MissingRule): Uint8Array | undefined {
  const n = data.length;
  let mask: Uint8Array | undefined;
  const mark = (i: number) => ((mask ??= new Uint8Array(n))[i] = 1);
  const { values, nan, min, max } = rule;
  if (values.length === 1 && !nan && min === undefined && max === undefined) {
    const f = values[0];
    const d = data as ArrayLike<number | bigint>;
    for (let i = 0; i < n; i++) if (d[i] === f) mark(i);
    return mask;
  }
  const d = data as ArrayLike<any>;
  for (let i = 0; i < n; i++) {
    const x = d[i];
    if ((nan && x !== x) || (min !== undefined && x < min) || (max !== undefined && x > max) || values.includes(x)) mark(i);
  }
  return mask;
}

/**
 * Decodes raw values of a variable with on-disk type `dtype`, attributes `attrs`
 * and `shape`. `defaultFill: false` leaves netCDF's default fill values alone
 * (they mean nothing in files that are not netCDF).
 */
export function decode(raw: NumericArray, dtype: NumericDType | "char" | "bool", attrs: readonly Attribute[], shape: number[], { defaultFill = true } = {}): Decoded {
  if (dtype === "char") return decodeChars(raw as Uint8Array, shape, attrs);
  if (dtype === "bool") return { data: raw, dtype, shape };
  const store = storageType(dtype, attrs);
  const data = store === dtype ? raw : viewAs(store, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  const rule = missingRule(dtype, store, attrs, defaultFill);
  const packed = packedType(store, attrs);
  if (!packed && isFloat(store)) {
    maskFloats(data as Float32Array | Float64Array, rule);
    return { data, dtype: store, shape };
  }
  const mask = findMissing(data, rule);
  if (packed) return { data: unpack(data, mask, packed, attrs), dtype: packed, shape };
  return mask ? { data, dtype: store, shape, mask } : { data, dtype: store, shape };
}

function unpack(data: NumericArray, mask: Uint8Array | undefined, to: "float32" | "float64", attrs: readonly Attribute[]): Float32Array | Float64Array {
  const first = (name: string, dflt: number) => {
    const v = numbers(find(attrs, name))[0];
    return v === undefined ? dflt : Number(v);
  };
  return unpackLinear(data, first("scale_factor", 1), first("add_offset", 0), to, mask);
}

/**
 * raw × scale + offset, as numpy computes it on arrays: in float32 with both
 * operands rounded to float32 and rounding after the product and after the sum,
 * or in float64. Masked values become NaN. Shared by CF packing and FITS scaling.
 */
export function unpackLinear(data: NumericArray, scale: number, offset: number, to: "float32" | "float64", mask?: Uint8Array): Float32Array | Float64Array {
  const n = data.length;
  const d = data as ArrayLike<number | bigint>;
  if (to === "float32") {
    const [s, o] = [Math.fround(scale), Math.fround(offset)];
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mask?.[i] ? NaN : Math.fround(Number(d[i]) * s) + o;
    return out;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mask?.[i] ? NaN : Number(d[i]) * scale + offset;
  return out;
}

function decodeChars(bytes: Uint8Array, shape: number[], attrs: readonly Attribute[]): Decoded {
  const enc = find(attrs, "_Encoding")?.value;
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(typeof enc === "string" ? enc : "utf-8");
  } catch {
    decoder = new TextDecoder("utf-8");
  }
  const width = shape.length ? shape[shape.length - 1] : 1;
  const count = width === 0 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : bytes.length / width;
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    let end = (i + 1) * width;
    while (end > i * width && bytes[end - 1] === 0) end--;
    out[i] = decoder.decode(bytes.subarray(i * width, end));
  }
  return { data: out, dtype: "string", shape: shape.slice(0, -1) };
}
