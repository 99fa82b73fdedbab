/**
 * Every NetCDF classic file in datasets/ against the values netCDF-C gives
 * (through netCDF4-python; datasets/fixtures/make-expected.py): metadata, whole
 * small variables, random samples and a strided slice, raw and CF-decoded.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import type { Attribute } from "../../attribute.ts";
import type { Variable } from "../../dataset.ts";
import type { NDArray } from "../../ndarray.ts";
import { open } from "../../open.ts";
import { classicFiles, DATASETS } from "../../testing.ts";

const EXPECTED = join(DATASETS, "fixtures/expected");

function fixtureFiles(dir = EXPECTED): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? fixtureFiles(join(dir, e.name)) : e.name.endsWith(".json") ? [join(dir, e.name)] : []);
}

/** A value as the fixtures encode it: NaN/Infinity as strings, 64-bit integers as decimal strings. */
function encode(x: unknown): unknown {
  if (typeof x === "bigint") return x.toString();
  if (typeof x === "number" && !Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
  if (Array.isArray(x)) return x.map(encode);
  return x;
}

/** Our array as the fixture's flat list: masked values are null (NaN in float output stands for masked or NaN). */
function flat(a: NDArray, expected: unknown[]): unknown[] {
  return Array.from(a.data as ArrayLike<unknown>, (x, i) => {
    if (a.mask?.[i]) return null;
    if (typeof x === "number" && Number.isNaN(x) && (expected[i] === null || expected[i] === "NaN")) return expected[i];
    return encode(x);
  });
}

const encodeAttrs = (attrs: object) => Object.fromEntries(Object.entries(attrs).map(([k, x]) => [k, encode(x)]));
const attrDtypes = (list: readonly Attribute[]) => Object.fromEntries(list.map((a) => [a.name, a.dtype]));

describe("the expected values cover every classic file in datasets/", () => {
  it("has a fixture per file", () => {
    const covered = fixtureFiles().map((f) => relative(EXPECTED, f).replace(/\.json$/, "")).sort();
    expect(covered).toEqual(classicFiles());
  });
});

describe.each(fixtureFiles().map((f) => [relative(EXPECTED, f), f]))("%s", (_, fixture) => {
  const exp = JSON.parse(readFileSync(fixture, "utf8"));

  it("has netCDF-C's metadata", async () => {
    const ds = await open(join(DATASETS, exp.file));
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
      expect({ name, dims: v.dims, shape: v.shape, dtype: v.dtype, decoded: v.decodedDtype }).toEqual({ name, dims: ev.dims, shape: ev.shape, dtype: ev.dtype, decoded: ev.decoded_dtype });
      expect(encodeAttrs(v.attrs)).toEqual(ev.attrs);
      expect(attrDtypes(v.attributes)).toEqual(ev.attr_dtypes);
    }
    await ds.close();
  });

  it("reads netCDF-C's values, raw and decoded", async () => {
    const ds = await open(join(DATASETS, exp.file));
    for (const [name, ev] of Object.entries<any>(exp.variables)) {
      const v = ds.variable(name);
      const isChar = ev.dtype === "char";
      const where = `${exp.file}:${name}`;
      if (ev.full) {
        const raw = await v.read(undefined, { raw: true });
        expect(flat(raw, ev.full.raw), `${where} raw`).toEqual(ev.full.raw);
        const dec = await v.read();
        const want = Array.isArray(ev.full.decoded) ? ev.full.decoded : [ev.full.decoded];
        expect(flat(dec, want), `${where} decoded`).toEqual(want);
      }
      for (const s of ev.samples) await checkSample(v, s, isChar, where);
      if (ev.slice) {
        const raw = await v.read(ev.slice.slice, { raw: true });
        expect(flat(raw, ev.slice.raw), `${where}[${ev.slice.slice}] raw`).toEqual(ev.slice.raw);
        const dec = await v.read(ev.slice.slice);
        expect(dec.shape, `${where}[${ev.slice.slice}] shape`).toEqual(isChar ? ev.slice.shape.slice(0, -1) : ev.slice.shape);
        expect(flat(dec, ev.slice.decoded), `${where}[${ev.slice.slice}] decoded`).toEqual(ev.slice.decoded);
      }
    }
    await ds.close();
  });
});

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
