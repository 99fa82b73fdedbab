/**
 * Comparing a dataset with a netCDF fixture written by datasets/fixtures/make-expected.py
 * (netCDF4-python over netCDF-C): metadata, whole small variables, random samples
 * and a strided slice, raw and decoded. Used for NetCDF classic and NetCDF-4 files.
 */
import { expect } from "vitest";
import type { Attribute } from "./attribute.ts";
import type { Dataset, Variable } from "./dataset.ts";
import type { NDArray } from "./ndarray.ts";
import { DELIBERATE } from "./testing.ts";

/** A value as the fixtures encode it: NaN/Infinity as strings, 64-bit integers as decimal strings. */
export function encode(x: unknown): unknown {
  if (typeof x === "bigint") return x.toString();
  if (typeof x === "number" && !Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
  if (Array.isArray(x)) return x.map(encode);
  return x;
}

/** Our array as the fixture's flat list: masked values are null (NaN in float output stands for masked or NaN). */
export function flat(a: NDArray, expected: unknown[]): unknown[] {
  return Array.from(a.data as ArrayLike<unknown>, (x, i) => {
    if (a.mask?.[i]) return null;
    if (typeof x === "number" && Number.isNaN(x) && (expected[i] === null || expected[i] === "NaN")) return expected[i];
    return encode(x);
  });
}

/**
 * netCDF4-python unpacks a single element with numpy's scalar rules (in float64)
 * but arrays in float32; meridian unpacks every read as arrays, so there the
 * samples are checked against netCDF4-python's whole-array values.
 */
const SCALAR_RULES = new Set(["netcdf/generated/cf-edges.nc:short_float_scale_double_offset"]);

function expectUnpacked(a: NDArray, raw: unknown[], expected: unknown[], attrs: Record<string, unknown>, where: string) {
  const scale = Number(attrs.scale_factor ?? 1), offset = Number(attrs.add_offset ?? 0);
  Array.from(a.data as Float64Array).forEach((x, i) => {
    if (expected[i] === null) expect(x, `${where}[${i}]`).toBeNaN();
    else expect(x, `${where}[${i}]`).toBeCloseTo(Number(raw[i]) * scale + offset, 6);
  });
}

const encodeAttrs = (attrs: object) => Object.fromEntries(Object.entries(attrs).map(([k, x]) => [k, encode(x)]));
const attrDtypes = (list: readonly Attribute[]) => Object.fromEntries(list.map((a) => [a.name, a.dtype]));

/** The dataset has the fixture's format, dims, attributes and variables. */
export function expectNetcdfMetadata(ds: Dataset, exp: any) {
  expect(ds.format).toBe(exp.format);
  expect(ds.variant).toBe(exp.variant);
  expect(ds.dims).toEqual(exp.dims);
  expect(Object.keys(ds.dims)).toEqual(Object.keys(exp.dims));
  expect(ds.unlimited).toEqual(exp.unlimited);
  expect(encodeAttrs(ds.attrs)).toEqual(exp.attrs);
  expect(attrDtypes(ds.attributes)).toEqual(exp.attr_dtypes);
  expect(Object.keys(ds.variables)).toEqual(Object.keys(exp.variables));
  for (const [name, ev] of Object.entries<any>(exp.variables)) {
    const v = ds.variable(name);
    const decoded = DELIBERATE[`${exp.file}:${name}`]?.dtype ?? ev.decoded_dtype;
    expect({ name, dims: v.dims, shape: v.shape, dtype: v.dtype, decoded: v.decodedDtype }).toEqual({ name, dims: ev.dims, shape: ev.shape, dtype: ev.dtype, decoded });
    expect(encodeAttrs(v.attrs)).toEqual(ev.attrs);
    expect(attrDtypes(v.attributes)).toEqual(ev.attr_dtypes);
  }
}

/** The dataset reads the fixture's values, raw and decoded. */
export async function expectNetcdfValues(ds: Dataset, exp: any) {
  for (const [name, ev] of Object.entries<any>(exp.variables)) {
    const v = ds.variable(name);
    const isChar = ev.dtype === "char";
    const where = `${exp.file}:${name}`;
    if (DELIBERATE[where]) {
      const dec = await v.read();
      expect(dec.dtype).toBe(DELIBERATE[where].dtype);
      expectUnpacked(dec, ev.full.raw, ev.full.decoded, ev.attrs, where);
      continue;
    }
    if (ev.full) {
      const raw = await v.read(undefined, { raw: true });
      expect(flat(raw, ev.full.raw), `${where} raw`).toEqual(ev.full.raw);
      const dec = await v.read();
      const want = Array.isArray(ev.full.decoded) ? ev.full.decoded : [ev.full.decoded];
      expect(flat(dec, want), `${where} decoded`).toEqual(want);
    }
    for (const s of ev.samples) {
      const decoded = SCALAR_RULES.has(where) ? ev.full.decoded[s.index.reduce((f: number, i: number, d: number) => f * ev.shape[d] + i, 0)] : s.decoded;
      await checkSample(v, { ...s, decoded }, isChar, where);
    }
    if (ev.slice) {
      const raw = await v.read(ev.slice.slice, { raw: true });
      expect(flat(raw, ev.slice.raw), `${where}[${ev.slice.slice}] raw`).toEqual(ev.slice.raw);
      const dec = await v.read(ev.slice.slice);
      expect(dec.shape, `${where}[${ev.slice.slice}] shape`).toEqual(isChar ? ev.slice.shape.slice(0, -1) : ev.slice.shape);
      expect(flat(dec, ev.slice.decoded), `${where}[${ev.slice.slice}] decoded`).toEqual(ev.slice.decoded);
    }
  }
}

async function checkSample(v: Variable, s: { index: number[]; raw: unknown; decoded: unknown }, isChar: boolean, where: string) {
  const at = `${where}[${s.index.join(",")}]`;
  if (isChar) {
    const sel = v.dims.length ? [...s.index, null] : undefined;
    const raw = await v.read(sel, { raw: true });
    expect(Array.from(raw.data as Uint8Array), `${at} raw`).toEqual(s.raw);
    expect((await v.read(sel)).data[0], `${at} decoded`).toEqual(s.decoded);
    return;
  }
  const raw = await v.read(s.index, { raw: true });
  expect(flat(raw, [s.raw])[0], `${at} raw`).toEqual(s.raw);
  const dec = await v.read(s.index);
  expect(flat(dec, [s.decoded])[0], `${at} decoded`).toEqual(s.decoded);
}
