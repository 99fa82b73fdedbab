/**
 * A series: the files of one variable of one dataset (one ensemble member), in
 * time order, described well enough to plan a reduction without reading any
 * data: each file's time steps as absolute seconds (so files whose reference
 * dates differ line up), their bounds, the grid and the variable's attributes.
 */
import { open, TimeAxis, type Attrs, type Dataset, type Variable } from "@meridian/io";
import { ReduceError } from "./errors.ts";

export interface SeriesFile {
  path: string;
  /** Time steps in this file. */
  steps: number;
  /** Index of the file's first step in the series. */
  offset: number;
}

/** A coordinate: values and, when the file has them, bounds ([n, 2] flat). */
export interface Coordinate {
  name: string;
  values: Float64Array;
  bounds?: Float64Array;
  attrs: Attrs;
}

export interface Series {
  variable: string;
  files: SeriesFile[];
  /** The first file's time axis: results are written in its units and calendar. */
  axis: TimeAxis;
  /** Per step: absolute seconds (TimeAxis.seconds) of the stamp, and of its bounds when every file has them. */
  time: Float64Array;
  timeBounds?: Float64Array;
  timeAttrs: Attrs;
  /** Dimensions after time, and their sizes. */
  dims: string[];
  shape: number[];
  /** Coordinates of those dimensions, where the files have them (lat, lon, plev…). */
  coords: Record<string, Coordinate>;
  attrs: Attrs;
  /** The variable's on-disk type. */
  dtype: string;
  /** Global attributes of the first file. */
  globalAttrs: Attrs;
}

const where = (path: string, variable: string) => `${path}: variable ${variable}`;

/** Reads a coordinate variable and its bounds, if the dataset has them. */
async function coordinate(ds: Dataset, name: string): Promise<Coordinate | undefined> {
  const v = ds.variables[name];
  if (!v || v.dims.length !== 1) return undefined;
  const c: Coordinate = { name, values: Float64Array.from((await v.read()).data as ArrayLike<number>), attrs: v.attrs };
  const b = typeof v.attrs.bounds === "string" ? ds.variables[v.attrs.bounds] : undefined;
  if (b && b.shape.length === 2 && b.shape[0] === v.shape[0] && b.shape[1] === 2) c.bounds = Float64Array.from((await b.read()).data as ArrayLike<number>);
  return c;
}

function timeDim(v: Variable, path: string): string {
  const d = v.dims[0];
  const coord = v.dataset.variables[d];
  const isTime = d === "time" || coord?.attrs.axis === "T" || coord?.attrs.standard_name === "time" || (typeof coord?.attrs.units === "string" && / since /.test(coord.attrs.units));
  if (!isTime) throw new ReduceError(`the first dimension of ${v.name} is "${d}", not time (dims: ${v.dims.join(", ")})`, path);
  return d;
}

/** What one file of a series holds: its time axis and steps, its grid, and (for the first) its coordinates. */
interface FileInfo {
  path: string;
  axis: TimeAxis;
  dims: string[];
  shape: number[];
  times: ArrayLike<number>;
  bounds?: ArrayLike<number>;
  first?: Omit<Series, "files" | "time" | "timeBounds">;
}

async function fileInfo(path: string, variable: string, isFirst: boolean): Promise<FileInfo> {
  const ds = await open(path);
  try {
    const v = ds.variable(variable);
    const td = timeDim(v, path);
    const tv = ds.variables[td];
    if (!tv || typeof tv.attrs.units !== "string") throw new ReduceError(`time coordinate "${td}" has no units`, path);
    const axis = new TimeAxis(tv.attrs.units, typeof tv.attrs.calendar === "string" ? tv.attrs.calendar : undefined, where(path, td));
    const dims = v.dims.slice(1), shape = v.shape.slice(1);
    const bv = typeof tv.attrs.bounds === "string" ? ds.variables[tv.attrs.bounds] : undefined;
    const [times, bounds] = await Promise.all([
      tv.read().then((a) => a.data as ArrayLike<number>),
      bv && bv.shape[0] === tv.shape[0] && bv.shape[1] === 2 ? bv.read().then((a) => a.data as ArrayLike<number>) : undefined,
    ]);
    for (let i = 0; i < times.length; i++) if (!Number.isFinite(times[i])) throw new ReduceError(`time value ${i} is missing`, where(path, td));
    const info: FileInfo = { path, axis, dims, shape, times, bounds };
    if (isFirst) {
      const coords: Record<string, Coordinate> = {};
      for (const d of dims) {
        const c = await coordinate(ds, d);
        if (c) coords[d] = c;
      }
      info.first = { variable, axis, timeAttrs: tv.attrs, dims, shape, coords, attrs: v.attrs, dtype: v.dtype, globalAttrs: ds.attrs };
    }
    return info;
  } finally {
    await ds.close();
  }
}

/**
 * Opens the files of one series (all at once: a record variable such as time
 * takes one small read per record) and checks that they fit together: one
 * calendar, one grid, time increasing.
 */
export async function openSeries(paths: string[], variable: string): Promise<Series> {
  if (!paths.length) throw new ReduceError(`no files for ${variable}`);
  const infos = await Promise.all(paths.map((p, i) => fileInfo(p, variable, i === 0)));
  const first = infos[0].first!;
  const files: SeriesFile[] = [];
  const times: number[] = [], bounds: number[] = [];
  for (const f of infos) {
    if (f.axis.calendar.name !== first.axis.calendar.name) throw new ReduceError(`calendar ${f.axis.calendar.name} differs from ${first.axis.calendar.name} of ${paths[0]}; a series has one calendar`, f.path);
    if (f.dims.join() !== first.dims.join() || f.shape.join() !== first.shape.join()) throw new ReduceError(`${variable}(${f.dims.join(", ")}) of shape [${f.shape}] differs from [${first.shape}] of ${paths[0]}; a series has one grid`, f.path);
    files.push({ path: f.path, steps: f.times.length, offset: times.length });
    for (let i = 0; i < f.times.length; i++) times.push(f.axis.seconds(f.times[i]));
    if (f.bounds) for (let i = 0; i < f.bounds.length; i++) bounds.push(f.axis.seconds(f.bounds[i]));
  }
  const time = Float64Array.from(times);
  for (let i = 1; i < time.length; i++) {
    if (time[i] <= time[i - 1]) {
      const f = files.find((x) => x.offset + x.steps > i)!;
      const d = first.axis.dateOf(time[i]);
      throw new ReduceError(`time goes back or repeats at step ${i - f.offset} (${d.year}-${d.month}-${d.day}); give the files of one series in time order, without overlaps`, f.path);
    }
  }
  const hasBounds = infos.every((f) => f.bounds);
  return { ...first, files, time, timeBounds: hasBounds ? Float64Array.from(bounds) : undefined };
}
