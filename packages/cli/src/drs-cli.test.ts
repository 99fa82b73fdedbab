/** `meridian drs scan|query|problems` as a user runs them, on intake-esm's sample tree. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runMeridian } from "./run.test-util.ts";
import { parseWhere } from "./commands/drs.ts";

const TREE = fileURLToPath(new URL("../../../datasets/cmip5-drs/intake-esm", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "meridian-drs-cli-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const meridian = (...args: string[]) => runMeridian(args);

describe("meridian drs", () => {
  it("scan writes an ESM collection; query reads it back with lists, wildcards, regexes and require-all-on", () => {
    const scan = meridian("drs", "scan", TREE, "--project", "cmip5", "--out", join(out, "cmip5.csv"));
    expect(scan.status).toBe(0);
    expect(scan.stdout).toMatch(/^33 files in 32 datasets \(versions: latest\); \d+ problems/);
    const esm = JSON.parse(readFileSync(join(out, "cmip5.json"), "utf8"));
    expect(esm.catalog_file).toBe("cmip5.csv");
    const csv = readFileSync(join(out, "cmip5.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(34);

    const q = meridian("drs", "query", join(out, "cmip5.json"), "--where", "variable=tasmax|hfls,model=/^CNRM/,experiment=rcp*");
    expect(q.stdout.trim().split("\n").slice(1).map((l) => l.split(",").at(-1))).toEqual(["cmip5/output1/CNRM-CERFACS/CNRM-CM5/rcp85/mon/atmos/Amon/r10i1p1/v20110915/tasmax/tasmax_Amon_CNRM-CM5_rcp85_r10i1p1_205601-210012.nc"]);

    const both = JSON.parse(meridian("drs", "query", TREE, "--project", "cmip5", "--where", "variable=tasmax|hfls", "--require-all-on", "model", "--of", "variable", "--json").stdout);
    const models = [...new Set(both.map((r: any) => r.model))].sort();
    expect(models).toEqual(["CNRM-CM5", "CSIRO-Mk3-6-0", "GISS-E2-H", "IPSL-CM5A-LR"]);
    for (const m of models) expect(new Set(both.filter((r: any) => r.model === m).map((r: any) => r.variable))).toEqual(new Set(["tasmax", "hfls"]));

    const t = JSON.parse(meridian("drs", "query", join(out, "cmip5.csv"), "--where", "model=HadGEM2-AO", "--time", "2005-2005", "--json").stdout);
    expect(t.map((r: any) => r.time_range)).toEqual(["200511-200512"]);
  });

  it("problems lists what does not fit; bad input is a clear error", () => {
    const p = meridian("drs", "problems", TREE, "--project", "cmip5");
    expect(p.stdout).toMatch(/error {3}layout {6}cmip5\/output1\/BNU\/.*\/files\/odd_file\.nc: a file directly in a drslib files\/ store/);
    expect(p.stdout).toMatch(/warning mismatch {4}.*model is "fio-esm" in the path but "FIO-ESM" in the name/);
    const bad = meridian("drs", "query", TREE, "--where", "model");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--where takes facet=value pairs/);
    expect(meridian("drs", "scan", "/no/such/tree").stderr).toMatch(/\/no\/such\/tree: cannot scan: no such directory/);
    expect(meridian("drs", "problems", join(out, "cmip5.csv")).stderr).toMatch(/is a catalog; problems are found by scanning/);
    writeFileSync(join(out, "broken.json"), "{ not json");
    expect(meridian("drs", "query", join(out, "broken.json")).stderr).toMatch(/broken\.json: not an ESM collection/);
    expect(meridian("drs", "scan", TREE, "--versions", "newest").stderr).toMatch(/versions must be latest, newest-per-file or all, not "newest"/);
    expect(meridian("drs", "scan", TREE, "--project", "cmip7").stderr).toMatch(/project must be cmip5, cmip6 or auto, not "cmip7"/);
  });

  it("parses --where", () => {
    expect(parseWhere("model=A,variable=tas|pr,experiment=rcp*,institute=/^M/i")).toEqual({ model: "A", variable: ["tas", "pr"], experiment: "rcp*", institute: /^M/i });
  });
});
