/**
 * Archive-level statistics from a catalog: each dataset reduced on its own,
 * members averaged per model, statistics across models per year, whatever
 * each model's calendar.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { drs } from "@meridian/io";
import { archiveCSV, reduce, reduceArchive } from "./index.ts";

const ROOT = fileURLToPath(new URL("../../../datasets/", import.meta.url));

/** A catalog of the generated series: GEN-A (noleap, members r1–r3, 1850–1869) and GEN-B (360_day, r1, 1850–1859). */
function generated(): drs.Catalog {
  const rows = ["model,experiment,frequency,ensemble_member,variable,time_range,version,path"];
  for (const r of [1, 2, 3]) for (const t of ["185001-185912", "186001-186912"]) rows.push(`GEN-A,historical,mon,r${r}i1p1,tas,${t},v1,noleap/tas_Amon_GEN-A_historical_r${r}i1p1_${t}.nc`);
  rows.push("GEN-B,historical,mon,r1i1p1,tas,185001-185912,v1,360day/tas_Amon_GEN-B_historical_r1i1p1_185001-185912.nc");
  return drs.Catalog.fromCSV(rows.join("\n"), `${ROOT}netcdf/reduce`);
}

describe("statistics across models", () => {
  it("per model (members averaged) and across models, aligned by year across noleap and 360_day", async () => {
    const r = await reduceArchive("yearmonmean,fldmean", generated(), { variable: "tas", by: ["model"], ensemble: ["mean", "std", "p10", "p90"] });
    expect(r.groups.map((g) => [g.key.model, g.members.length, g.labels.length])).toEqual([["GEN-A", 3, 20], ["GEN-B", 1, 10]]);
    expect(r.labels).toEqual(Array.from({ length: 20 }, (_, i) => String(1850 + i)));
    expect(r.counts).toEqual([...Array(10).fill(2), ...Array(10).fill(1)]);
    // a model's series is the mean of its members' own reductions
    const members = await Promise.all([1, 2, 3].map((m) => reduce("yearmonmean,fldmean", ["185001-185912", "186001-186912"].map((t) => `${ROOT}netcdf/reduce/noleap/tas_Amon_GEN-A_historical_r${m}i1p1_${t}.nc`), { variable: "tas" })));
    const a = r.groups[0].values, b = r.groups[1].values;
    for (let y = 0; y < 20; y++) expect(a[y]).toBeCloseTo(members.reduce((s, m) => s + m.field.data[y], 0) / 3, 10);
    // across models: where both have the year, their mean and population spread; after 1859, GEN-A alone
    for (let y = 0; y < 10; y++) {
      expect(r.ensemble.mean[y]).toBeCloseTo((a[y] + b[y]) / 2, 10);
      expect(r.ensemble.std[y]).toBeCloseTo(Math.abs(a[y] - b[y]) / 2, 10);
      expect(r.ensemble.p10[y]).toBe(Math.min(a[y], b[y]));
      expect(r.ensemble.p90[y]).toBe(Math.max(a[y], b[y]));
    }
    expect(r.ensemble.mean[15]).toBe(a[15]);
    expect(r.ensemble.std[15]).toBe(0);
    const csv = archiveCSV(r, ["model"]).trim().split("\n");
    expect(csv[0]).toBe("model,members,label,value");
    expect(csv).toContain(`GEN-B,1,1855,${b[5]}`);
    expect(csv.filter((l) => l.startsWith("ensemble-mean,"))).toHaveLength(20);
  });

  it("refuses what cannot be compared", async () => {
    await expect(reduceArchive("timmean", generated(), { variable: "tas" })).rejects.toThrow(/need one grid \(reduce to a field mean/);
    await expect(reduceArchive("timmean", generated(), { variable: "pr" })).rejects.toThrow(/no dataset of the query has variable pr/);
    await expect(reduceArchive("ensmean", generated(), { variable: "tas" })).rejects.toThrow(/--ensemble/);
    await expect(reduceArchive("yearmean,fldmean", generated(), { variable: "tas", ensemble: ["mode"] })).rejects.toThrow(/unknown ensemble statistic "mode"/);
  });

  it("from a DRS tree: CMIP6 samples of two models in two calendars", async () => {
    const catalog = await drs.scan(`${ROOT}cmip5-drs/ESMValTool_sample_data`);
    const r = await reduceArchive("yearmonmean,fldmean", catalog.query({ experiment_id: "historical" }), { variable: "ta", by: ["source_id"] });
    expect(r.groups.map((g) => [g.key.source_id, g.labels[0], g.labels.at(-1)])).toEqual([["BCC-CSM2-MR", "1930", "2014"], ["MPI-ESM1-2-HR", "1950", "2014"]]);
    expect(r.cells).toBe(2); // two pressure levels
    expect(r.counts[r.labels.indexOf("1949")]).toBe(1);
    expect(r.counts[r.labels.indexOf("1950")]).toBe(2);
  });
});
