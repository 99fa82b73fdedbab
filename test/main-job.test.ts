/** The main job (`npm start` runs `meridian demo`) as a new user meets it: a real process, a real cluster, the bundled data. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { drs } from "@meridian/io";
import { baseRuns, parseTable, prepare } from "@meridian/pmf";
import { reduceArchive } from "@meridian/reduce";
import { runMeridian } from "../packages/cli/src/run.test-util.ts";

const DATASETS = fileURLToPath(new URL("../datasets/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "meridian-demo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the main job (npm start)", () => {
  it("runs end to end on a 2-engine cluster, prints where it is, and writes a report whose numbers are the serial ones", async () => {
    const r = runMeridian(["demo", "--engines", "2", "--out", dir], { timeout: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    for (let s = 1; s <= 5; s++) expect(r.stdout).toMatch(new RegExp(`^\\[${s}/5\\] .+ \\([\\d.]+ s\\)$`, "m"));
    const files = readdirSync(DATASETS, { recursive: true, encoding: "utf8" }).filter((f) => !f.startsWith("fixtures"));
    const netcdf = files.filter((f) => f.endsWith(".nc")), fits = files.filter((f) => /\.fits(\.gz)?$/.test(f)), hdf5 = files.filter((f) => /\.(h5|hdf5)$/.test(f));
    expect(netcdf.length).toBeGreaterThanOrEqual(19);
    expect(fits.length).toBeGreaterThanOrEqual(14);
    expect(hdf5.length).toBeGreaterThanOrEqual(20);
    expect(r.stdout).toMatch(new RegExp(`^ {6}${netcdf.length + fits.length + hdf5.length} files, 0 refused with a clear error$`, "m"));
    expect(r.stdout).toMatch(/^ {6}ESMValTool_sample_data: 16 files, intake-esm: 39 files$/m);
    expect(r.stdout).toMatch(new RegExp(`^done in [\\d.]+ s: open ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/report\\.html$`, "m"));

    // the multi-model mean of the last year and the PMF base case, computed here serially
    const catalog = (await drs.scan(join(DATASETS, "cmip5-drs/ESMValTool_sample_data"))).query({ experiment_id: "historical", variable_id: "ta" });
    const serial = await reduceArchive("yearmonmean,fldmean", catalog, { variable: "ta", by: ["source_id"], ensemble: ["mean", "min", "max"] });
    const last = serial.labels.length - 1;
    const printed = /multi-model mean (\d+): 1000 hPa ([\d.]+) K, 925 hPa ([\d.]+) K/.exec(r.stdout)!;
    expect(printed[1]).toBe(serial.labels[last]);
    expect([printed[2], printed[3]]).toEqual([0, 1].map((c) => serial.ensemble.mean[last * serial.cells + c].toFixed(2)));
    const table = (name: string) => parseTable(readFileSync(join(DATASETS, "pmf/esat/data", name), "utf8"), name);
    const data = prepare(table("Dataset-BatonRouge-con.csv"), { unc: table("Dataset-BatonRouge-unc.csv") });
    const { best } = await baseRuns(data.x, data.u, data.samples.length, data.species.length, { factors: 4, runs: 20, seed: 42 });
    expect(r.stdout).toContain(`Q(robust) ${best.qRobust.toFixed(1)}, Q(true) ${best.qTrue.toFixed(1)}`);

    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect([...html.matchAll(/<h2>([^<]+)<\/h2>/g)].map((m) => m[1])).toEqual(["Sample files", "CMIP archives", "Annual series of each model", "PMF: Baton Rouge VOCs"]);
    expect(html.match(/<svg[\s\S]*?<\/svg>/g)?.length).toBe(4);
    expect(html).toContain("<td>BCC-CSM2-MR</td>");
    expect(html).toContain("<td>MPI-ESM1-2-HR</td>");
    expect(html).not.toMatch(/<script/); // self-contained, nothing to run or fetch
    // the 2005 CMIP5 tas file, read in blocks; numpy over netCDF4-python gives mean 278.723, min 203.968,
    // max 317.226, 221184 valid, 0 masked (netCDF4.Dataset(f)["tas"][:].astype("f8").mean() etc.)
    expect(html).toMatch(/tas_rectilinear_grid_2D\.nc<\/td><td>netcdf3 cdf1<\/td><td>tas\(time, lat, lon\)<\/td><td>K<\/td><td class="n">221,184<\/td><td class="n">0<\/td><td class="n">203\.968<\/td><td class="n">278\.723<\/td><td class="n">317\.226<\/td>/);
    // what is not decoded yet is said, and the job goes on
    expect(html).toMatch(/<td>COMPRESSED_IMAGE<\/td><td>COMPRESSED_IMAGE: tile-compressed images \(PLIO_1\) cannot be decoded yet<\/td>/);
  }, 180_000);
});
