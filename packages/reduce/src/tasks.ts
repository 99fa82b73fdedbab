/**
 * The part of a reduction an engine does: read a piece of a series (a slab of
 * time steps, of one member or of every member at once), combine members,
 * take field statistics of each step, and accumulate time groups. What comes
 * back is small: group accumulators, or one value per step and layer.
 */
import { task } from "@meridian/cluster/task";
import { open, type NDArray } from "@meridian/io";
import { accumulate, type GroupAcc } from "./accumulate.ts";
import { ensembleStat } from "./ensemble.ts";
import { gridStat } from "./field.ts";
import type { Stat } from "./operators.ts";

/** Steps [start, start + count) of a file. */
export interface Slab {
  path: string;
  start: number;
  count: number;
}

export interface Piece {
  /** Position in the plan: results merge in this order. */
  index: number;
  variable: string;
  /** Per member, the slabs that make up this piece's steps, in order. */
  members: Slab[][];
  steps: number;
  /** Values per step as read. */
  cells: number;
  ensemble?: { stat: Stat; param?: number };
  /** Field statistics of each step, in order, on [layers, ny, nx]. */
  field?: { stat: Stat; over: "field" | "lon" | "lat"; layers: number; ny: number; nx: number }[];
  /** Cell areas [ny, nx] for the field statistics. */
  areas?: Float64Array;
  minValid?: number;
  /** Time accumulation: each step's group (in the plan) and weight. */
  time?: { stat: Stat; groupOf: Int32Array; weights?: Float64Array };
}

export interface PieceResult {
  index: number;
  /** Without a time stage: the values of each step, [steps, cells after the field statistics]. */
  values?: Float64Array;
  groups?: GroupAcc[];
}

/** Values as float64 with NaN for missing (integer data carry a mask). */
function asFloat64(a: NDArray): Float64Array {
  const out = Float64Array.from(a.data as ArrayLike<number>);
  if (a.mask) for (let i = 0; i < out.length; i++) if (a.mask[i]) out[i] = NaN;
  return out;
}

async function readSlabs(variable: string, slabs: Slab[], steps: number, cells: number): Promise<Float64Array> {
  const out = new Float64Array(steps * cells);
  let at = 0;
  for (const s of slabs) {
    const ds = await open(s.path);
    try {
      const v = ds.variable(variable);
      const sel: Record<string, [number, number]> = { [v.dims[0]]: [s.start, s.start + s.count] };
      out.set(asFloat64(await v.read(sel)), at);
      at += s.count * cells;
    } finally {
      await ds.close();
    }
  }
  return out;
}

export const reducePiece = task(import.meta.url, async function reducePiece(p: Piece): Promise<PieceResult> {
  const read = await Promise.all(p.members.map((slabs) => readSlabs(p.variable, slabs, p.steps, p.cells)));
  let data = p.ensemble ? ensembleStat(read, p.ensemble.stat, p.ensemble.param) : read[0];
  let cells = p.cells;
  for (const f of p.field ?? []) {
    data = gridStat(data, p.steps, f.layers, f.ny, f.nx, f.stat, f.over, f.over === "lon" ? undefined : p.areas, p.minValid);
    cells = f.layers * (f.over === "field" ? 1 : f.over === "lon" ? f.ny : f.nx);
  }
  if (!p.time) return { index: p.index, values: data };
  const groups = new Map<number, GroupAcc>();
  accumulate(data, cells, p.time.stat, p.time.groupOf, p.time.weights, groups);
  return { index: p.index, groups: [...groups.values()] };
});
