import { SelectionError } from "./errors.ts";

/**
 * What to read of a variable, per dimension:
 * - a number picks one position and drops the dimension (as numpy and xarray do);
 * - `[start, stop, step?]` or `{start, stop, step}` picks a range (stop exclusive);
 *   missing or null parts mean "from the beginning", "to the end", "every element";
 * - null or undefined (or a missing key) takes the whole dimension.
 * Negative positions count from the end. A selection is keyed by dimension name,
 * or given as a list by position, or as a numpy-style string "0:12,:,5".
 */
export type Range =
  | [start?: number | null, stop?: number | null, step?: number | null]
  | { start?: number | null; stop?: number | null; step?: number | null };
export type DimSelection = number | Range | null | undefined;
export type Selection = Record<string, DimSelection> | DimSelection[] | string;

/** A resolved selection: start, count and step per dimension; `keep` is false for dropped dims. */
export interface Hyperslab {
  start: number[];
  count: number[];
  step: number[];
  keep: boolean[];
}

/** Parses "0:12,:,5" / "::2,-1" into per-position selections. */
export function parseSlice(text: string): DimSelection[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  return trimmed.split(",").map((part) => {
    const p = part.trim();
    const num = (s: string | undefined, what: string): number | null => {
      if (s === undefined || s.trim() === "") return null;
      if (!/^[+-]?\d+$/.test(s.trim())) throw new SelectionError(`bad ${what} "${s}" in slice "${text}": expected an integer`);
      return Number(s);
    };
    if (!p.includes(":")) {
      const n = num(p, "index");
      if (n === null) throw new SelectionError(`empty position in slice "${text}"`);
      return n;
    }
    const bits = p.split(":");
    if (bits.length > 3) throw new SelectionError(`bad range "${p}" in slice "${text}": expected start:stop:step`);
    return [num(bits[0], "start"), num(bits[1], "stop"), num(bits[2], "step")] as Range;
  });
}

/** Resolves a selection against a variable's dims and shape; `where` names the variable for errors. */
export function resolveSelection(sel: Selection | undefined, dims: readonly string[], shape: readonly number[], where: string): Hyperslab {
  const perDim: DimSelection[] = new Array(dims.length).fill(null);
  if (typeof sel === "string") sel = parseSlice(sel);
  if (Array.isArray(sel)) {
    if (sel.length > dims.length) throw new SelectionError(`${sel.length} positions given but the variable has ${dims.length} dims (${dims.join(", ") || "scalar"})`, where);
    sel.forEach((s, i) => (perDim[i] = s));
  } else if (sel) {
    for (const [name, s] of Object.entries(sel)) {
      const i = dims.indexOf(name);
      if (i < 0) throw new SelectionError(`no dimension "${name}"; the variable's dims are (${dims.join(", ")})`, where);
      perDim[i] = s;
    }
  }
  const slab: Hyperslab = { start: [], count: [], step: [], keep: [] };
  perDim.forEach((s, i) => {
    const n = shape[i];
    const name = dims[i];
    if (typeof s === "number") {
      if (!Number.isInteger(s)) throw new SelectionError(`position ${s} for ${name} is not an integer`, where);
      const p = s < 0 ? n + s : s;
      if (p < 0 || p >= n) throw new SelectionError(`position ${s} is out of range for ${name} of size ${n}`, where);
      slab.start.push(p); slab.count.push(1); slab.step.push(1); slab.keep.push(false);
      return;
    }
    let start: number | null | undefined, stop: number | null | undefined, step: number | null | undefined;
    if (s == null) [start, stop, step] = [null, null, null];
    else if (Array.isArray(s)) [start, stop, step] = s;
    else if (typeof s === "object") ({ start, stop, step } = s);
    else throw new SelectionError(`bad selection ${JSON.stringify(s)} for ${name}`, where);
    for (const [label, v] of [["start", start], ["stop", stop], ["step", step]] as const) {
      if (v != null && !Number.isInteger(v)) throw new SelectionError(`${label} ${v} for ${name} is not an integer`, where);
    }
    const st = step ?? 1;
    if (st <= 0) throw new SelectionError(`step ${st} for ${name} must be positive`, where);
    const a = start == null ? 0 : start < 0 ? n + start : start;
    const b = stop == null ? n : stop < 0 ? n + stop : stop;
    if (a < 0 || a > n) throw new SelectionError(`start ${start} is out of range for ${name} of size ${n}`, where);
    if (b < 0 || b > n) throw new SelectionError(`stop ${stop} is out of range for ${name} of size ${n}`, where);
    const count = b > a ? Math.ceil((b - a) / st) : 0;
    slab.start.push(count ? a : 0); slab.count.push(count); slab.step.push(st); slab.keep.push(true);
  });
  return slab;
}
