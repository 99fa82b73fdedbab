/**
 * Files over 2 GiB and data offsets past 4 GiB, without committing big files:
 * netCDF-C wrote sparse CDF-2 and CDF-5 files (datasets/fixtures/bigoffset/make.py);
 * their header and written bytes are committed, and the test rebuilds the sparse
 * files in a temp folder.
 */
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, ftruncateSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { open } from "../../open.ts";
import { DATASETS } from "../../testing.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-bigoffset-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rebuild(name: string): { path: string; expected: any } {
  const src = join(DATASETS, "fixtures/bigoffset", name);
  const path = join(dir, `${name}.nc`);
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, Number(readFileSync(join(src, "size"), "utf8").trim()));
    writeSync(fd, readFileSync(join(src, "header.bin")), 0, undefined, 0);
    for (const c of JSON.parse(readFileSync(join(src, "chunks.json"), "utf8"))) writeSync(fd, Buffer.from(c.hex, "hex"), 0, undefined, c.offset);
  } finally {
    closeSync(fd);
  }
  return { path, expected: JSON.parse(readFileSync(join(src, "expected.json"), "utf8")) };
}

const asJson = (xs: ArrayLike<number | bigint>) => Array.from(xs, (x) => (typeof x === "bigint" ? x.toString() : x));

describe.each(["cdf2-2500mb", "cdf5-5gb"])("sparse file %s written by netCDF-C", (name) => {
  it("reads metadata and the data that lies past 2 GiB / 4 GiB as netCDF-C does", async () => {
    const { path, expected } = rebuild(name);
    const ds = await open(path);
    expect(ds.variant).toBe(expected.variant);
    expect(ds.dims).toEqual(expected.dims);
    expect(ds.attrs).toEqual(expected.attrs);
    for (const [vname, ev] of Object.entries<any>(expected.variables)) {
      const v = ds.variable(vname);
      expect(v.dims).toEqual(ev.dims);
      expect(v.shape).toEqual(ev.shape);
      expect(v.dtype).toBe(ev.dtype);
      if (ev.values !== undefined) {
        const a = await v.read();
        const got = asJson(a.data as ArrayLike<number | bigint>);
        expect(ev.shape.length ? got : got[0]).toEqual(ev.values);
      }
      for (const part of [ev.head, ev.tail].filter(Boolean)) {
        expect(asJson((await v.read(part.slice)).data as ArrayLike<number>)).toEqual(part.values);
      }
    }
    await ds.close();
  });
});
