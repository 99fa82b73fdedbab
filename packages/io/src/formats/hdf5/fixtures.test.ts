/**
 * HDF5 and NetCDF-4 files against h5py (the raw HDF5 view: every dataset's
 * shape, type and stored values; unreadable types refused by name) and, for
 * NetCDF-4 files, against netCDF4-python over netCDF-C exactly as for classic
 * files (datasets/fixtures/make-expected-hdf5.py).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { UnsupportedError } from "../../errors.ts";
import type { NDArray } from "../../ndarray.ts";
import { expectNetcdfMetadata, expectNetcdfValues, flat } from "../../netcdf-fixture.test-util.ts";
import { open } from "../../open.ts";
import { DATASETS } from "../../testing.ts";

const EXPECTED = join(DATASETS, "fixtures/expected-hdf5");
const fixtures = (dir = EXPECTED): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? fixtures(join(dir, e.name)) : [join(dir, e.name)]));
/** Types refused with an UnsupportedError (float16: h5wasm cannot convert it). */
const UNREADABLE = new Set(["compound", "enum", "vlen", "reference", "opaque", "array", "float16"]);
const PHANTOM = "This is a netCDF dimension but not a netCDF variable";

/** Raw values as the fixture lists them: netCDF char bytes as one-character strings (UTF-8, NUL as ""). */
const rawList = (a: NDArray, expected: unknown[]) =>
  a.dtype === "char" ? Array.from(a.data as Uint8Array, (c) => (c === 0 ? "" : Buffer.from([c]).toString("utf8"))) : flat(a, expected);

/** Written by netCDF-C (its own markers), rather than any HDF5 file netCDF-C can open. */
const writtenByNetcdf = (exp: any) =>
  exp.netcdf4 && ("_NCProperties" in exp.h5py.attrs || "_nc3_strict" in exp.h5py.attrs ||
    Object.values<any>(exp.h5py.datasets).some((d) => "_Netcdf4Dimid" in d.attrs || String(d.attrs.NAME ?? "").startsWith(PHANTOM)));

describe.each(fixtures().map((f) => [relative(EXPECTED, f), f]))("%s", (_, fixture) => {
  const exp = JSON.parse(readFileSync(fixture, "utf8"));

  it("has h5py's datasets, shapes and stored values", async () => {
    const ds = await open(join(DATASETS, exp.file));
    expect(ds.format).toBe(writtenByNetcdf(exp) ? "netcdf4" : "hdf5");
    for (const [path, d] of Object.entries<any>(exp.h5py.datasets)) {
      const name = path.slice(1);
      if (writtenByNetcdf(exp) && String(d.attrs.NAME ?? "").startsWith(PHANTOM)) {
        expect(ds.variables[name], `${name} is a netCDF dimension, not a variable`).toBeUndefined();
        continue;
      }
      if (UNREADABLE.has(d.dtype)) {
        expect(ds.unsupported.get(name), name).toMatch(/cannot be read yet/);
        expect(() => ds.variable(path)).toThrow(UnsupportedError);
        continue;
      }
      const v = ds.variable(path);
      expect([v.shape, v.dtype === "char" ? "string" : v.dtype], path).toEqual([d.shape, d.dtype]);
      if (d.full) expect(rawList(await v.read(undefined, { raw: true }), d.full.raw), `${path} raw`).toEqual(d.full.raw);
      for (const s of d.samples ?? []) expect(rawList(await v.read(s.index, { raw: true }), [s.raw])[0], `${path}[${s.index}]`).toEqual(s.raw);
      if (d.slice) {
        const a = await v.read(d.slice.slice, { raw: true });
        expect(a.shape, `${path}[${d.slice.slice}] shape`).toEqual(d.slice.shape);
        expect(rawList(a, d.slice.raw), `${path}[${d.slice.slice}]`).toEqual(d.slice.raw);
      }
    }
    await ds.close();
  });

  if (writtenByNetcdf(exp)) {
    it("has netCDF-C's metadata and values", async () => {
      const ds = await open(join(DATASETS, exp.file));
      expectNetcdfMetadata(ds, exp.netcdf);
      await expectNetcdfValues(ds, exp.netcdf);
      await ds.close();
    });
  }
});
