/**
 * FITS data through open(), against what astropy gives (datasets/fixtures/make-expected-fits.py):
 * images raw and scaled, every fixed-size table column, and clear refusals for
 * what is not decoded yet (tile-compressed images, variable-length columns).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import type { Variable } from "../../dataset.ts";
import { UnsupportedError } from "../../errors.ts";
import type { NDArray } from "../../ndarray.ts";
import { open } from "../../open.ts";
import { DATASETS } from "../../testing.ts";

const EXPECTED = join(DATASETS, "fixtures/expected-fits");
const fixtures = (dir = EXPECTED): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? fixtures(join(dir, e.name)) : [join(dir, e.name)]));

/** Our values in the fixtures' encoding: NaN as "NaN", 64-bit integers as strings, bools as booleans, masked as null. */
function flat(a: NDArray): unknown[] {
  return Array.from(a.data as ArrayLike<unknown>, (x, i) =>
    a.mask?.[i] ? null
    : typeof x === "bigint" ? x.toString()
    : typeof x === "number" && Number.isNaN(x) ? "NaN"
    : a.dtype === "bool" ? x === 1
    : x);
}

/** The variable name meridian gives an HDU: its name, or name_EXTVER when the name repeats. */
function hduVariable(exp: any, index: number): string {
  const hdu = exp.hdus[index];
  if (exp.hdus.filter((h: any) => h.name === hdu.name).length === 1) return hdu.name;
  const ver = hdu.cards.find((c: any[]) => c[0] === "EXTVER")?.[1];
  return `${hdu.name}_${ver ?? index}`;
}

describe.each(fixtures().map((f) => [relative(EXPECTED, f), f]))("%s", (_, fixture) => {
  it("reads what astropy reads", async () => {
    const exp = JSON.parse(readFileSync(fixture, "utf8"));
    const ds = await open(join(DATASETS, exp.file));
    expect(ds.format).toBe("fits");
    expect(ds.variant).toBe(exp.gzip ? "fits.gz" : "fits");
    for (const [i, hdu] of exp.hdus.entries()) {
      const data = hdu.data;
      if (!data) continue;
      const name = hduVariable(exp, i);
      if (data.kind === "image") {
        const v = ds.variable(name);
        expect([v.dtype, v.decodedDtype, v.shape], name).toEqual([data.raw_dtype, data.dtype, data.shape]);
        if (data.full) {
          expect(flat(await v.read(undefined, { raw: true })), `${name} raw`).toEqual(data.full.raw);
          expect(flat(await v.read()), `${name} decoded`).toEqual(data.full.decoded);
        }
        await checkSamples(v, data);
      } else if (data.kind === "compressed") {
        const v = ds.variable(name);
        expect([v.dtype, v.shape], name).toEqual([data.decompressed.dtype, data.decompressed.shape]);
        if (REFUSED.has(data.zcmptype)) {
          await expect(v.read("0,0")).rejects.toThrow(UnsupportedError);
          await expect(v.read("0,0")).rejects.toThrow(new RegExp(`tile-compressed images \\(${data.zcmptype}\\) cannot be decoded yet`));
        } else {
          expect(v.decodedDtype).toBe(data.decompressed.dtype);
          await checkSamples(v, { ...data.decompressed, raw: false });
        }
      } else {
        for (const [column, c] of Object.entries<any>(data.columns)) {
          const v = ds.variable(`${name}/${column}`);
          if (c.dtype === "vla") {
            await expect(v.read()).rejects.toThrow(/variable-length array columns \(TFORM .*\) cannot be read yet/);
            continue;
          }
          const got = await v.read();
          expect([got.dtype, got.shape], `${name}/${column}`).toEqual([c.dtype, c.shape]);
          expect(v.decodedDtype).toBe(c.dtype);
          expect(flat(got), `${name}/${column}`).toEqual(c.values);
          // Stored values too (X columns have none: their bits are the values).
          if (c.raw && !c.tform.endsWith("X")) {
            const raw = await v.read(undefined, { raw: true });
            expect(Array.from(raw.data as ArrayLike<number>), `${name}/${column} raw`).toEqual(c.raw);
          }
        }
      }
    }
    await ds.close();
  });
});

/** Samples and the slice; stored values too, unless the fixture has none (decompressed images). */
async function checkSamples(v: Variable, data: any) {
  for (const s of data.samples) {
    if (data.raw !== false) expect(flat(await v.read(s.index, { raw: true }))[0], `${v.name}[${s.index}] raw`).toEqual(s.raw);
    expect(flat(await v.read(s.index))[0], `${v.name}[${s.index}]`).toEqual(s.decoded);
  }
  const sel = data.slice.slice.join(",");
  if (data.raw !== false) {
    const raw = await v.read(sel, { raw: true });
    expect(raw.shape).toEqual(data.slice.shape);
    expect(flat(raw), `${v.name}[${sel}] raw`).toEqual(data.slice.raw);
  }
  const decoded = await v.read(sel);
  expect(decoded.shape).toEqual(data.slice.shape);
  expect(flat(decoded), `${v.name}[${sel}]`).toEqual(data.slice.decoded);
}

/** Compressions refused for now, with an UnsupportedError. */
const REFUSED = new Set(["HCOMPRESS_1", "PLIO_1"]);
