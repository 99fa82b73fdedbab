/** Text forms of values for people and for JSON. */
import type { AttrValue, DType, NDArray } from "@meridian/io";

/** Shortest decimal that reads back as the same float32 (as numpy and ncdump print them). */
export function float32String(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  for (let p = 1; p <= 9; p++) {
    const n = Number(x.toPrecision(p));
    if (Math.fround(n) === x) return Object.is(n, -0) ? "-0" : Math.abs(n) >= 1e16 ? n.toExponential() : String(n);
  }
  return String(x);
}

/** JSON.stringify, except that -0 stays -0 (an attribute may hold it). */
export function stringify(value: unknown, indent = 2): string {
  const marker = "\u0000-0\u0000";
  const text = JSON.stringify(value, (_, v) => (Object.is(v, -0) ? marker : v), indent);
  return text.replaceAll(JSON.stringify(marker), "-0");
}

/**
 * A value as a JSON token: NaN and masked values are null, infinities ±1e999
 * (valid JSON that JavaScript and Python parse back to ±Infinity), 64-bit
 * integers keep every digit.
 */
export function jsonValue(v: number | bigint | string | undefined, dtype: DType): string {
  if (v === undefined) return "null";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return JSON.stringify(v);
  if (Number.isNaN(v)) return "null";
  if (!Number.isFinite(v)) return v > 0 ? "1e999" : "-1e999";
  if (Object.is(v, -0)) return "-0";
  return dtype === "float32" ? float32String(v) : String(v);
}

/** The data of an array as JSON tokens, in pieces, so big arrays never become one huge string. */
export function* jsonData(a: NDArray, piece = 65536): Generator<string> {
  const n = a.data.length;
  for (let i = 0; i < n; i += piece) {
    const parts: string[] = [];
    for (let j = i; j < Math.min(n, i + piece); j++) parts.push(jsonValue(a.mask?.[j] ? undefined : a.data[j], a.dtype));
    yield (i > 0 ? "," : "") + parts.join(",");
  }
}

/** An attribute as a plain JSON value (64-bit integers beyond 2^53 as strings). */
export function attrJson(v: AttrValue): unknown {
  const one = (x: number | bigint | boolean) =>
    typeof x === "bigint" ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString())
    : typeof x === "boolean" || Number.isFinite(x) ? x : String(x);
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return (v as (number | bigint | boolean)[]).map(one);
  return one(v);
}

/** An attribute as ncdump shows it. */
export function attrText(v: AttrValue, dtype: DType): string {
  if (typeof v === "string") return JSON.stringify(v);
  const list = Array.isArray(v) ? (v as (number | bigint | boolean)[]) : [v];
  return list.map((x) => (typeof x === "number" && dtype === "float32" ? float32String(x) : String(x))).join(", ");
}
