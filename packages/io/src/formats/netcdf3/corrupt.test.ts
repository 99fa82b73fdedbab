import { describe, expect, it } from "vitest";
import { FormatError, MeridianError, SelectionError, UnsupportedError } from "../../errors.ts";
import { openBytes } from "../../open.ts";
import { buildHeader } from "./build.test-util.ts";

/** Opens and reads everything, returning the error it ends with. */
async function failure(bytes: Uint8Array): Promise<MeridianError> {
  const started = performance.now();
  try {
    const ds = await openBytes(bytes, "bad.nc");
    for (const v of Object.values(ds.variables)) await v.read();
  } catch (e) {
    expect(performance.now() - started).toBeLessThan(1000);
    expect(e).toBeInstanceOf(MeridianError);
    return e as MeridianError;
  }
  throw new Error("expected an error");
}

const good = { dims: [["x", 4]] as [string, number][], vars: [{ name: "v", dimIds: [0], type: 4, begin: 96 }], totalSize: 112 };

describe("corrupt NetCDF classic headers give typed errors naming file and byte", () => {
  it("the hand-made header is valid to begin with", async () => {
    const ds = await openBytes(buildHeader(good), "ok.nc");
    expect((await ds.variable("v").read()).shape).toEqual([4]);
  });

  it("wrong magic", async () => {
    const bytes = buildHeader(good);
    bytes[3] = 3;
    const e = await failure(bytes);
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/^bad\.nc: at byte 0: not a NetCDF, HDF5 or FITS file/);
  });

  it("empty and tiny files", async () => {
    expect((await failure(new Uint8Array(0))).message).toMatch(/not a NetCDF/);
    expect((await failure(Uint8Array.of(0x43, 0x44, 0x46, 1, 0))).message).toMatch(/truncated/);
  });

  it("negative counts and offsets", async () => {
    const e = await failure(buildHeader({ ...good, vars: [{ ...good.vars[0], begin: 0x80000000 }] }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/^bad\.nc: at byte 76: offset of variable v is negative \(-2147483648\)/);
    const e5 = await failure(buildHeader({ ...good, version: 5, dims: [["x", 2 ** 63]] }));
    expect(e5.message).toMatch(/size of dimension x is negative/);
  });

  it("a record count the file cannot hold", async () => {
    const spec = { dims: [["t", 0]] as [string, number][], vars: [{ name: "v", dimIds: [0], type: 4, begin: 96 }], totalSize: 112, numrecs: 0x80000001 };
    const ds = await openBytes(buildHeader(spec), "bad.nc");
    expect(ds.dims.t).toBe(0x80000001);
    await expect(ds.variable("v").read("0:4")).resolves.toBeDefined();
    await expect(ds.variable("v").read("-1")).rejects.toThrow(/at byte 8589934688: file is truncated/);
    await expect(ds.variable("v").read()).rejects.toThrow(/too large to read at once/);
  });

  it("enormous counts are refused before anything is allocated", async () => {
    const e = await failure(buildHeader({ ...good, nattrs: 0x7fffffff }));
    expect(e.message).toMatch(/global attribute count 2147483647 cannot fit in the \d+ bytes left in the file/);
    const huge = buildHeader({ ...good, vars: [{ ...good.vars[0], attrs: [["a", 1, [1]]] }] });
    // set the attribute's element count (just before its one value byte) to 2^31-1
    const at = huge.indexOf(1, 60);
    const view = new DataView(huge.buffer);
    const countAt = 4 * Math.floor(huge.lastIndexOf(0x61) / 4) + 8; // name "a" padded, then type, then count
    view.setUint32(countAt, 0x7fffffff);
    expect(at).toBeGreaterThan(0);
    expect((await failure(huge)).message).toMatch(/attribute of v a value count 2147483647 cannot fit/);
    const e5 = await failure(buildHeader({ ...good, version: 5, dims: [["x", 2 ** 60]] }));
    expect(e5.message).toMatch(/impossibly large|overflows/);
  });

  it("a dimension id that does not exist", async () => {
    const e = await failure(buildHeader({ ...good, vars: [{ ...good.vars[0], dimIds: [7] }] }));
    expect(e.message).toMatch(/uses dimension id 7, but there are only 1 dimensions/);
  });

  it("an unknown type", async () => {
    expect((await failure(buildHeader({ ...good, vars: [{ ...good.vars[0], type: 9 }] }))).message).toMatch(/variable v has unknown type 9/);
  });

  it("data offsets inside the header or past the end of the file", async () => {
    expect((await failure(buildHeader({ ...good, vars: [{ ...good.vars[0], begin: 8 }] }))).message).toMatch(/starts at byte 8, inside the header/);
    const e = await failure(buildHeader({ ...good, vars: [{ ...good.vars[0], begin: 1_000_000 }] }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/at byte 1000000: file is truncated: variable v needs bytes up to 1000016 but the file ends at byte 112/);
  });

  it("dimensions whose product overflows", async () => {
    const e = await failure(buildHeader({ dims: [["a", 2 ** 31 - 1], ["b", 2 ** 31 - 1], ["c", 2 ** 31 - 1]], vars: [{ name: "v", dimIds: [0, 1, 2], type: 6, begin: 200 }], totalSize: 300 }));
    expect(e.message).toMatch(/dimensions' product overflows/);
  });

  it("a record dimension that is not first", async () => {
    const e = await failure(buildHeader({ dims: [["x", 3], ["t", 0]], vars: [{ name: "v", dimIds: [0, 1], type: 4, begin: 100 }], totalSize: 120 }));
    expect(e.message).toMatch(/unlimited dimension in position 1/);
  });

  it("a header that ends early", async () => {
    const bytes = buildHeader(good).subarray(0, 30);
    const e = await failure(bytes);
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/file is truncated/);
    expect((e as FormatError).offset).toBeLessThanOrEqual(30);
  });

  it("a huge in-range selection is refused rather than allocated", async () => {
    const ds = await openBytes(buildHeader({ dims: [["a", 2 ** 20], ["b", 2 ** 20]], vars: [{ name: "v", dimIds: [0, 1], type: 6, begin: 100 }], totalSize: 120 }), "big.nc");
    await expect(ds.variable("v").read()).rejects.toThrow(SelectionError);
    await expect(ds.variable("v").read()).rejects.toThrow(/too large to read at once; use blocks\(\)/);
    await expect(ds.variable("v").read("0,0:4")).rejects.toThrow(/file is truncated/);
  });

  it("HDF5 is recognised but not read yet; a FITS file is handed to the FITS reader", async () => {
    const hdf = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
    await expect(openBytes(hdf, "x.h5")).rejects.toThrow(UnsupportedError);
    await expect(openBytes(Buffer.from("SIMPLE  =                    T"), "x.fits")).rejects.toThrow(/x\.fits: at byte 0: file is truncated: expected a 2880-byte header block/);
  });
});
