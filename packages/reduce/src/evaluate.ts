/**
 * Operators applied to a field in memory: the result of a reduction so far,
 * [steps, ...dims] in float64 with NaN for missing values. The client applies
 * here what follows the part of a chain that engines compute.
 */
import { sizeOf as cellsOf, type Attrs, type TimeAxis } from "@meridian/io";
import { accumulate, finish, type GroupAcc } from "./accumulate.ts";
import { ReduceError } from "./errors.ts";
import { findGrid, gridStat } from "./field.ts";
import { groupSteps, type TimeGroups } from "./groups.ts";
import type { Operator, Stat } from "./operators.ts";
import type { Coordinate } from "./series.ts";

export interface Field {
  variable: string;
  /** Dimensions after time. */
  dims: string[];
  shape: number[];
  /** [steps, cells] */
  data: Float64Array;
  /** Absolute seconds per step (TimeAxis.seconds), and bounds ([steps, 2]). */
  time: Float64Array;
  timeBounds?: Float64Array;
  /** The bounds are climatology bounds (CF §7.4). */
  climatology?: boolean;
  axis: TimeAxis;
  coords: Record<string, Coordinate>;
  attrs: Attrs;
  /** What was done, as CF cell_methods entries, in order. */
  cellMethods: string[];
  /** Warnings and choices worth a line in `history` (weights used, incomplete seasons). */
  notes: string[];
}

export interface EvalOptions {
  /** Cell areas [lat, lon] for field statistics. */
  areas?: Float64Array;
  /** A cell or group is missing unless at least this fraction of its values is valid (default: one value). */
  minValid?: number;
}

const METHOD: Record<Stat, string> = { mean: "mean", avg: "mean", std: "standard_deviation", std1: "standard_deviation", var: "variance", var1: "variance", min: "minimum", max: "maximum", sum: "sum", pctl: "percentile" };

/** A time operator's groups on a field's steps. */
export const timeGroups = (f: Pick<Field, "time" | "axis">, op: Operator): TimeGroups => groupSteps(f.time, f.axis, op.group!, op.monthWeights);

/**
 * Output time stamps and bounds of groups, as CDO writes them: the middle of
 * the group's steps (the mean of the two middle ones for an even count) and
 * bounds from the first step's start to the last step's end; climatologies
 * take their last step's time.
 */
export function stampGroups(f: Pick<Field, "time" | "timeBounds" | "axis">, groups: TimeGroups["groups"], climatology: "" | "ymon" | "yseas" | "yday"): { time: Float64Array; bounds: Float64Array } {
  const time = new Float64Array(groups.length), bounds = new Float64Array(2 * groups.length);
  groups.forEach((g, i) => {
    const s = g.steps, n = s.length;
    // yseasmean, as CDO: DJF is dated by its last February, a December counting for the next year
    let k = n - 1;
    if (climatology === "yseas") while (k > 0 && f.axis.dateOf(f.time[s[k]]).month === 12) k--;
    time[i] = climatology ? f.time[s[k]] : n % 2 ? f.time[s[(n - 1) / 2]] : (f.time[s[n / 2 - 1]] + f.time[s[n / 2]]) / 2;
    bounds[2 * i] = f.timeBounds ? f.timeBounds[2 * s[0]] : f.time[s[0]];
    bounds[2 * i + 1] = f.timeBounds ? f.timeBounds[2 * s[n - 1] + 1] : f.time[s[n - 1]];
  });
  return { time, bounds };
}

/** Finishes merged group accumulators into a field. */
export function finishGroups(f: Omit<Field, "data" | "time" | "timeBounds">, source: Pick<Field, "time" | "timeBounds">, op: Operator, tg: TimeGroups, accs: Map<number, GroupAcc>, minValid?: number): Field {
  const cells = cellsOf(f.shape);
  const data = new Float64Array(tg.groups.length * cells);
  tg.groups.forEach((_, i) => {
    const g = accs.get(i);
    if (g) finish(g, op.stat, minValid, data.subarray(i * cells, (i + 1) * cells));
    else data.fill(NaN, i * cells, (i + 1) * cells);
  });
  return { ...groupedField(f, source, op, tg), data };
}

/** The field a time operator's groups make, all but its data (time stamps, bounds, cell methods, notes). */
export function groupedField(f: Omit<Field, "data" | "time" | "timeBounds">, source: Pick<Field, "time" | "timeBounds">, op: Operator, tg: TimeGroups): Field {
  const climatology = op.group === "ymon" || op.group === "yseas" || op.group === "yday" ? op.group : "";
  const { time, bounds } = stampGroups({ ...source, axis: f.axis }, tg.groups, climatology);
  const notes = [...f.notes];
  if (op.group === "season") {
    const incomplete = tg.groups.map((g, i) => (g.months < 3 ? i : -1)).filter((i) => i >= 0);
    if (incomplete.length) notes.push(`${op.name}: ${incomplete.length} season(s) with fewer than 3 months (groups ${incomplete.join(", ")})`);
  }
  const method = `time: ${METHOD[op.stat]}${op.monthWeights ? " (weighted by days in month)" : ""}${climatology ? ` within years time: ${METHOD[op.stat]} over years` : ""}`;
  return { ...f, data: new Float64Array(0), time, timeBounds: bounds, climatology: !!climatology, cellMethods: [...f.cellMethods, method], notes };
}

/** Applies one operator to a field in memory. */
export function apply(f: Field, op: Operator, options: EvalOptions = {}): Field {
  const cells = cellsOf(f.shape), steps = f.time.length;
  switch (op.kind) {
    case "time": {
      const tg = timeGroups(f, op);
      const accs = new Map<number, GroupAcc>();
      accumulate(f.data, cells, op.stat, tg.groupOf, tg.weights, accs);
      return finishGroups(f, f, op, tg, accs, options.minValid);
    }
    case "field": {
      const grid = findGrid(f.dims, f.coords, op.name);
      const ny = f.shape[grid.latDim], nx = f.shape[grid.lonDim];
      const layers = cells / (ny * nx);
      const data = gridStat(f.data, steps, layers, ny, nx, op.stat, op.over!, op.over === "lon" ? undefined : options.areas, options.minValid);
      const shape = [...f.shape];
      const coords = { ...f.coords };
      if (op.over !== "lon") (shape[grid.latDim] = 1), (coords[f.dims[grid.latDim]] = collapsed(grid.lat));
      if (op.over !== "lat") (shape[grid.lonDim] = 1), (coords[f.dims[grid.lonDim]] = collapsed(grid.lon));
      const where = op.over === "field" ? "area" : op.over === "lon" ? "longitude" : "latitude";
      return { ...f, data, shape, coords, cellMethods: [...f.cellMethods, `${where}: ${METHOD[op.stat]}`] };
    }
    case "anomaly": {
      // each step minus the mean of its month of the year
      const tg = groupSteps(f.time, f.axis, "ymon");
      const accs = new Map<number, GroupAcc>();
      accumulate(f.data, cells, "mean", tg.groupOf, undefined, accs);
      const clim = tg.groups.map((_, g) => finish(accs.get(g)!, "mean", options.minValid));
      const data = new Float64Array(f.data.length);
      for (let t = 0; t < steps; t++) {
        const c = clim[tg.groupOf[t]];
        for (let j = 0; j < cells; j++) data[t * cells + j] = f.data[t * cells + j] - c[j];
      }
      return { ...f, data, notes: [...f.notes, "anomalies relative to the mean of each month of the year"] };
    }
    case "ensemble":
      throw new ReduceError(`${op.name} combines members: give it several series (files of different members), first in the chain`);
  }
}

/** A coordinate collapsed to one point, as CDO writes fldmean's lon and lat (0, no bounds). */
function collapsed(c: Coordinate): Coordinate {
  return { name: c.name, values: new Float64Array([0]), attrs: c.attrs };
}
