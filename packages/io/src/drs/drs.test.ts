/**
 * DRS scanning against intake-esm's own expected catalog of its sample tree,
 * and against generated trees with every layout and planted problems.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DATASETS } from "../testing.ts";
import { Catalog, checkFiles, parseCSV, scan, userTemplate } from "./index.ts";
import { compareStarts, continuity, parseTimeRange, rangeDigits } from "./timerange.ts";

const INTAKE = join(DATASETS, "cmip5-drs/intake-esm");

/**
 * Where intake-esm's sample catalog (sample-catalogs/cmip5-netcdf.csv) is not
 * what its tree says, and why we follow the tree:
 * - `activity` is "CMIP5" there (the files' project_id), "cmip5" in the path;
 * - `institute` is "ncar" in 17 rows whose path names another institute
 *   (BNU, CMCC, FIO, IPSL, MOHC, NCC, NSF-DOE-NCAR): edited by hand;
 * - FIO-ESM esmHistorical is under `FIO/fio-esm/` on disk, `FIO/FIO-ESM/` in the CSV;
 * - HadGEM2-AO rcp85 tasmax is one row there (`*.nc`, 200511-210012) for two files.
 */
const DEPARTURES = {
  activity: (expected: string, ours: string) => expected.toLowerCase() === ours,
  institute: (expected: string, ours: string, path: string) => expected === ours || (expected === "ncar" && path.includes(`/${ours}/`)),
  path: (expected: string) => expected.replace("/FIO/FIO-ESM/esmHistorical/", "/FIO/fio-esm/esmHistorical/"),
};

describe("intake-esm's sample tree", () => {
  it("gives intake-esm's expected catalog, row for row", async () => {
    const catalog = await scan(INTAKE, { project: "cmip5" });
    const [head, ...rows] = parseCSV(readFileSync(join(INTAKE, "sample-catalogs/cmip5-netcdf.csv"), "utf8")).filter((r) => r.length > 1);
    const byPath = new Map(catalog.files.map((f) => [f.path, f]));
    let matched = 0;
    for (const row of rows) {
      const exp = Object.fromEntries(head.map((c, i) => [c, row[i]]));
      const path = DEPARTURES.path(exp.path.replace("./tests/sample_data/cmip/", ""));
      const ours = path.endsWith("*.nc") ? catalog.files.filter((f) => f.path.startsWith(path.slice(0, -4))) : [byPath.get(path)!];
      expect(ours.every(Boolean), path).toBe(true);
      expect(ours.length).toBeGreaterThan(0);
      for (const f of ours) {
        matched++;
        for (const col of ["experiment", "frequency", "model", "modeling_realm", "variable", "ensemble_member"]) expect(f.facets[col], `${col} of ${path}`).toBe(exp[col]);
        expect(DEPARTURES.activity(exp.activity, f.facets.activity), path).toBe(true);
        expect(DEPARTURES.institute(exp.institute, f.facets.institute, f.path), `institute of ${path}`).toBe(true);
      }
      if (ours.length === 1) expect(ours[0].facets.time_range).toBe(exp.time_range);
      else expect(`${ours[0].time!.start}-${ours.at(-1)!.time!.end}`).toBe(exp.time_range); // the glob row spans its files
    }
    // every CMIP5 file of the tree is in the expected catalog, and nothing else
    expect(matched).toBe(catalog.files.length);
    // what does not fit is said
    // (the CMIP6 files are problems too when only CMIP5 layouts are tried)
    expect(catalog.problems.filter((p) => p.severity === "error" && !p.path.startsWith("CMIP6/")).map((p) => p.path).sort()).toEqual(["cmip5/output1/BNU/BNU-ESM/esmControl/mon/ocnBgchem/cfMon/r1i1p1/files/odd_file.nc", "sample-catalogs/cmip5-netcdf.csv", "sample-catalogs/cmip5-netcdf.json"]);
    expect(catalog.problems.find((p) => p.path.endsWith("odd_file.nc"))?.message).toMatch(/drslib files\/ store/);
    expect(catalog.problems.filter((p) => p.kind === "mismatch").map((p) => p.message)).toEqual(expect.arrayContaining([
      expect.stringMatching(/mip_table is "cfMon" in the path but "Omon" in the name/),
      expect.stringMatching(/model is "fio-esm" in the path but "FIO-ESM" in the name/),
    ]));
  });

  it("writes an ESM collection that reads back the same", async () => {
    const catalog = await scan(INTAKE, { project: "cmip5" });
    const again = Catalog.fromCSV(catalog.toCSV());
    expect(again.files.map((f) => [f.path, f.facets])).toEqual(catalog.files.map((f) => [f.path, f.facets]));
    const esm = catalog.toESMCollection("cmip5.csv") as any;
    expect(esm.catalog_file).toBe("cmip5.csv");
    expect(esm.assets).toEqual({ column_name: "path", format: "netcdf" });
    expect(esm.aggregation_control.groupby_attrs).toEqual(["institute", "model", "experiment", "frequency", "modeling_realm"]);
    expect(catalog.toCSV().split("\n")[0]).toBe("activity,product,institute,model,experiment,frequency,modeling_realm,mip_table,ensemble_member,version,variable,time_range,path");
  });

  it("--check: every file's header agrees with its path (CMOR's product \"output\" stands for output1)", async () => {
    const catalog = await scan(INTAKE);
    const found = await checkFiles(catalog);
    expect(found).toEqual([]);
    expect(catalog.files.length).toBe(39);
  });

  it("reads the CMIP6 part with its own facet names", async () => {
    const catalog = await scan(INTAKE, { project: "cmip6" });
    expect(catalog.files).toHaveLength(6);
    const f = catalog.files.find((x) => x.facets.source_id === "MIROC6" && x.facets.experiment_id === "historical")!;
    expect(f.facets).toMatchObject({ mip_era: "CMIP6", activity_id: "CMIP", institution_id: "MIROC", member_id: "r4i1p1f1", table_id: "Amon", variable_id: "prsn", grid_label: "gn", version: "v20190311", time_range: "195001-201412" });
    expect(catalog.datasets().map((d) => d.id)).toContain("CMIP6.CMIP.MIROC.MIROC6.historical.r4i1p1f1.Amon.prsn.gn");
    expect(catalog.toCSV().split("\n")[0]).toBe("mip_era,activity_id,institution_id,source_id,experiment_id,member_id,table_id,variable_id,grid_label,version,time_range,path");
  });
});

describe("generated trees", () => {
  const root = mkdtempSync(join(tmpdir(), "meridian-drs-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const file = (rel: string, content = "CDF\u0001") => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  };
  const link = (target: string, rel: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    symlinkSync(target, join(root, rel));
  };
  const esgf = "cmip5/output1/MOHC/HadGEM2-ES/rcp85/mon/atmos/Amon/r1i1p1";
  // ESGF layout: two versions, `latest` pointing at the older one (BADC's junk-version case), drslib files/ store
  file(`${esgf}/v20110101/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_200512-203011.nc`);
  file(`${esgf}/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_200512-203011.nc`);
  file(`${esgf}/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_203012-205511.nc`);
  file(`${esgf}/v1/pr/pr_Amon_HadGEM2-ES_rcp85_r1i1p1_200512-203011.nc`);
  file(`${esgf}/v20120101/pr/pr_Amon_HadGEM2-ES_rcp85_r1i1p1_200512-203011.nc`); // pr only re-published later
  link("v1", `${esgf}/latest`);
  file(`${esgf}/files/tas_1/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_200512-203011.nc`);
  // a gap, an overlap and a duplicate (.nc4 copy) in one dataset
  const mpi = "cmip5/output1/MPI-M/MPI-ESM-LR/historical/mon/atmos/Amon/r1i1p1/v20120315";
  file(`${mpi}/tas/tas_Amon_MPI-ESM-LR_historical_r1i1p1_185001-189912.nc`);
  file(`${mpi}/tas/tas_Amon_MPI-ESM-LR_historical_r1i1p1_190101-194912.nc`); // gap: 1900 missing
  file(`${mpi}/tas/tas_Amon_MPI-ESM-LR_historical_r1i1p1_194501-200512.nc`); // overlap
  file(`${mpi}/tas/tas_Amon_MPI-ESM-LR_historical_r1i1p1_194501-200512.nc4`); // duplicate
  file(`${mpi}/pr/pr_day_MPI-ESM-LR_historical_r1i1p1_18500101-18501231.nc`); // day table, in a monthly dataset: fine for the name
  // daily files contiguous across a 360-day year end, and an fx file
  file("cmip5/output1/MOHC/HadGEM2-ES/historical/day/atmos/day/r1i1p1/v1/tas/tas_day_HadGEM2-ES_historical_r1i1p1_18591201-18691130.nc");
  file("cmip5/output1/MOHC/HadGEM2-ES/historical/day/atmos/day/r1i1p1/v1/tas/tas_day_HadGEM2-ES_historical_r1i1p1_18691201-18791130.nc");
  file("cmip5/output1/MOHC/HadGEM2-ES/historical/fx/atmos/fx/r0i0p0/v1/areacella/areacella_fx_HadGEM2-ES_historical_r0i0p0.nc");
  // older layouts
  file("old/cmip5/output/CCCma/CanESM2/rcp45/mon/atmos/v1/pr/r2i1p1/pr_Amon_CanESM2_rcp45_r2i1p1_200601-210012.nc");
  file("cmor/IPSL/IPSL-CM5A-LR/rcp45/mon/atmos/tas/r1i1p1/tas_Amon_IPSL-CM5A-LR_rcp45_r1i1p1_200601-230012.nc");
  // CMIP6, with a DCPP member
  file("CMIP6/DCPP/MOHC/HadGEM3-GC31-MM/dcppA-hindcast/s1960-r2i1p1f2/Amon/tas/gn/v20200101/tas_Amon_HadGEM3-GC31-MM_dcppA-hindcast_s1960-r2i1p1f2_gn_196011-197012.nc");
  // planted problems
  file(`${esgf.replace("/mon/", "/monthly/")}/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_200512-203011.nc`); // unknown frequency
  file(`${esgf}/v1/tas/tas-Amon-HadGEM2-ES.nc`); // bad filename
  file(`${esgf}/v1/tas/notes.txt`, "hello"); // not NetCDF
  link("nowhere.nc", `${esgf}/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_205512-208011.nc`); // broken link
  file(`${esgf}/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_2005-2030.nc`); // precision does not fit mon
  file(`${esgf}/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_205512-20801.nc`); // dates of two precisions

  it("reads every layout, and follows `latest` per variable", async () => {
    const c = await scan(root);
    const paths = c.files.map((f) => f.path);
    // tas: latest -> v1 (not the lexically newer v20110101); pr: v1 has it too, latest wins
    expect(paths.filter((p) => p.startsWith(esgf) && p.includes("/tas/"))).toEqual([`${esgf}/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_2005-2030.nc`, `${esgf}/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_200512-203011.nc`, `${esgf}/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_203012-205511.nc`]);
    expect(paths.filter((p) => p.startsWith(esgf) && p.includes("/pr/"))).toEqual([`${esgf}/v1/pr/pr_Amon_HadGEM2-ES_rcp85_r1i1p1_200512-203011.nc`]);
    expect(paths.some((p) => p.includes("/files/"))).toBe(false);
    const t = (p: string) => c.files.find((f) => f.path.startsWith(p))!.template;
    expect(t("old/")).toBe("cmip5-old");
    expect(t("cmor/")).toBe("cmip5-cmor");
    expect(t("CMIP6/")).toBe("cmip6");
    const fx = c.files.find((f) => f.facets.variable === "areacella")!;
    expect(fx.facets).toMatchObject({ frequency: "fx", ensemble_member: "r0i0p0" });
    expect(fx.time).toBeUndefined();
    expect(c.files.find((f) => f.path.startsWith("CMIP6/"))!.facets.member_id).toBe("s1960-r2i1p1f2");
    expect(c.datasets().map((d) => d.id)).toContain("cmip5.output1.MOHC.HadGEM2-ES.rcp85.mon.atmos.Amon.r1i1p1");
  });

  it("lists every problem with its reason, and goes on", async () => {
    const c = await scan(root);
    const at = (fragment: string) => c.problems.filter((p) => p.path.includes(fragment)).map((p) => `${p.kind}: ${p.message}`);
    expect(at("/monthly/")).toEqual([expect.stringMatching(/^layout: its directories fit no known layout/)]);
    expect(at("tas-Amon-HadGEM2-ES.nc")).toEqual([expect.stringMatching(/^layout: its name fits no known DRS filename/)]);
    expect(at("notes.txt")).toEqual(["not-netcdf: not a NetCDF file (.nc)"]);
    expect(at("205512-208011")).toEqual([expect.stringMatching(/^broken-link: a link to nowhere\.nc, which does not exist/)]);
    expect(at("_2005-2030.nc")).toEqual([expect.stringMatching(/^time: time range 2005-2030 has 4 digits; frequency mon implies 6/)]);
    expect(at("205512-20801.nc")).toEqual(["time: time range 205512-20801 is not two dates of one precision, in order"]);
    expect(c.files.some((f) => f.path.endsWith("205512-20801.nc"))).toBe(false); // an error leaves the file out
    expect(at("190101-194912")).toEqual([expect.stringMatching(/^gap: .*185001-189912 is followed by 190101-194912/)]);
    expect(at("194501-200512.nc4")).toEqual([expect.stringMatching(/^duplicate: the same time range as/)]);
    expect(at("194501-200512.nc").filter((m) => m.startsWith("overlap"))).toEqual([expect.stringMatching(/^overlap: overlaps .*190101-194912\.nc \(190101-194912 and 194501-200512\)/)]);
    // daily files across a 360-day year end are contiguous
    expect(at("18691201-18791130")).toEqual([]);
  });

  it("--check reports files that do not open, with the reader's reason", async () => {
    const c = await scan(root);
    const found = await checkFiles(c);
    expect(found.length).toBe(c.files.length);
    expect(found[0]).toMatchObject({ kind: "check", severity: "error" });
    expect(found[0].message).toMatch(/^cannot be opened: .*(truncated|expected)/);
  });

  it("--check compares a real file's global attributes with its path", async () => {
    const real = readFileSync(join(DATASETS, "netcdf/generated/cmip5-attrs.nc")); // CMOR2's attributes: MOHC HadGEM2-ES rcp85 mon atmos Amon r1i1p1
    const dir = mkdtempSync(join(tmpdir(), "meridian-drs-check-"));
    try {
      const put = (rel: string) => {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), real);
      };
      put("cmip5/output1/MOHC/HadGEM2-ES/rcp85/mon/atmos/Amon/r1i1p1/v1/tas/tas_Amon_HadGEM2-ES_rcp85_r1i1p1_185001-185002.nc");
      put("cmip5/output1/NCC/NorESM1-M/rcp45/mon/atmos/Amon/r2i1p1/v1/tas/tas_Amon_NorESM1-M_rcp45_r2i1p1_185001-185002.nc");
      const c = await scan(dir);
      const found = await checkFiles(c);
      expect(found.filter((p) => p.path.includes("HadGEM2-ES"))).toEqual([]);
      expect(found.filter((p) => p.path.includes("NorESM1-M")).map((p) => p.message)).toEqual([
        'global attribute institute_id is "MOHC" but the path says institute "NCC"',
        'global attribute model_id is "HadGEM2-ES" but the path says model "NorESM1-M"',
        'global attribute experiment_id is "rcp85" but the path says experiment "rcp45"',
        "global attributes realization, initialization_method, physics_version say r1i1p1 but the path says r2i1p1",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a rescan reuses the directories that did not change, and sees the ones that did", async () => {
    const first = await scan(root);
    const again = await scan(root);
    expect(again.files.map((f) => f.path)).toEqual(first.files.map((f) => f.path));
    expect(again.files[0]).toBe(first.files[0]); // the same record: its directory was not read again
    expect(again.problems).toEqual(first.problems);
    const added = `${mpi}/tas/tas_Amon_MPI-ESM-LR_historical_r1i1p1_200601-201012.nc`;
    file(added);
    try {
      const after = await scan(root);
      expect(after.files.map((f) => f.path)).toContain(added);
      expect(after.files.length).toBe(first.files.length + 1);
      const untouched = after.files.find((f) => f.path.startsWith("cmor/"))!;
      expect(untouched).toBe(first.files.find((f) => f.path.startsWith("cmor/")));
      expect((await scan(root, { reuse: false })).files.map((f) => f.path)).toEqual(after.files.map((f) => f.path));
    } finally {
      rmSync(join(root, added));
    }
  });

  it("version policies: newest per file, and all with conflicts", async () => {
    const newest = await scan(root, { versions: "newest-per-file" });
    expect(newest.files.filter((f) => f.path.startsWith(esgf) && f.path.endsWith("tas_Amon_HadGEM2-ES_rcp85_r1i1p1_200512-203011.nc")).map((f) => f.facets.version)).toEqual(["v20110101"]);
    const all = await scan(root, { versions: "all" });
    expect(all.files.filter((f) => f.path.startsWith(esgf) && f.facets.variable === "pr")).toHaveLength(2);
    expect(all.problems.filter((p) => p.kind === "version").map((p) => p.message)).toContain("the same file is in versions v1, v20120101");
  });

  it("takes user templates in ESMValCore's style", async () => {
    file("ethz/rcp45/Amon/tas/CanESM2/r1i1p1/tas_Amon_CanESM2_rcp45_r1i1p1_200601-210012.nc");
    const c = await scan(join(root, "ethz"), { templates: [userTemplate("{exp}/{mip}/{short_name}/{dataset}/{ensemble}", "{short_name}_{mip}_{dataset}_{exp}_{ensemble}*.nc")] });
    expect(c.files).toHaveLength(1);
    expect(c.files[0].facets).toMatchObject({ experiment: "rcp45", mip_table: "Amon", variable: "tas", model: "CanESM2", ensemble_member: "r1i1p1", frequency: "mon", modeling_realm: "atmos" });
    // a model named like a time range, before the file's own: each file keeps its own range, and the series is checked
    for (const t of ["185001-189912", "190001-194912", "195101-200512"]) file(`odd/Amon/tas_Amon_2000-2010_${t}.nc`);
    const odd = await scan(join(root, "odd"), { templates: [{ name: "odd", project: "cmip5", dir: "{mip_table}", file: "{variable}_{mip_table}_{model}_{time_range}.nc" }] });
    expect(odd.files.map((f) => [f.facets.model, f.facets.time_range, f.time?.text])).toEqual(["185001-189912", "190001-194912", "195101-200512"].map((t) => ["2000-2010", t, t]));
    expect(odd.problems.map((p) => p.kind)).toEqual(["gap"]);
  });

  it("queries: values, lists, wildcards, regular expressions, time, models with everything", async () => {
    const c = await scan(root);
    expect(c.query({ model: "HadGEM2-ES", variable: "tas" }).files.every((f) => f.facets.model === "HadGEM2-ES" && f.facets.variable === "tas")).toBe(true);
    expect(c.query({ experiment: "rcp*" }).unique("experiment")).toEqual(["rcp45", "rcp85"]);
    expect(c.query({ variable: ["tas", "pr"], model: /^MPI/ }).unique("variable")).toEqual(["pr", "tas"]);
    expect(c.query({ model: "MPI-ESM-LR", variable: "tas" }, { time: ["1900", "1900"] }).files).toEqual([]); // the gap
    expect(c.query({ model: "MPI-ESM-LR", variable: "tas" }, { time: ["1930", "1950"] }).files.map((f) => f.facets.time_range).sort()).toEqual(["190101-194912", "194501-200512", "194501-200512"]);
    // models that have both tas and pr
    expect(c.query({ frequency: "mon" }, { requireAllOn: { on: ["model"], of: { variable: ["tas", "pr"] } } }).unique("model")).toEqual(["HadGEM2-ES", "MPI-ESM-LR"]);
    expect(c.counts("model")["IPSL-CM5A-LR"]).toBe(1);
    // the same as an arquero table
    const t = await c.toTable();
    expect(t.numRows()).toBe(c.files.length);
    const perModel = t.groupby("model").count().objects() as { model: string; count: number }[];
    expect(Object.fromEntries(perModel.filter((r) => r.model !== null).map((r) => [r.model, r.count]))).toEqual(c.counts("model")); // (CMIP6 rows have source_id instead)
  });
});

describe("time ranges", () => {
  it("parse at any precision, and say how two follow each other", () => {
    expect(parseTimeRange("185001-200512")).toMatchObject({ start: "185001", end: "200512", from: "18500101000000", to: "20051231235959", clim: false });
    expect(parseTimeRange("197901-200012-clim")?.clim).toBe(true);
    expect(parseTimeRange("1850-200512")).toBeUndefined();
    expect(parseTimeRange("2005-1850")).toBeUndefined();
    expect(continuity("1850-1899", "1900-1949")).toBe("contiguous");
    expect(continuity("185001-189912", "190002-194912")).toBe("gap");
    expect(continuity("18500101-18501230", "18510101-18511230")).toBe("contiguous"); // 360-day year
    expect(continuity("18500101-18501231", "18510101-18511231")).toBe("contiguous");
    expect(continuity("18500101-18500228", "18500301-18501231")).toBe("contiguous"); // no-leap February
    expect(continuity("18500101-18500227", "18500301-18501231")).toBe("gap");
    expect(continuity("18520101-18520229", "18520301-18521231")).toBe("contiguous"); // Gregorian leap February
    expect(continuity("18500101-18500614", "18500615-18501231")).toBe("contiguous");
    expect(continuity("185001-189912", "185001-189912")).toBe("duplicate");
    expect(continuity("185001-189912", "189912-194912")).toBe("overlap");
    expect(continuity("1850-1899", "189912-190012")).toBe("overlap"); // mixed precisions compare as instants
    expect(continuity("1850-1899", "190001-190012")).toBe("contiguous"); // (no gap claimed across precisions)
    expect(continuity("185001010000-185001011800", "185001020000-185001031800")).toBe("contiguous");
    expect(["199001-199912", "1850-1899", "185001-185012", "18491231-18500101"].sort(compareStarts)).toEqual(["18491231-18500101", "1850-1899", "185001-185012", "199001-199912"]);
    expect(["185001-185001", "18501-18502", "1850-18501", "185001-185001-clim", "185001-185001-cli"].map(rangeDigits)).toEqual([6, 0, 0, 6, 0]);
  });
});
