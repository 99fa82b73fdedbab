/**
 * FITS headers and HDU layout against astropy (datasets/fixtures/make-expected-fits.py):
 * every card's keyword, typed value and comment, and every HDU's name and offsets.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { FormatError } from "../../errors.ts";
import { MemorySource } from "../../source.ts";
import { DATASETS } from "../../testing.ts";
import { BLOCK, readHdus, type CardValue } from "./header.ts";

const EXPECTED = join(DATASETS, "fixtures/expected-fits");
const fixtures = (dir = EXPECTED): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? fixtures(join(dir, e.name)) : [join(dir, e.name)]));

/** A value as the fixtures encode it. */
const encode = (v: CardValue): unknown =>
  typeof v === "bigint" ? v.toString()
  : typeof v === "number" && !Number.isFinite(v) ? (Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity")
  : v;

const bytesOf = (file: string, gzip: boolean) => {
  const raw = readFileSync(join(DATASETS, file));
  return new Uint8Array(gzip ? gunzipSync(raw) : raw);
};

describe.each(fixtures().map((f) => [relative(EXPECTED, f), f]))("%s", (_, fixture) => {
  it("has astropy's HDUs and cards", async () => {
    const exp = JSON.parse(readFileSync(fixture, "utf8"));
    const hdus = await readHdus(new MemorySource(exp.file, bytesOf(exp.file, exp.gzip)));
    expect(hdus.map((h) => [h.index, h.name, h.xtension, h.headerOffset, h.dataOffset, h.dataSpan])).toEqual(
      exp.hdus.map((h: any) => [h.index, h.name, h.xtension, h.header_offset, h.data_offset, h.data_span]));
    hdus.forEach((h, i) => {
      expect(h.cards.map((c) => [c.keyword, encode(c.value), c.comment]), `HDU ${i}`).toEqual(exp.hdus[i].cards);
      expect(h.cards.map((c) => c.kind), `HDU ${i} value types`).toEqual(exp.hdus[i].value_types);
    });
  });
});

describe("bad FITS headers give typed errors", () => {
  const m13 = bytesOf("fits/astropy/m13.fits", false);
  const fail = async (bytes: Uint8Array) => {
    try {
      await readHdus(new MemorySource("bad.fits", bytes));
    } catch (e) {
      expect(e).toBeInstanceOf(FormatError);
      return (e as Error).message;
    }
    throw new Error("expected a FormatError");
  };
  const withCard = (keyword: string, value: string) => {
    const b = m13.slice();
    const text = Buffer.from(b.buffer).toString("latin1", 0, BLOCK);
    const at = text.indexOf(keyword.padEnd(8) + "=");
    b.set(Buffer.from(`${keyword.padEnd(8)}= ${value.padStart(20)}`.padEnd(80), "latin1"), at);
    return b;
  };

  it("truncated data, missing END, impossible keywords", async () => {
    expect(await fail(m13.subarray(0, 100000))).toMatch(/^bad\.fits: at byte 2880: file is truncated: HDU 0 needs 181440 bytes of data/);
    expect(await fail(m13.subarray(0, 1000))).toMatch(/at byte 0: file is truncated: expected a 2880-byte header block/);
    const noEnd = m13.slice(0, BLOCK);
    noEnd.set(Buffer.from(" ".repeat(80)), Buffer.from(noEnd.buffer).toString("latin1").indexOf("END     "));
    expect(await fail(noEnd)).toMatch(/file is truncated/);
    expect(await fail(withCard("BITPIX", "12"))).toMatch(/BITPIX must be 8, 16, 32, 64, -32 or -64, found 12/);
    expect(await fail(withCard("NAXIS1", "-5"))).toMatch(/NAXIS1 must be a non-negative integer, found -5/);
    expect(await fail(withCard("NAXIS1", "9999999999"))).toMatch(/file is truncated: HDU 0 needs 6000000001920 bytes/);
    expect(await fail(withCard("NAXIS1", "99999999999999"))).toMatch(/at byte 0: the data size in the header overflows/);
    expect(await fail(withCard("BITPIX", "'sixteen'"))).toMatch(/BITPIX must be an integer, found sixteen/);
  });
});
