/**
 * Reductions on the generated CMIP5-like series (datasets/netcdf/reduce):
 * the same answer serially and on clusters of 2 and 4 engines, bit for bit;
 * written results that read back; bad input refused with the reason.
 * Agreement with CDO and xarray is checked against their committed outputs
 * in fixtures.test.ts.
 */
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { Cluster } from "@meridian/cluster";
import { open } from "@meridian/io";
import { reduce, ReduceError } from "./index.ts";
import { toCSV, toJSON, writeResult } from "./output.ts";

const DATA = fileURLToPath(new URL("../../../datasets/netcdf/reduce/", import.meta.url));
const member = (r: number) => ["185001-185912", "186001-186912"].map((t) => join(DATA, "noleap", `tas_Amon_GEN-A_historical_r${r}i1p1_${t}.nc`));
const r1 = member(1);

describe("the same result however many engines compute it", () => {
  const chains = ["timmean", "yearmonmean,fldmean", "timstd", "seasmean", "ensmean", "fldmean,yearmean", "ymonmean"];
  const inputsOf = (chain: string) => (chain.startsWith("ens") ? [member(1), member(2), member(3)] : r1);
  let serial: Float64Array[];

  it("serially, in pieces of 7 steps (pieces that split files, and years for climatologies)", async () => {
    serial = [];
    for (const c of chains) {
      const r = await reduce(c, inputsOf(c), { variable: "tas", pieceSteps: 7 });
      expect(r.pieces).toBeGreaterThanOrEqual(20); // (chains by year: whole years per piece)
      serial.push(r.field.data);
    }
    // pieces merged in order give what one piece per file gives, to rounding
    const whole = await reduce("timmean", r1, { variable: "tas" });
    const err = Math.max(...Array.from(whole.field.data, (v, i) => (v === v ? Math.abs(v - serial[0][i]) / Math.abs(v) : 0)));
    expect(err).toBeLessThan(1e-13);
  });

  for (const engines of [2, 4]) {
    it(`on ${engines} engines, bit for bit`, async () => {
      const cluster = await Cluster.start({ engines });
      const client = await cluster.connect();
      try {
        await client.waitForEngines(engines);
        const view = client.loadBalanced();
        for (const [k, c] of chains.entries()) {
          let progress = 0;
          const r = await reduce(c, inputsOf(c), { variable: "tas", pieceSteps: 7, view, onProgress: (done) => (progress = done) });
          expect(progress).toBe(r.pieces);
          expect(r.field.data.length).toBe(serial[k].length);
          const differing = Array.from(r.field.data).findIndex((v, i) => !Object.is(v, serial[k][i]));
          expect(differing, `${c}: first differing value`).toBe(-1);
        }
      } finally {
        client.close();
        await cluster.stop();
      }
    });
  }
});

describe("results written", () => {
  let dir: string;
  afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

  it("as CF NetCDF: float values with one fill, time bounds, cell_methods, history naming the files", async () => {
    dir = await mkdtemp(join(tmpdir(), "meridian-reduce-"));
    const r = await reduce("yearmonmean", r1, { variable: "tas" });
    const path = join(dir, "out.nc");
    await writeResult(path, r.field, { command: "test yearmonmean", files: r1 }, r.series[0].globalAttrs);
    const ds = await open(path);
    try {
      const tas = ds.variable("tas");
      expect(tas.dtype).toBe("float32");
      expect(tas.attrs.cell_methods).toBe("time: mean time: mean (weighted by days in month)");
      expect(tas.attrs._FillValue).toBe(Math.fround(1e20));
      const back = (await tas.read()).data as Float32Array;
      const f = r.field.data;
      expect(back.length).toBe(f.length);
      for (let i = 0; i < f.length; i++) expect(Number.isNaN(back[i]) ? NaN : back[i]).toBe(Number.isNaN(f[i]) ? NaN : Math.fround(f[i]));
      expect(Array.from((await ds.variable("time").read()).data as Float64Array)).toEqual(Array.from(r.field.time, (t) => r.field.axis.value(t)));
      expect(ds.variable("time").attrs).toMatchObject({ units: "days since 1850-01-01 00:00:00", calendar: "noleap", bounds: "time_bnds" });
      const bnds = (await ds.variable("time_bnds").read()).data as Float64Array;
      expect([bnds[0], bnds[1], bnds[2]]).toEqual([0, 365, 365]); // whole noleap years
      expect(String(ds.attrs.history)).toContain("tas_Amon_GEN-A_historical_r1i1p1_186001-186912.nc");
      expect(ds.attrs.model_id).toBe("GEN-A");
    } finally {
      await ds.close();
    }
  });

  it("step by step, by the engines straight into the file: what the client writes from the result", async () => {
    const members = [member(1), member(2), member(3)];
    const cluster = await Cluster.start({ engines: 2 });
    const client = await cluster.connect();
    try {
      await client.waitForEngines(2);
      for (const chain of ["ensmean", "ensstd,fldmean"]) {
        const direct = join(dir, `direct-${chain}.nc`), after = join(dir, `after-${chain}.nc`);
        const provenance = { command: `test ${chain}`, files: members.flat() };
        const r = await reduce(chain, members, { variable: "tas", pieceSteps: 7, view: client.loadBalanced(), output: { path: direct, provenance } });
        expect(r.pieces).toBeGreaterThan(3);
        expect(r.field.data.length).toBe(0); // (the values never came back)
        const whole = await reduce(chain, members, { variable: "tas" });
        await writeResult(after, whole.field, provenance, whole.series[0].globalAttrs);
        const [a, b] = await Promise.all([open(direct), open(after)]);
        try {
          expect(a.variable("tas").shape).toEqual(b.variable("tas").shape);
          expect(a.variable("tas").attrs).toEqual(b.variable("tas").attrs);
          const [x, y] = await Promise.all([a.variable("tas").read(), b.variable("tas").read()]);
          expect(Array.from(x.data as Float32Array)).toEqual(Array.from(y.data as Float32Array));
          expect(Array.from((await a.variable("time_bnds").read()).data as Float64Array)).toEqual(Array.from((await b.variable("time_bnds").read()).data as Float64Array));
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      }
      expect(readdirSync(dir).filter((f) => f.includes(".part"))).toEqual([]);
      // a result that cannot be written costs the work, leaves nothing, and names the place
      await expect(reduce("ensmean", members, { variable: "tas", view: client.loadBalanced(), output: { path: join(dir, "no", "such.nc"), provenance: { command: "x", files: [] } } })).rejects.toThrow(/no[/\\]such\.nc/);
      expect(readdirSync(dir).filter((f) => f.includes(".part") || f.includes(".tmp"))).toEqual([]);
    } finally {
      client.close();
      await cluster.stop();
    }
  });

  it("as tidy CSV and JSON, missing values empty or null", async () => {
    const r = await reduce("timmean", r1, { variable: "tas" });
    const csv = toCSV(r.field).trim().split("\n");
    expect(csv[0]).toBe("time,time_start,time_end,lat,lon,tas");
    expect(csv.length).toBe(1 + 12 * 24);
    expect(csv[1]).toMatch(/^1860-01-01T00:00:00,1850-01-01T00:00:00,1870-01-01T00:00:00,-82.5,/); // the middle of 240 months
    const json = toJSON(r.field);
    expect(json.shape).toEqual([1, 12, 24]);
    expect(json.values.length).toBe(288);
    // the cell missing at every step stays missing
    expect(json.values.filter((v) => v === null).length).toBe(Array.from(r.field.data).filter((v) => Number.isNaN(v)).length);
    expect(json.values.some((v) => v === null)).toBe(true);
  });
});

describe("bad input is refused with the reason", () => {
  it("unknown operators, variables, parameters", async () => {
    await expect(reduce("timmeen", r1, { variable: "tas" })).rejects.toThrow(/unknown operator "timmeen"; did you mean timmean/);
    await expect(reduce("enspctl", r1, { variable: "tas" })).rejects.toThrow(/enspctl needs a percentile/);
    await expect(reduce("timmean,90", r1, { variable: "tas" })).rejects.toThrow(/takes none/);
    await expect(reduce("timmean", r1, { variable: "ts" })).rejects.toThrow(/no variable "ts"; did you mean "tas"/);
  });

  it("files that do not make one series", async () => {
    await expect(reduce("timmean", [r1[1], r1[0]], { variable: "tas" })).rejects.toThrow(/time goes back or repeats .* in time order/);
    await expect(reduce("timmean", [r1[0], r1[0]], { variable: "tas" })).rejects.toThrow(ReduceError);
    const other = join(DATA, "360day", "tas_Amon_GEN-B_historical_r1i1p1_185001-185912.nc");
    await expect(reduce("timmean", [r1[0], other], { variable: "tas" })).rejects.toThrow(/calendar 360_day differs from noleap/);
  });

  it("cell areas that do not fit: no area variable, another grid (naming the file)", async () => {
    await expect(reduce("fldmean", r1, { variable: "tas", area: r1[0] })).rejects.toThrow(/185001-185912\.nc: no cell area variable/);
    const other = join(DATA, "360day", "areacella_fx_GEN-B_historical_r0i0p0.nc");
    await expect(reduce("fldmean", r1, { variable: "tas", area: other })).rejects.toThrow(/areacella_fx_GEN-B_historical_r0i0p0\.nc: areacella has shape \[\d+,\d+\], the grid is \[12, 24\]/);
  });

  it("ensembles: members first in the chain, with the same steps", async () => {
    await expect(reduce("timmean,ensmean", [member(1), member(2)], { variable: "tas" })).rejects.toThrow(/ensmean must come first/);
    await expect(reduce("timmean", [member(1), member(2)], { variable: "tas" })).rejects.toThrow(/2 members given/);
    await expect(reduce("ensmean", [member(1), [member(2)[0]]], { variable: "tas" })).rejects.toThrow(/time steps differ/);
  });
});
