/**
 * Inputs of the reduction benchmark: a monthly CMIP5-like tas series, float32
 * [time, 192, 288] NetCDF classic (64-bit offset), noleap, `files` files of
 * `years` years (member r1; defaults 8 × 94 years = 9024 steps = 2.0 GB),
 * time bounds, lat/lon bounds, a cell missing (1e20) at every step; and a
 * second member r2 of one file, for ensemble means of the first files.
 * Usage: make-reduce-series.ts DIR [files] [years]. Kept if present.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeNetCDF } from "@meridian/io";

const [dir, filesArg, yearsArg] = process.argv.slice(2);
if (!dir) throw new Error("usage: make-reduce-series.ts DIR [files] [years]");
const files = Number(filesArg ?? 8), years = Number(yearsArg ?? 94);
const NY = 192, NX = 288, CELLS = NY * NX;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const lat = Float64Array.from({ length: NY }, (_, i) => -90 + (i + 0.5) * (180 / NY));
const lon = Float64Array.from({ length: NX }, (_, i) => (i + 0.5) * (360 / NX));
const bounds = (c: Float64Array, step: number) => Float64Array.from({ length: 2 * c.length }, (_, k) => c[k >> 1] + (k & 1 ? step / 2 : -step / 2));

mkdirSync(dir, { recursive: true });
const seriesFiles = (member: number) => Array.from({ length: member === 1 ? files : 1 }, (_, f) => {
  const y0 = 1850 + f * years;
  return join(dir, `tas_Amon_BENCH_historical_r${member}i1p1_${y0}01-${y0 + years - 1}12.nc`);
});

for (const member of [1, 2]) {
  for (const [f, path] of seriesFiles(member).entries()) {
    if (existsSync(path)) continue;
    const steps = years * 12, y0 = 1850 + f * years;
    const time = new Float64Array(steps), tb = new Float64Array(2 * steps);
    let day = (y0 - 1850) * 365;
    for (let t = 0; t < steps; t++) {
      const d = DAYS[t % 12];
      (tb[2 * t] = day), (tb[2 * t + 1] = day + d), (time[t] = day + d / 2);
      day += d;
    }
    const data = new Float32Array(steps * CELLS);
    for (let t = 0; t < steps; t++) {
      const season = Math.cos((2 * Math.PI * (t % 12)) / 12);
      for (let i = 0; i < NY; i++) {
        const base = 288 - 30 * Math.sin((lat[i] * Math.PI) / 180) ** 2 + 8 * season * Math.sin((lat[i] * Math.PI) / 180) + 0.01 * (f * steps + t) / 12 + member * 0.1;
        for (let k = 0; k < NX; k++) data[t * CELLS + i * NX + k] = base + Math.sin(k * 0.1 + t * 0.7 + member);
      }
      data[t * CELLS + 100] = 1e20; // one cell missing at every step
    }
    await writeNetCDF(path, {
      dims: { time: steps, bnds: 2, lat: NY, lon: NX },
      unlimited: "time",
      attrs: { Conventions: "CF-1.4", project_id: "CMIP5", model_id: "BENCH", experiment_id: "historical", frequency: "mon" },
      variables: [
        { name: "time", dims: ["time"], dtype: "float64", attrs: { units: "days since 1850-01-01 00:00:00", calendar: "noleap", bounds: "time_bnds", axis: "T", standard_name: "time" }, data: time },
        { name: "time_bnds", dims: ["time", "bnds"], dtype: "float64", data: tb },
        { name: "lat", dims: ["lat"], dtype: "float64", attrs: { units: "degrees_north", bounds: "lat_bnds", axis: "Y", standard_name: "latitude" }, data: lat },
        { name: "lat_bnds", dims: ["lat", "bnds"], dtype: "float64", data: bounds(lat, 180 / NY) },
        { name: "lon", dims: ["lon"], dtype: "float64", attrs: { units: "degrees_east", bounds: "lon_bnds", axis: "X", standard_name: "longitude" }, data: lon },
        { name: "lon_bnds", dims: ["lon", "bnds"], dtype: "float64", data: bounds(lon, 360 / NX) },
        { name: "tas", dims: ["time", "lat", "lon"], dtype: "float32", attrs: { standard_name: "air_temperature", units: "K", cell_methods: "time: mean", _FillValue: 1e20, missing_value: { dtype: "float32", value: 1e20 } }, data },
      ],
    }, { format: "cdf2" });
    console.log(`wrote ${path}`);
  }
}
