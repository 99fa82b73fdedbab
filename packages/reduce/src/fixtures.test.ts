/**
 * Every operator against what CDO 2.1.1 and xarray computed on the same files
 * (datasets/fixtures/expected-reduce, made by make-expected-reduce.py).
 *
 * Tolerances: 1e-6 relative against both, for values CDO wrote as float32;
 * half a packing step against CDO's packed int16 output (CDO re-packs results
 * of packed input; we write floats). Field statistics match CDO with
 * `cdoCompat` (its great-circle cell areas) and xarray without (exact areas):
 * the two differ by up to 0.06 K on these 15-degree grids.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TimeAxis } from "@meridian/io";
import { reduce, type ReduceOptions } from "./index.ts";
import type { Field } from "./evaluate.ts";
import { cellAreas, findGrid } from "./field.ts";
import { openSeries } from "./series.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DIR = `${ROOT}datasets/fixtures/expected-reduce/`;
const load = (name: string) => JSON.parse(readFileSync(DIR + name, "utf8"));

interface Expected {
  dims: string[];
  shape: number[];
  values: (number | null)[];
  time?: number[] | null;
  time_bnds?: [number, number][] | null;
  packing?: { scale_factor: number; add_offset: number } | null;
}

/** The steps of a result in the years [a, b] (the fixtures of full-size results keep only those). */
function select(f: Field, years: [number, number] | null): { data: Float64Array; time: number[]; bounds?: number[] } {
  const cells = f.data.length / f.time.length;
  const keep = Array.from(f.time, (_, t) => t).filter((t) => !years || (f.axis.dateOf(f.time[t]).year >= years[0] && f.axis.dateOf(f.time[t]).year <= years[1]));
  const data = new Float64Array(keep.length * cells);
  keep.forEach((t, i) => data.set(f.data.subarray(t * cells, (t + 1) * cells), i * cells));
  return { data, time: keep.map((t) => f.axis.value(f.time[t])), bounds: f.timeBounds && keep.flatMap((t) => [f.axis.value(f.timeBounds![2 * t]), f.axis.value(f.timeBounds![2 * t + 1])]) };
}

function compare(ours: Float64Array, want: Expected, tolerance: (w: number) => number, label: string) {
  expect(ours.length, `${label}: values`).toBe(want.values.length);
  let worst = 0, at = -1;
  for (let i = 0; i < ours.length; i++) {
    const w = want.values[i];
    if (w === null) {
      expect(ours[i], `${label}: value ${i} should be missing`).toBeNaN();
      continue;
    }
    expect(ours[i], `${label}: value ${i} should be ${w}`).not.toBeNaN();
    const excess = Math.abs(ours[i] - w) - tolerance(w);
    if (excess > worst) (worst = excess), (at = i);
  }
  expect(at, `${label}: value ${at} is ${ours[at]}, expected ${want.values[at]}`).toBe(-1);
}

const cases = readdirSync(DIR).filter((n) => !n.startsWith("gridarea") && n !== "calendars.json").sort();

describe("operators against CDO and xarray", () => {
  for (const name of cases) {
    const fx = load(name);
    it(`${fx.case}: ${fx.op}`, async () => {
      const op = String(fx.op).replace(/:/g, ",");
      const files: string[] = fx.inputs.filter((p: string) => !/areacell/.test(p)).map((p: string) => ROOT + p);
      const area = fx.inputs.find((p: string) => /areacell/.test(p));
      const inputs = fx.members ? fx.members.map((m: string[]) => m.map((p) => ROOT + p)) : files;
      const base: ReduceOptions = { variable: fx.var, area: area && ROOT + area };
      const field = /fld|mermean/.test(op);
      const years = fx.select_years as [number, number] | null;
      // (anomalies are small differences of float32 values near 300 K: their float32 resolution, 3e-5, on top)
      const rel = (w: number) => 1e-6 * Math.abs(w) + (op === "ymonsub" ? 3e-5 : 1e-9);
      // CDO: its own cell areas for field statistics (unless the areacella was in its file)
      const cdo = select((await reduce(op, inputs, { ...base, cdoCompat: field && !area })).field, years);
      const packing = fx.cdo.packing;
      compare(cdo.data, fx.cdo, packing ? (w) => packing.scale_factor / 2 + rel(w) : rel, `${fx.case} vs CDO`);
      if (fx.cdo.time) expect(cdo.time, `${fx.case}: time stamps as CDO's`).toEqual(fx.cdo.time);
      if (fx.cdo.time_bnds) expect(cdo.bounds, `${fx.case}: time bounds as CDO's`).toEqual(fx.cdo.time_bnds.flat());
      if (fx.xarray) {
        const xr = field && !area ? select((await reduce(op, inputs, base)).field, years) : cdo;
        compare(xr.data, fx.xarray, rel, `${fx.case} vs xarray`);
      }
    });
  }
});

describe("cell areas against CDO's gridarea", () => {
  for (const name of readdirSync(DIR).filter((n) => n.startsWith("gridarea")).sort()) {
    const fx = load(name);
    it(fx.case, async () => {
      const variable = String(fx.inputs[0]).split("/").pop()!.split("_")[0]; // (the fixture's var is CDO's cell_area)
      const s = await openSeries([ROOT + fx.inputs[0]], variable);
      const grid = findGrid(s.dims.slice(-2), s.coords, "gridarea");
      compare(cellAreas(grid, "cdo"), fx.cdo, (w) => 1e-6 * w, `${fx.case}: CDO's areas`);
    });
  }
});

describe("calendars against cftime", () => {
  const cal = load("calendars.json");
  it("num2date: every calendar, unit and value, or the same refusal", () => {
    for (const c of cal.num2date) {
      if (c.error) {
        expect(() => new TimeAxis(c.units, c.calendar), `${c.calendar} ${c.units}`).toThrow();
        continue;
      }
      const axis = new TimeAxis(c.units, c.calendar);
      c.values.forEach((v: number, i: number) => {
        const d = axis.date(v);
        const [y, mo, da, h, mi, s, us] = c.dates[i];
        expect([d.year, d.month, d.day, d.hour, d.minute, Math.round(d.second * 1e6)], `${c.calendar} ${c.units} ${v}`).toEqual([y, mo, da, h, mi, s * 1e6 + us]);
      });
    }
  });

  it("days in each month, and dates back to numbers", () => {
    for (const c of cal.days_in_month) {
      const axis = new TimeAxis("days since 2000-01-01", c.calendar);
      expect(Array.from({ length: 12 }, (_, m) => axis.calendar.daysInMonth(c.year, m + 1)), `${c.calendar} ${c.year}`).toEqual(c.days);
    }
    for (const c of cal.date2num) {
      if (c.error) {
        expect(() => new TimeAxis(c.units, c.calendar).encode({ year: c.date[0], month: c.date[1], day: c.date[2] }), `${c.calendar} ${c.date}`).toThrow(/does not exist/);
        continue;
      }
      const [year, month, day, hour, minute, second, us] = c.date;
      expect(new TimeAxis(c.units, c.calendar).encode({ year, month, day, hour, minute, second: second + us / 1e6 }), `${c.calendar} ${c.units} ${c.date}`).toBeCloseTo(c.value, 9);
    }
  });
});
