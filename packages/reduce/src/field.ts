/**
 * The horizontal grid and statistics over it: cell areas (from areacella,
 * else exact from the cell bounds, else cos(lat)), and field, zonal and
 * meridional statistics of each time step.
 */
import type { Stat } from "./operators.ts";
import { statOf } from "./stats.ts";
import { ReduceError } from "./errors.ts";
import type { Coordinate } from "./series.ts";

/** Earth's radius as CMIP's areacella and CDO assume (m). */
export const EARTH_RADIUS = 6371000;
const RAD = Math.PI / 180;

/** Where lat and lon are among a variable's dimensions (the last two, in CMIP files). */
export interface Grid {
  lat: Coordinate;
  lon: Coordinate;
  /** Index of the lat and lon dimensions among the dims after time. */
  latDim: number;
  lonDim: number;
}

const isLat = (c?: Coordinate) => !!c && (c.attrs.standard_name === "latitude" || c.attrs.units === "degrees_north" || c.attrs.axis === "Y" || /^lat(itude)?$/i.test(c.name));
const isLon = (c?: Coordinate) => !!c && (c.attrs.standard_name === "longitude" || c.attrs.units === "degrees_east" || c.attrs.axis === "X" || /^lon(gitude)?$/i.test(c.name));

/** The lat-lon grid of dims (after time), or an error naming what is missing. */
export function findGrid(dims: string[], coords: Record<string, Coordinate>, what: string): Grid {
  const latDim = dims.findIndex((d) => isLat(coords[d])), lonDim = dims.findIndex((d) => isLon(coords[d]));
  if (latDim < 0 || lonDim < 0) throw new ReduceError(`${what} needs a regular latitude-longitude grid: no ${latDim < 0 ? "latitude" : "longitude"} coordinate among (${dims.join(", ")}); curvilinear grids need their cell areas (areacello)`);
  if (lonDim !== dims.length - 1 || latDim !== dims.length - 2) throw new ReduceError(`${what}: latitude and longitude must be the last two dimensions, as in CMIP files (dims: ${dims.join(", ")})`);
  return { lat: coords[dims[latDim]], lon: coords[dims[lonDim]], latDim, lonDim };
}

/** Edges of cells from their bounds, or halfway between centres (clipped to the poles for latitude). */
function edges(c: Coordinate, clip: boolean): [Float64Array, Float64Array] {
  const n = c.values.length, lo = new Float64Array(n), hi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (c.bounds) (lo[i] = Math.min(c.bounds[2 * i], c.bounds[2 * i + 1])), (hi[i] = Math.max(c.bounds[2 * i], c.bounds[2 * i + 1]));
    else {
      const prev = i > 0 ? c.values[i - 1] : 2 * c.values[0] - c.values[1];
      const next = i < n - 1 ? c.values[i + 1] : 2 * c.values[n - 1] - c.values[n - 2];
      (lo[i] = Math.min((prev + c.values[i]) / 2, (next + c.values[i]) / 2)), (hi[i] = Math.max((prev + c.values[i]) / 2, (next + c.values[i]) / 2));
    }
    if (clip) (lo[i] = Math.max(-90, lo[i])), (hi[i] = Math.min(90, hi[i]));
  }
  return [lo, hi];
}

export type AreaMethod = "areacella" | "bounds" | "cos-lat" | "cdo";

/**
 * Cell areas (m², [lat, lon] flat): exact for lon-lat cells from their bounds,
 * R²·Δλ·(sin φ1 − sin φ0) (CF §7.2); with `cdo`, as CDO computes them, each
 * cell a spherical quadrilateral with great-circle edges; with `cos-lat`,
 * cos(latitude)·Δλ (relative weights, not m²).
 */
export function cellAreas(grid: Grid, method: Exclude<AreaMethod, "areacella">): Float64Array {
  const ny = grid.lat.values.length, nx = grid.lon.values.length;
  const out = new Float64Array(ny * nx);
  const [y0, y1] = edges(grid.lat, true), [x0, x1] = edges(grid.lon, false);
  for (let i = 0; i < ny; i++) {
    for (let k = 0; k < nx; k++) {
      const dl = (x1[k] - x0[k]) * RAD;
      out[i * nx + k] = method === "bounds" ? EARTH_RADIUS ** 2 * dl * (Math.sin(y1[i] * RAD) - Math.sin(y0[i] * RAD))
        : method === "cos-lat" ? Math.cos(grid.lat.values[i] * RAD) * dl
        : EARTH_RADIUS ** 2 * (triangle(x0[k], y0[i], x1[k], y0[i], x1[k], y1[i]) + triangle(x0[k], y0[i], x1[k], y1[i], x0[k], y1[i]));
    }
  }
  return out;
}

/** The area of a spherical triangle on the unit sphere with great-circle edges (Van Oosterom & Strackee). */
function triangle(l1: number, p1: number, l2: number, p2: number, l3: number, p3: number): number {
  const v = (l: number, p: number) => [Math.cos(p * RAD) * Math.cos(l * RAD), Math.cos(p * RAD) * Math.sin(l * RAD), Math.sin(p * RAD)];
  const a = v(l1, p1), b = v(l2, p2), c = v(l3, p3);
  const dot = (x: number[], y: number[]) => x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
  const triple = a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]);
  return Math.abs(2 * Math.atan2(triple, 1 + dot(a, b) + dot(b, c) + dot(c, a)));
}

/**
 * A statistic over the grid of every step: `data` is [steps, layers, lat, lon]
 * (layers: whatever dims come between time and lat, e.g. plev); the result is
 * [steps, layers, 1, 1] (field), [steps, layers, lat, 1] (along lon) or
 * [steps, layers, 1, lon] (along lat). Weights are cell areas [lat, lon];
 * missing cells are left out and the weights of the others renormalised.
 */
export function gridStat(data: ArrayLike<number>, steps: number, layers: number, ny: number, nx: number, stat: Stat, over: "field" | "lon" | "lat", areas: Float64Array | undefined, minValid = 0): Float64Array {
  const outer = steps * layers;
  const [groups, size] = over === "field" ? [1, ny * nx] : over === "lon" ? [ny, nx] : [nx, ny];
  const out = new Float64Array(outer * groups);
  // means add up as they go, in statOf's order; other statistics gather the valid values first
  const mean = stat === "mean" || stat === "avg";
  const values = new Float64Array(size), weights = new Float64Array(size);
  for (let o = 0; o < outer; o++) {
    const base = o * ny * nx;
    for (let g = 0; g < groups; g++) {
      let n = 0, s = 0, ws = 0;
      for (let m = 0; m < size; m++) {
        const cell = over === "field" ? m : over === "lon" ? g * nx + m : m * nx + g;
        const v = data[base + cell];
        if (v !== v) continue;
        const w = over === "lon" || !areas ? 1 : areas[cell];
        if (mean) (s += w * v), (ws += w);
        else (values[n] = v), (weights[n] = w);
        n++;
      }
      out[o * groups + g] = n === 0 || n < minValid * size || (stat === "avg" && n < size) ? NaN : mean ? s / ws : statOf(values, weights, n, stat, size);
    }
  }
  return out;
}
