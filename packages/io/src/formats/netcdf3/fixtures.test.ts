/**
 * Every NetCDF classic file in datasets/ against the values netCDF-C gives
 * (through netCDF4-python; datasets/fixtures/make-expected.py): metadata, whole
 * small variables, random samples and a strided slice, raw and CF-decoded.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { expectNetcdfMetadata, expectNetcdfValues } from "../../netcdf-fixture.test-util.ts";
import { open } from "../../open.ts";
import { classicFiles, DATASETS } from "../../testing.ts";

const EXPECTED = join(DATASETS, "fixtures/expected");

function fixtureFiles(dir = EXPECTED): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? fixtureFiles(join(dir, e.name)) : e.name.endsWith(".json") ? [join(dir, e.name)] : []);
}

describe("the expected values cover every classic file in datasets/", () => {
  it("has a fixture per file", () => {
    const covered = fixtureFiles().map((f) => relative(EXPECTED, f).replace(/\.json$/, "")).sort();
    expect(covered).toEqual(classicFiles());
  });
});

describe.each(fixtureFiles().map((f) => [relative(EXPECTED, f), f]))("%s", (_, fixture) => {
  const exp = JSON.parse(readFileSync(fixture, "utf8"));

  it("has netCDF-C's metadata", async () => {
    const ds = await open(join(DATASETS, exp.file));
    expectNetcdfMetadata(ds, exp);
    await ds.close();
  });

  it("reads netCDF-C's values, raw and decoded", async () => {
    const ds = await open(join(DATASETS, exp.file));
    await expectNetcdfValues(ds, exp);
    await ds.close();
  });
});
