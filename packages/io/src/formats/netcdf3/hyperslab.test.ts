/**
 * Random selections (starts, stops, steps, dropped dims) against indexing into
 * the whole variable, whose values the fixture test checks against netCDF-C.
 * Covers fixed and record variables, one and many record variables, and every
 * read path (dense, vectored, scratch with strided pieces).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { strides } from "../../ndarray.ts";
import { open } from "../../open.ts";
import type { DimSelection } from "../../selection.ts";
import { DATASETS, rng } from "../../testing.ts";

const FILES = [
  "netcdf/geocat-datafiles/tas_rectilinear_grid_2D.nc",
  "netcdf/netcdfjs/madis-sao.nc",
  "netcdf/generated/types-cdf5.nc",
  "netcdf/generated/onerec-byte.nc",
  "netcdf/netcdf-c/nctest/ref_nctest_64bit_offset.nc",
];

describe.each(FILES)("random hyperslabs of %s", (file) => {
  it("equal the same elements of the whole variable", async () => {
    const random = rng(99);
    const int = (n: number) => Math.floor(random() * n);
    const ds = await open(join(DATASETS, file));
    let checked = 0;
    for (const v of Object.values(ds.variables)) {
      if (v.dims.length === 0 || v.size === 0 || v.dtype === "char") continue;
      const whole = await v.read(undefined, { raw: true });
      const st = strides(v.shape);
      for (let t = 0; t < 12; t++) {
        const sel: DimSelection[] = [], picks: number[][] = [];
        for (const n of v.shape) {
          if (random() < 0.2) {
            const p = int(n);
            sel.push(p);
            picks.push([p]);
          } else {
            const a = int(n), b = a + 1 + int(n - a), step = 1 + (random() < 0.5 ? 0 : int(4));
            sel.push([a, b, step]);
            const idx = [];
            for (let i = a; i < b; i += step) idx.push(i);
            picks.push(idx);
          }
        }
        const got = await v.read(sel, { raw: true });
        const want: unknown[] = [];
        const walk = (d: number, flat: number) => {
          if (d === picks.length) return void want.push(whole.data[flat]);
          for (const i of picks[d]) walk(d + 1, flat + i * st[d]);
        };
        walk(0, 0);
        expect(got.shape).toEqual(picks.filter((_, d) => typeof sel[d] !== "number").map((p) => p.length));
        expect(Array.from(got.data as ArrayLike<unknown>), `${v.name}[${JSON.stringify(sel)}]`).toEqual(want);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    await ds.close();
  });
});
