/**
 * The `meridian` command as a user runs it (a real process through bin/meridian.js),
 * checked against the netCDF-C fixtures and numpy's own .npy files.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { open } from "@meridian/io";
import { infoJson } from "./commands/info.ts";
import { read } from "./commands/read.ts";
import { stringify } from "./format.ts";
import { DELIBERATE } from "../../io/src/testing.ts";

const BIN = fileURLToPath(new URL("../bin/meridian.js", import.meta.url));
const DATASETS = fileURLToPath(new URL("../../../datasets", import.meta.url));
const FIXTURES = join(DATASETS, "fixtures");
const out = mkdtempSync(join(tmpdir(), "meridian-cli-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function meridian(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", maxBuffer: 1 << 28, timeout: 60_000 });
  if (r.error) throw new Error(`meridian ${args.join(" ")}: ${r.error.message} (it must end by itself)`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fixture = (file: string) => JSON.parse(readFileSync(join(FIXTURES, "expected", `${file}.json`), "utf8"));

/** The fixture's encoding of values: NaN/Infinity and 64-bit integers as strings. */
const norm = (x: unknown): unknown =>
  Array.isArray(x) ? x.map(norm)
  : typeof x === "number" && !Number.isFinite(x) ? (Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity")
  : x;

const FILES = [
  "netcdf/generated/types-cdf5.nc",
  "netcdf/netcdfjs/madis-sao.nc",
  "netcdf/geocat-datafiles/ta_ps_850.nc",
  "cmip5-drs/intake-esm/cmip5/output1/NIMR-KMA/HadGEM2-AO/rcp85/mon/atmos/Amon/r1i1p1/v20130815/tasmax/tasmax_Amon_HadGEM2-AO_rcp85_r1i1p1_200511-200512.nc",
];

/** Every file with a fixture. */
const ALL = readdirSync(join(FIXTURES, "expected"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".nc.json")).map((f) => f.slice(0, -5)).sort();

function expectInfo(got: any, exp: any) {
  expect(got.format).toBe("netcdf3");
  expect(got.variant).toBe(exp.variant);
  expect(got.dims).toEqual(exp.dims);
  expect(got.unlimited).toEqual(exp.unlimited);
  const attrs = (a: Record<string, unknown>, types: Record<string, string>) =>
    Object.fromEntries(Object.entries(a).map(([k, v]) => [k, types[k]?.endsWith("int64") ? (Array.isArray(v) ? v.map(String) : String(v)) : norm(v)]));
  expect(attrs(got.attrs, exp.attr_dtypes)).toEqual(exp.attrs);
  expect(Object.keys(got.variables)).toEqual(Object.keys(exp.variables));
  for (const [name, ev] of Object.entries<any>(exp.variables)) {
    const gv = got.variables[name];
    expect({ name, dims: gv.dims, shape: gv.shape, dtype: gv.dtype }).toEqual({ name, dims: ev.dims, shape: ev.shape, dtype: ev.dtype });
    expect(attrs(gv.attrs, ev.attr_dtypes)).toEqual(ev.attrs);
  }
}

/** Parses `meridian read` output; 64-bit integers are kept as their exact digits. */
function parseRead(text: string) {
  const got = JSON.parse(text);
  if (got.dtype.endsWith("int64")) {
    const tokens = text.slice(text.indexOf('"data":[') + 8, text.lastIndexOf("]")).split(",").filter((t) => t !== "");
    got.data = tokens.map((t) => (t === "null" ? null : t));
  }
  return got;
}

/** The JSON `meridian read` prints, against the fixture's decoded slice (float32 printed short, read back exactly). */
function expectRead(text: string, ev: any, where: string) {
  const got = parseRead(text);
  expect(got.dtype, where).toBe(ev.decoded_dtype);
  expect(got.shape, where).toEqual(ev.dtype === "char" ? ev.slice.shape.slice(0, -1) : ev.slice.shape);
  const want = ev.slice.decoded.map((x: unknown) => (x === "NaN" ? null : x));
  const back = got.data.map((x: unknown, i: number) => (typeof x === "number" && got.dtype === "float32" && Math.fround(x) === want[i] ? want[i] : norm(x)));
  expect(back, where).toEqual(want);
}

describe("meridian info", () => {
  it.each(FILES)("--json on %s gives netCDF-C's metadata", (file) => {
    const r = meridian("info", join(DATASETS, file), "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expectInfo(JSON.parse(r.stdout), fixture(file));
  });

  it("--json gives netCDF-C's metadata for every classic file (in-process)", async () => {
    expect(ALL.length).toBeGreaterThanOrEqual(15);
    for (const file of ALL) {
      const ds = await open(join(DATASETS, file));
      expectInfo(JSON.parse(stringify(infoJson(ds))), fixture(file));
      await ds.close();
    }
  });

  it("prints an ncdump-like summary", () => {
    const r = meridian("info", join(DATASETS, "netcdf/geocat-datafiles/tas_rectilinear_grid_2D.nc"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^netcdf3 \(cdf1\) .*tas_rectilinear_grid_2D\.nc \{\ndimensions:\n/);
    expect(r.stdout).toContain("\ttime = UNLIMITED ; // (12 currently)\n");
    expect(r.stdout).toContain("\tfloat32 tas(time, lat, lon) ;\n");
    expect(r.stdout).toContain("\t\ttas:_FillValue = 1e+20 ;\n");
    expect(r.stdout).toContain("// global attributes:\n");
  });
});

describe("meridian read", () => {
  it("prints the CF-decoded slice netCDF-C gives, NaN and masked as null", () => {
    for (const [file, name] of [["netcdf/generated/types-cdf5.nc", "cf_packed_short_float_scale"], ["netcdf/generated/types-cdf1.nc", "cf_float_valid_range"], ["netcdf/netcdfjs/madis-sao.nc", "temperature"], ["netcdf/generated/types-cdf5.nc", "rec_strings"]]) {
      const ev = fixture(file).variables[name];
      const r = meridian("read", join(DATASETS, file), name, "--slice", ev.slice.slice);
      expect(r.stderr).toBe("");
      expectRead(r.stdout, ev, `${file}:${name}`);
    }
  });

  it("gives netCDF-C's values for a slice of every variable of every classic file (in-process, via --out x.json)", async () => {
    let checked = 0;
    for (const file of ALL) {
      for (const [name, ev] of Object.entries<any>(fixture(file).variables)) {
        if (!ev.slice || DELIBERATE[`${file}:${name}`]) continue; // those are checked in @meridian/io's fixture test
        const target = join(out, "slice.json");
        await read(join(DATASETS, file), name, { slice: ev.slice.slice, out: target });
        expectRead(readFileSync(target, "utf8"), ev, `${file}:${name}[${ev.slice.slice}]`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it("--raw prints the stored values, 64-bit integers exactly", () => {
    const ev = fixture("netcdf/generated/types-cdf5.nc").variables;
    const name = Object.keys(ev).find((k) => ev[k].dtype === "int64" && ev[k].full)!;
    const r = meridian("read", join(DATASETS, "netcdf/generated/types-cdf5.nc"), name, "--raw");
    expect(parseRead(r.stdout).data).toEqual(ev[name].full.raw);
    expect(JSON.parse(r.stdout).dtype).toBe("int64");
  });

  it("--out x.npy writes byte for byte what numpy's np.save writes", () => {
    for (const entry of JSON.parse(readFileSync(join(FIXTURES, "npy/index.json"), "utf8"))) {
      const target = join(out, entry.npy);
      const args = ["read", join(DATASETS, entry.file), entry.variable, "--slice", entry.slice, "--out", target];
      const r = meridian(...(entry.raw ? [...args, "--raw"] : args));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(Buffer.compare(readFileSync(target), readFileSync(join(FIXTURES, "npy", entry.npy))), entry.npy).toBe(0);
    }
  });

  it("errors go to stderr with a non-zero exit and name the file and the problem", () => {
    const tas = join(DATASETS, "netcdf/geocat-datafiles/tas_rectilinear_grid_2D.nc");
    const cases: [string[], RegExp][] = [
      [["read", join(out, "missing.nc"), "tas"], /missing\.nc: no such file/],
      [["read", tas, "tass"], /tas_rectilinear_grid_2D\.nc: no variable "tass"; did you mean "tas"\?/],
      [["read", tas, "tas", "--slice", "0:99"], /variable tas: stop 99 is out of range for time of size 12/],
      [["read", tas, "tas", "--slice", "x"], /bad index "x"/],
      [["info", join(DATASETS, "fixtures/npy/index.json")], /index\.json: at byte 0: not a NetCDF, HDF5 or FITS file/],
      [["info", DATASETS], /is a directory/],
      [["read", tas, "lat", "--out", join(out, "no/such/dir/lat.json")], /no\/such\/dir\/lat\.json: no such file/],
      [["read", tas, "lat", "--out", join(out, "no/such/dir/lat.npy")], /lat\.npy: no such file/],
    ];
    for (const [args, message] of cases) {
      const r = meridian(...args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^meridian: /);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
  });
});
