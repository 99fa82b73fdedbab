/**
 * FITS data through open(), against what astropy gives (datasets/fixtures/make-expected-fits.py):
 * images raw and scaled, every fixed-size table column, and clear refusals for
 * what is not decoded yet (HCOMPRESS_1 and PLIO_1 tiles).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import type { Variable } from "../../dataset.ts";
import { FormatError, UnsupportedError } from "../../errors.ts";
import { strides, type NDArray } from "../../ndarray.ts";
import { open, openBytes } from "../../open.ts";
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
          // The whole image: tiles decoded straight into the output (whole rows of tiles) or copied.
          const whole = flat(await v.read());
          if (data.decompressed.full) expect(whole, `${name} whole`).toEqual(data.decompressed.full);
          const at = strides(v.shape);
          for (const s of data.decompressed.samples) expect(whole[s.index.reduce((o: number, i: number, d: number) => o + i * at[d], 0)], `${name}[${s.index}] in the whole`).toEqual(s.decoded);
        }
      } else {
        for (const [column, c] of Object.entries<any>(data.columns)) {
          const v = ds.variable(`${name}/${column}`);
          if (c.dtype === "vla") {
            await checkVariableLength(v, c);
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

/** A P/Q column: [rows, longest] with each row's elements, then padding masked; text columns as one string per row. */
async function checkVariableLength(v: Variable, c: any) {
  const rows: any[] = c.values;
  const longest = Math.max(0, ...rows.map((r) => r.length));
  if (c.element_dtype === "string") {
    expect((await v.read()).data, v.name).toEqual(rows);
    return;
  }
  expect([v.dtype, v.shape], v.name).toEqual([c.element_dtype, [rows.length, longest]]);
  const expected = rows.flatMap((r) => Array.from({ length: longest }, (_, j) => (j < r.length ? r[j] : null)));
  expect(flat(await v.read()), v.name).toEqual(expected);
  const raw = await v.read(undefined, { raw: true });
  expect(flat(raw), `${v.name} raw`).toEqual(expected);
  // A selection: rows backwards is not allowed, so every other row from the last, and elements 1: of each.
  if (rows.length > 1 && longest > 1) {
    const sel = await v.read(`1::2, 1:`);
    const picked = rows.filter((_, i) => i % 2 === 1).flatMap((r) => Array.from({ length: longest - 1 }, (_, j) => (j + 1 < r.length ? r[j + 1] : null)));
    expect(sel.shape).toEqual([Math.floor(rows.length / 2), longest - 1]);
    expect(flat(sel), `${v.name}[1::2, 1:]`).toEqual(picked);
  }
}

/** Compressions refused for now, with an UnsupportedError. */
const REFUSED = new Set(["HCOMPRESS_1", "PLIO_1"]);

describe("variable-length columns whose header is incomplete or lies", () => {
  const file = join(DATASETS, "fits/generated/vla.fits");
  /** vla.fits with TFORM1 (counts, PJ(5)) replaced, or row 0's descriptor. */
  const edited = (tform1: string, descriptor?: [number, number]) => {
    const bytes = new Uint8Array(readFileSync(file));
    const text = Buffer.from(bytes).toString("latin1");
    const at = text.indexOf("'PJ(5)   '");
    bytes.set(Buffer.from(`'${tform1.padEnd(8)}'`, "latin1"), at);
    if (descriptor) {
      const row0 = Math.ceil((text.indexOf("END     ") + 80) / 2880) * 2880 + 2880; // after the primary HDU and the table header
      new DataView(bytes.buffer).setInt32(row0, descriptor[0]);
      new DataView(bytes.buffer).setInt32(row0 + 4, descriptor[1]);
    }
    return bytes;
  };

  it("finds the longest row when TFORM does not say", async () => {
    const ds = await openBytes(edited("PJ"), "no-max.fits");
    const plain = await open(file);
    expect(ds.variable("VLA/counts").shape).toEqual([6, 5]);
    expect(flat(await ds.variable("VLA/counts").read())).toEqual(flat(await plain.variable("VLA/counts").read()));
  });

  it("refuses a maximum the heap cannot hold, at open", async () => {
    await expect(openBytes(edited("PJ(99999)"), "lying.fits")).rejects.toThrow(/lying\.fits.*VLA\/counts.*rows of 99999 elements cannot fit in the 281-byte heap/);
  });

  it("refuses rows longer than the maximum, and descriptors outside the heap, when read", async () => {
    const short = await openBytes(edited("PJ(2)"), "short.fits");
    await expect(short.variable("VLA/counts").read()).rejects.toThrow(/short\.fits.*VLA\/counts: a row of 3 elements, but TFORM says at most 2/);
    const outside = await openBytes(edited("PJ(5)", [2, 100000]), "outside.fits");
    const v = outside.variable("VLA/counts");
    await expect(v.read()).rejects.toThrow(FormatError);
    await expect(v.read("0")).rejects.toThrow(/outside\.fits.*VLA\/counts, row 0: 2 elements at heap offset 100000 do not fit in the 281-byte heap/);
    expect(flat(await v.read("1:"))).toEqual(flat(await (await open(file)).variable("VLA/counts").read("1:")));
  });
});

describe("corrupt tiles", () => {
  it("a RICE_1 tile whose bytes end early is a FormatError, and other tiles still read", async () => {
    const file = join(DATASETS, "fits/generated/tiles-rice_1-i16.fits");
    const bytes = new Uint8Array(readFileSync(file));
    const text = Buffer.from(bytes).toString("latin1");
    const table = Math.ceil((text.indexOf("END     ", text.indexOf("XTENSION")) + 80) / 2880) * 2880; // the tile table after its header
    new DataView(bytes.buffer).setInt32(table, 3); // tile 0: 3 bytes instead of its own
    const ds = await openBytes(bytes, "short-tile.fits");
    const v = ds.variable("RICE_1_I16");
    await expect(v.read("0:16, 0:16")).rejects.toThrow(FormatError);
    await expect(v.read("0, 0")).rejects.toThrow(/short-tile\.fits.*RICE_1 tile is corrupt: its 3 bytes end before its 256 pixels/);
    const good = await open(file);
    const name = v.name;
    expect(flat(await v.read("16:, 16:"))).toEqual(flat(await good.variable(name).read("16:, 16:")));
  });
});
