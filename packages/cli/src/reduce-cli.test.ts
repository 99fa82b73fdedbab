/** `meridian reduce` as a user runs it: files to a CF file and CSV, a local cluster for the run, a catalog, errors. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runMeridian } from "./run.test-util.ts";
import { open } from "@meridian/io";

const DATA = fileURLToPath(new URL("../../../datasets/", import.meta.url));
const r1 = ["185001-185912", "186001-186912"].map((t) => `${DATA}netcdf/reduce/noleap/tas_Amon_GEN-A_historical_r1i1p1_${t}.nc`);
const out = mkdtempSync(join(tmpdir(), "meridian-reduce-cli-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const meridian = (...args: string[]) => runMeridian(args, { timeout: 120_000 });

describe("meridian reduce", () => {
  it("prints a scalar series; writes CF NetCDF and CSV; the same on a local cluster of 2 engines", async () => {
    const printed = meridian("reduce", "yearmonmean,fldmean", ...r1, "--var", "tas");
    expect(printed.status).toBe(0);
    const lines = printed.stdout.trim().split("\n");
    expect(lines[0]).toBe("tas (time=20, lat=1, lon=1) K; cell_methods: time: mean (weighted by days in month) area: mean");
    expect(lines.filter((l) => /^18\d\d-07-01T06:00:00 {2}27\d\.\d+$/.test(l))).toHaveLength(20);

    const nc = join(out, "ym.nc"), nc2 = join(out, "ym2.nc");
    expect(meridian("reduce", "yearmonmean,fldmean", ...r1, "--var", "tas", "--out", nc).status).toBe(0);
    const cluster = meridian("reduce", "yearmonmean,fldmean", ...r1, "--var", "tas", "--engines", "2", "--out", nc2);
    expect(cluster.status, cluster.stderr).toBe(0);
    const [a, b] = await Promise.all([nc, nc2].map(async (p) => {
      const ds = await open(p);
      try {
        return Array.from((await ds.variable("tas").read()).data as Float32Array);
      } finally {
        await ds.close();
      }
    }));
    expect(a).toHaveLength(20);
    expect(b).toEqual(a);
    // the printed values are the written ones
    expect(Number(lines[2].split(/\s+/)[1])).toBeCloseTo(a[0], 3);

    const csv = join(out, "zon.csv");
    expect(meridian("reduce", "timmean,zonmean", ...r1, "--var", "tas", "--out", csv).status).toBe(0);
    const rows = readFileSync(csv, "utf8").trim().split("\n");
    expect(rows[0]).toBe("time,time_start,time_end,lat,lon,tas");
    expect(rows).toHaveLength(1 + 12);
  });

  it("statistics across models from a DRS tree", () => {
    const r = meridian("reduce", "yearmonmean,fldmean", "--catalog", `${DATA}cmip5-drs/ESMValTool_sample_data`, "--var", "ta", "--where", "experiment_id=historical", "--by", "source_id", "--ensemble", "mean,p90", "--out", join(out, "models.json"));
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(join(out, "models.json"), "utf8"));
    expect(j.groups.map((g: any) => g.source_id)).toEqual(["BCC-CSM2-MR", "MPI-ESM1-2-HR"]);
    expect(Object.keys(j.ensemble)).toEqual(["mean", "p90"]);
    expect(j.labels[0]).toBe("1930");
  });

  it("bad input: a clear message and exit status 1", () => {
    const unknown = meridian("reduce", "yearmonmaen", ...r1, "--var", "tas");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^meridian: unknown operator "yearmonmaen"; did you mean .*yearmonmean/);
    const noVar = meridian("reduce", "timmean", ...r1, "--var", "pr");
    expect(noVar.status).toBe(1);
    expect(noVar.stderr).toMatch(/no variable "pr"/);
    const order = meridian("reduce", "timmean", r1[1], r1[0], "--var", "tas");
    expect(order.stderr).toMatch(/time goes back or repeats/);
    const ext = meridian("reduce", "timmean", ...r1, "--var", "tas", "--out", join(out, "x.txt"));
    expect(ext.stderr).toMatch(/x\.txt: write the result to a \.nc, \.csv or \.json file/);
  });
});
