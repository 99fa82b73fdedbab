/**
 * A reduction: a chain of operators over one series, or over the members of
 * an ensemble. The plan splits the series into pieces (by file, then slabs of
 * time steps; never by the number of engines), engines or this process
 * compute each piece (tasks.ts), and the results merge in piece order, so the
 * answer is the same, bit for bit, however many engines computed it. What
 * follows the engines' part of the chain is applied here (evaluate.ts).
 */
import type { LoadBalancedView } from "@meridian/cluster";
import { rename, rm } from "node:fs/promises";
import { open, sizeOf as cellsOf, writeNetCDF } from "@meridian/io";
import { merge, type GroupAcc } from "./accumulate.ts";
import { ReduceError } from "./errors.ts";
import { apply, finishGroups, groupedField, timeGroups, type Field } from "./evaluate.ts";
import { cellAreas, findGrid, type AreaMethod } from "./field.ts";
import { parseChain, type Operator } from "./operators.ts";
import { resultSpec, writeResult, type Provenance } from "./output.ts";
import { openSeries, type Series } from "./series.ts";
import { reducePiece, type Piece, type PieceResult, type Slab } from "./tasks.ts";

export interface ReduceOptions {
  variable: string;
  /** A file with the cell areas (areacella) for field statistics. */
  area?: string;
  /** Field statistics with CDO's own cell areas (great-circle cells) instead of exact ones. */
  cdoCompat?: boolean;
  /** A result value is missing unless at least this fraction of its inputs is valid. */
  minValid?: number;
  /** Where the pieces run (default: here, one after the other). */
  view?: LoadBalancedView;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /**
   * Write the result to this file (.nc, .csv or .json; see output.ts). Values
   * computed step by step (ensemble and field statistics with nothing after
   * them) go from the engines straight into a NetCDF file and never travel
   * back: the result's data is then left empty.
   */
  output?: { path: string; provenance: Provenance };
  /** Time steps per piece (default: about 256 MiB of float32 values per member, read in blocks of 4 MiB). */
  pieceSteps?: number;
}

export interface Reduction {
  field: Field;
  /** The series reduced (one per member). */
  series: Series[];
  areaMethod?: AreaMethod;
  pieces: number;
}

/**
 * Reduces `inputs` (the files of one series, or one list of files per
 * member) with the chain `ops` (e.g. "yearmonmean,fldmean").
 */
export async function reduce(ops: string | Operator[], inputs: string[] | string[][], options: ReduceOptions): Promise<Reduction> {
  const chain = typeof ops === "string" ? parseChain(ops) : ops;
  if (options.output && !/\.(nc|csv|json)$/i.test(options.output.path)) throw new ReduceError("write the result to a .nc, .csv or .json file", options.output.path);
  const members = (inputs.length && Array.isArray(inputs[0]) ? inputs : [inputs]) as string[][];
  const series = await Promise.all(members.map((paths) => openSeries(paths, options.variable)));
  const first = series[0];
  chain.slice(1).forEach((op) => {
    if (op.kind === "ensemble") throw new ReduceError(`${op.name} must come first in the chain: members are combined before anything else`);
  });
  if (chain[0].kind === "ensemble") checkMembers(series);
  else if (series.length > 1) throw new ReduceError(`${series.length} members given but ${chain[0].name} takes one series; start the chain with an ens* operator`);

  // The engines' part: members combined, field statistics, then the first time statistic.
  let k = 0;
  const ensemble = chain[0].kind === "ensemble" ? chain[k++] : undefined;
  const fieldOps: Operator[] = [];
  while (chain[k]?.kind === "field") fieldOps.push(chain[k++]);
  const timeOp = chain[k]?.kind === "time" ? chain[k++] : undefined;
  // Groups that are runs of steps (years, months, seasons, days): pieces hold whole groups, so engines
  // finish them and take the field statistics that follow (climatologies gather steps from every piece).
  const whole = !!timeOp && ["year", "month", "season", "day"].includes(timeOp.group!);
  const postOps: Operator[] = [];
  if (whole) while (chain[k]?.kind === "field") postOps.push(chain[k++]);
  const rest = chain.slice(k);

  // What the field looks like after each engine field statistic (no data yet).
  let meta: Field = { variable: options.variable, dims: first.dims, shape: first.shape, data: new Float64Array(0), time: new Float64Array(0), axis: first.axis, coords: first.coords, attrs: first.attrs, cellMethods: [], notes: [] };
  if (ensemble) meta.cellMethods = [`realization: ${ensemble.stat === "pctl" ? `percentile ${ensemble.param}` : ensemble.stat} (${series.length} members)`];
  const needsAreas = chain.some((op) => op.kind === "field" && op.over !== "lon");
  const { areas, method: areaMethod, note } = needsAreas ? await areaWeights(first, options) : { areas: undefined, method: undefined, note: undefined };
  if (note) meta.notes.push(note);
  /** A field statistic as engines run it, on the field as it is at that point. */
  const fieldSpec = (op: Operator) => {
    const grid = findGrid(meta.dims, meta.coords, op.name);
    const ny = meta.shape[grid.latDim], nx = meta.shape[grid.lonDim];
    const spec = { stat: op.stat, over: op.over!, layers: cellsOf(meta.shape) / (ny * nx), ny, nx };
    meta = apply(meta, op, { areas });
    return spec;
  };
  const field = fieldOps.map(fieldSpec);
  const tg = timeOp ? timeGroups({ time: first.time, axis: first.axis }, timeOp) : undefined;
  const beforeTime = meta;
  let post: Piece["field"] = [];
  if (whole) {
    meta = groupedField(meta, first, timeOp!, tg!);
    post = postOps.map(fieldSpec);
  }

  // What a step costs to send back: its values, or its share of the groups' accumulators (sums and missing counts).
  const cellsOut = cellsOf(meta.shape);
  const resultBytesPerStep = whole ? 0 : tg ? (16 * cellsOut * tg.groups.length) / Math.max(1, first.time.length) : 8 * cellsOut;
  const pieces = plan(series, options.pieceSteps, resultBytesPerStep, whole ? tg!.groupOf : undefined).map(([start, slabs], index): Piece => {
    const steps = slabs[0].reduce((s, x) => s + x.count, 0);
    const p: Piece = { index, variable: options.variable, members: slabs, steps, cells: cellsOf(first.shape) };
    if (ensemble) p.ensemble = { stat: ensemble.stat, param: ensemble.param };
    if (field.length) p.field = field;
    if (field.length || post.length) p.areas = areas;
    if (options.minValid) p.minValid = options.minValid;
    if (tg) p.time = { stat: timeOp!.stat, groupOf: tg.groupOf.slice(start, start + steps), weights: tg.weights?.slice(start, start + steps) };
    if (whole) p.time!.finish = { post };
    return p;
  });

  // final values step by step, to a NetCDF file: laid out here, written by the engines
  const direct = options.output && /\.nc$/i.test(options.output.path) && !tg && !rest.length ? options.output : undefined;
  const part = direct && `${direct.path}.part-${process.pid}`;
  // the result of a chain without a time statistic: the field after the engines' part, at every step
  const stepwise = { ...meta, time: first.time, timeBounds: first.timeBounds };
  if (direct) {
    const slot = (await writeNetCDF(part!, resultSpec(stepwise, direct.provenance, first.globalAttrs, true)))[meta.variable];
    let at = 0;
    for (const p of pieces) (p.write = { path: part!, slot, first: at * cellsOut }), (at += p.steps);
  }
  let results: PieceResult[];
  try {
    results = await run(pieces, options);
    if (direct) await rename(part!, direct.path);
  } finally {
    if (part) await rm(part, { force: true });
  }
  if (direct) return { field: stepwise, series, areaMethod, pieces: pieces.length };
  let result: Field;
  if (whole) {
    // whole groups, finished by the engines: values in group order
    const data = new Float64Array(tg!.groups.length * cellsOut);
    for (const r of results) r.finished!.groups.forEach((g, i) => data.set(r.finished!.values.subarray(i * cellsOut, (i + 1) * cellsOut), g * cellsOut));
    result = { ...meta, data };
  } else if (tg) {
    const accs = new Map<number, GroupAcc>();
    for (const r of results) {
      for (const g of r.groups!) {
        const have = accs.get(g.group);
        if (have) merge(have, g, timeOp!.stat);
        else accs.set(g.group, g);
      }
    }
    result = finishGroups(beforeTime, first, timeOp!, tg, accs, options.minValid);
  } else {
    const data = new Float64Array(first.time.length * cellsOut);
    let at = 0;
    for (const r of results) data.set(r.values!, at), (at += r.values!.length);
    result = { ...stepwise, data };
  }
  for (const op of rest) result = apply(result, op, { areas, minValid: options.minValid });
  if (options.output) await writeResult(options.output.path, result, options.output.provenance, first.globalAttrs);
  return { field: result, series, areaMethod, pieces: pieces.length };
}

/** Members must share their time steps (same count, same stamps) and grid. */
function checkMembers(series: Series[]) {
  const a = series[0];
  for (const s of series.slice(1)) {
    const where = s.files[0].path;
    if (s.shape.join() !== a.shape.join()) throw new ReduceError(`grid [${s.shape}] differs from [${a.shape}] of ${a.files[0].path}; members must share a grid`, where);
    if (s.time.length !== a.time.length || s.time.some((t, i) => Math.abs(t - a.time[i]) > 1)) throw new ReduceError(`time steps differ from those of ${a.files[0].path} (${s.time.length} against ${a.time.length}); members must share their time steps`, where);
  }
}

/**
 * Pieces: [first step, slabs per member], split at the first member's file
 * boundaries and so that a piece reads at most 256 MiB and sends back at most
 * 16 MiB (few pieces: each sends back accumulators of the whole grid, which
 * the client merges one by one; small results keep progress and memory even).
 */
function plan(series: Series[], pieceSteps: number | undefined, resultBytesPerStep: number, groupOf?: Int32Array): [number, Slab[][]][] {
  const first = series[0];
  const bytesPerStep = cellsOf(first.shape) * 4 * series.length;
  const maxSteps = Math.max(1, pieceSteps ?? Math.min(Math.floor((256 << 20) / bytesPerStep), resultBytesPerStep ? Math.floor((16 << 20) / resultBytesPerStep) : Infinity));
  const n = first.time.length;
  const cuts: number[] = [];
  if (groupOf) {
    // whole groups: a cut only where a group starts, as many groups as fit (at least one), across files
    const starts = [...Array.from({ length: n }, (_, t) => t).filter((t) => t === 0 || groupOf[t] !== groupOf[t - 1]), n];
    for (let i = 0; i < starts.length - 1;) {
      cuts.push(starts[i]);
      let j = i + 1;
      while (j < starts.length - 1 && starts[j + 1] - starts[i] <= maxSteps) j++;
      i = j;
    }
  } else for (const f of first.files) for (let s = 0; s < f.steps; s += maxSteps) cuts.push(f.offset + s);
  cuts.push(n);
  const out: [number, Slab[][]][] = [];
  for (let i = 0; i + 1 < cuts.length; i++) out.push([cuts[i], series.map((s) => slabsOf(s, cuts[i], cuts[i + 1]))]);
  return out;
}

/** The file slabs of steps [a, b) of a series. */
function slabsOf(s: Series, a: number, b: number): Slab[] {
  const out: Slab[] = [];
  for (const f of s.files) {
    const lo = Math.max(a, f.offset), hi = Math.min(b, f.offset + f.steps);
    if (lo < hi) out.push({ path: f.path, start: lo - f.offset, count: hi - lo });
  }
  return out;
}

async function run(pieces: Piece[], options: ReduceOptions): Promise<PieceResult[]> {
  if (options.view) return options.view.map(reducePiece, pieces, { onProgress: options.onProgress, signal: options.signal });
  const out: PieceResult[] = [];
  for (const p of pieces) {
    options.signal?.throwIfAborted();
    out.push(await reducePiece(p));
    options.onProgress?.(out.length, pieces.length);
  }
  return out;
}

/** Cell areas for field statistics: the given areacella, else exact from the bounds (or CDO's), else cos(lat). */
async function areaWeights(s: Series, options: ReduceOptions): Promise<{ areas: Float64Array; method: AreaMethod; note?: string }> {
  const grid = findGrid(s.dims, s.coords, "field statistics");
  const ny = grid.lat.values.length, nx = grid.lon.values.length;
  if (options.area) {
    const ds = await open(options.area);
    try {
      const name = Object.keys(ds.variables).find((n) => /^areacell/.test(n) || ds.variables[n].attrs.standard_name === "cell_area");
      if (!name) throw new ReduceError(`no cell area variable (areacella, standard_name cell_area) in the file`, options.area);
      const v = ds.variables[name];
      if (v.shape.join() !== [ny, nx].join()) throw new ReduceError(`${name} has shape [${v.shape}], the grid is [${ny}, ${nx}]`, options.area);
      return { areas: Float64Array.from((await v.read()).data as ArrayLike<number>), method: "areacella", note: `area weights: ${name} from ${options.area}` };
    } finally {
      await ds.close();
    }
  }
  if (options.cdoCompat) return { areas: cellAreas(grid, "cdo"), method: "cdo", note: "area weights: CDO's (cells as great-circle quadrilaterals)" };
  if (grid.lat.bounds && grid.lon.bounds) return { areas: cellAreas(grid, "bounds"), method: "bounds", note: "area weights: exact, from the cell bounds" };
  return { areas: cellAreas(grid, "cos-lat"), method: "cos-lat", note: "area weights: cos(latitude), the grid has no cell bounds (warning: approximate)" };
}
