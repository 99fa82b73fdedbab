/** Binary-table column formats, TFORMn (FITS Standard 4.0 §7.3.1, Table 18). */
import type { NumericDType } from "../../dtype.ts";

export interface Tform {
  repeat: number;
  code: string;
  /** How an element is stored (X bits are read as bools, P/Q descriptors as integer pairs). */
  dtype: NumericDType | "char" | "bool";
  /** Bytes of one element (a complex C/M value counts as two). */
  itemSize: number;
  /** Bytes the column takes in a row. */
  width: number;
  /** P/Q columns: the type of the array elements in the heap, and the most elements a row holds when TFORM says (`PJ(120)`). */
  element?: Tform;
  max?: number;
}

const CODES: Record<string, [NumericDType | "char" | "bool", number]> = {
  L: ["bool", 1], X: ["bool", 0], B: ["uint8", 1], I: ["int16", 2], J: ["int32", 4], K: ["int64", 8],
  A: ["char", 1], E: ["float32", 4], D: ["float64", 8], C: ["float32", 4], M: ["float64", 8], P: ["int32", 4], Q: ["int64", 8],
};

/** Parses "rTa" (repeat, type code, extra such as P's "J(max)"); undefined when malformed. */
export function parseTform(tform: string): Tform | undefined {
  const m = /^(\d*)([LXBIJKAEDCMPQ])(?:([LXBIJKAEDCM])(?:\((\d+)\))?)?/.exec(tform.trim());
  if (!m) return undefined;
  const repeat = m[1] === "" ? 1 : Number(m[1]);
  const code = m[2];
  const [dtype, itemSize] = CODES[code];
  const pair = code === "C" || code === "M" || code === "P" || code === "Q" ? 2 : 1;
  const width = code === "X" ? Math.ceil(repeat / 8) : code === "P" || code === "Q" ? 2 * itemSize : repeat * pair * itemSize;
  const out: Tform = { repeat, code, dtype, itemSize, width };
  if ((code === "P" || code === "Q") && m[3]) {
    out.element = parseTform(m[3]);
    if (m[4] !== undefined) out.max = Number(m[4]);
  }
  return out;
}
