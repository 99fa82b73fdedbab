import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { open } from "./open.ts";
import { DATASETS } from "./testing.ts";

const TAS = join(DATASETS, "netcdf/geocat-datafiles/tas_rectilinear_grid_2D.nc");

describe("Dataset.coords", () => {
  it("lists the coordinate variables with their attributes", async () => {
    const ds = await open(TAS);
    expect(Object.keys(ds.coords).sort()).toEqual(["lat", "lon", "time"]);
    expect(ds.coords.time.attrs.units).toMatch(/^days since/);
    expect(ds.coords.lat.attrs.bounds).toBe("lat_bnds");
    const lat = await ds.coords.lat.read();
    expect(lat.shape).toEqual([96]);
    expect((lat.data as Float64Array)[0]).toBeLessThan(-88);
    await ds.close();
  });
});
