/** The main job (`npm start` runs `meridian demo`) as a new user meets it: a real process over the bundled data. */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../packages/cli/bin/meridian.js", import.meta.url));
const DATASETS = fileURLToPath(new URL("../datasets", import.meta.url));

describe("meridian demo", () => {
  it("reads every bundled sample file and summarises its main variable", () => {
    // It must also end by itself (no worker thread or socket left holding the process).
    const r = spawnSync(process.execPath, [BIN, "demo"], { encoding: "utf8", timeout: 90_000 });
    expect(r.error?.message ?? "", "the job did not end by itself").toBe("");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const files = readdirSync(DATASETS, { recursive: true, encoding: "utf8" }).filter((f) => !f.startsWith("fixtures"));
    const netcdf = files.filter((f) => f.endsWith(".nc")), fits = files.filter((f) => /\.fits(\.gz)?$/.test(f)), hdf5 = files.filter((f) => /\.(h5|hdf5)$/.test(f));
    expect(netcdf.length).toBeGreaterThanOrEqual(19);
    expect(fits.length).toBeGreaterThanOrEqual(14);
    expect(hdf5.length).toBeGreaterThanOrEqual(20);
    expect(r.stdout).toMatch(new RegExp(`done: ${netcdf.length + fits.length + hdf5.length} files read, 0 skipped`));
    // what is not decoded yet is said, and the job goes on
    expect(r.stdout).toMatch(/COMPRESSED_IMAGE: not read \(UnsupportedError: COMPRESSED_IMAGE: tile-compressed images \(PLIO_1\) cannot be decoded yet\)/);
    // the 2005 CMIP5 tas file, read in blocks; numpy over netCDF4-python gives mean 278.723, min 203.968,
    // max 317.226, 221184 valid, 0 masked (netCDF4.Dataset(f)["tas"][:].astype("f8").mean() etc.)
    expect(r.stdout).toMatch(/tas_rectilinear_grid_2D\.nc: netcdf3 cdf1, 7 variables[^\n]*\n\s+tas\(time, lat, lon\): mean 278\.723 K, range 203\.968 \.\. 317\.226, 221184 valid, 0 missing/);
  });
});
