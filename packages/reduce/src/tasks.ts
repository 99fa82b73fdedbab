/**
 * The part of a reduction an engine does: read a piece of a series (a slab of
 * time steps, of one member or of every member at once), combine members,
 * take field statistics of each step, and accumulate time groups. What comes
 * back is small: group accumulators, or one value per step and layer.
 */
import { task } from "@meridian/cluster/task";
import { open, sizeOf, writeValues, type NcSlot, type NDArray } from "@meridian/io";
import { accumulate, arraysPerGroup, finish, type GroupAcc } from "./accumulate.ts";
import { ensembleStat } from "./ensemble.ts";
import { gridStat } from "./field.ts";
import { SumArena } from "./kernels/sums.ts";
import type { Stat } from "./operators.ts";
import { float32Values } from "./output.ts";

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
  /** Per-step values are final: write them into this file (laid out by the client) from value `first` on, and send back none. */
  write?: { path: string; slot: NcSlot; first: number };
  /**
   * Time accumulation: each step's group (in the plan) and weight. With
   * `finish`, the piece holds whole groups: they are finished here, and the
   * field statistics `post` taken of each.
   */
  time?: { stat: Stat; groupOf: Int32Array; weights?: Float64Array; finish?: { post: NonNullable<Piece["field"]> } };
}

export interface PieceResult {
  index: number;
  /** Without a time stage (and not written to the output by the engine): the values of each step, [steps, cells after the field statistics]. */
  values?: Float64Array;
  groups?: GroupAcc[];
  /** Whole groups finished: their indices in the plan, and their values [groups, cells]. */
  finished?: { groups: number[]; values: Float64Array };
}

/**
 * Whole groups finished as soon as they are complete, with the field
 * statistics that follow taken of each: their accumulators' room goes back
 * to the arena for the next groups.
 */
class WholeGroups {
  private readonly done: number[] = [];
  private readonly parts: Float64Array[] = [];

  constructor(private readonly p: Piece, private readonly arena?: SumArena) {}

  /** Finishes every group but `keep` (the one still being added to; -1 for none), in order. */
  finishAllBut(groups: Map<number, GroupAcc>, keep: number) {
    const { p } = this;
    for (const [key, g] of groups) {
      if (key === keep) continue;
      let v: Float64Array = finish(g, p.time!.stat, p.minValid);
      for (const f of p.time!.finish!.post) v = gridStat(v, 1, f.layers, f.ny, f.nx, f.stat, f.over, f.over === "lon" ? undefined : p.areas, p.minValid);
      this.done.push(key);
      this.parts.push(v);
      groups.delete(key);
      this.arena?.release(g.sum, g.missing, g.missingWeight);
    }
  }

  result(): PieceResult["finished"] {
    const cells = this.parts[0]?.length ?? 0;
    const values = new Float64Array(this.parts.length * cells);
    this.parts.forEach((v, i) => values.set(v, i * cells));
    return { groups: this.done, values };
  }
}

type Values = Float32Array | Float64Array;

/** Values with NaN for missing: float data as read, integer data (which carry a mask) converted. */
function valuesOf(a: NDArray): Values {
  if (a.data instanceof Float32Array || a.data instanceof Float64Array) return a.data;
  const out = Float64Array.from(a.data as ArrayLike<number>);
  if (a.mask) for (let i = 0; i < out.length; i++) if (a.mask[i]) out[i] = NaN;
  return out;
}

/** Steps read at once: about 4 MiB of float32 values, which stay in the cache while they are decoded and added up. */
const BLOCK_BYTES = 4 << 20;
const blockSteps = (cells: number) => Math.max(1, Math.floor(BLOCK_BYTES / (4 * cells)));

/**
 * The slabs of one member in blocks: values [steps, cells] and where they
 * start in the piece. Blocks are read into `into` (room for a block of any
 * type, 8 bytes a value), else into one buffer per slab; a block is valid until the next is asked for.
 */
async function* readSlabs(variable: string, slabs: Slab[], into?: Uint8Array): AsyncGenerator<[Values, number]> {
  let at = 0;
  for (const s of slabs) {
    const ds = await open(s.path);
    try {
      const v = ds.variable(variable);
      const steps = blockSteps(sizeOf(v.shape.slice(1)));
      for await (const block of v.blocks({ [v.dims[0]]: steps }, { selection: { [v.dims[0]]: [s.start, s.start + s.count] }, reuse: into ?? true })) {
        yield [valuesOf(block), at + block.start[0] - s.start];
      }
      at += s.count;
    } finally {
      await ds.close();
    }
  }
}

/** A member's steps of the piece in one array. */
async function readAll(variable: string, slabs: Slab[], steps: number, cells: number): Promise<Values> {
  const out = new Float64Array(steps * cells);
  for await (const [values, at] of readSlabs(variable, slabs)) out.set(values, at * cells);
  return out;
}

export const reducePiece = task(import.meta.url, async function reducePiece(p: Piece): Promise<PieceResult> {
  const groups = new Map<number, GroupAcc>();
  if (!p.ensemble && !p.field && p.time) {
    // the common case: slabs straight into the accumulators, sums in a SumArena
    const { stat, groupOf, weights, finish } = p.time;
    const steps = blockSteps(p.cells);
    // whole groups are runs of steps: a block's groups and the one going on are all that is open at once
    const live = Math.min(new Set(groupOf).size, finish ? steps + 1 : Infinity);
    const arrays = live * arraysPerGroup(stat, !!weights);
    const arena = arrays ? SumArena.create(8 * steps * p.cells, arrays, p.cells) : undefined;
    const whole = finish && new WholeGroups(p, arena);
    for await (const [values, at] of readSlabs(p.variable, p.members[0], arena?.block)) {
      const n = values.length / p.cells;
      whole?.finishAllBut(groups, groupOf[at]);
      accumulate(values, p.cells, stat, groupOf.subarray(at, at + n), weights?.subarray(at, at + n), groups, arena);
    }
    return accumulated(p, groups, whole);
  }
  const read = await Promise.all(p.members.map((slabs) => readAll(p.variable, slabs, p.steps, p.cells)));
  let data: ArrayLike<number> = p.ensemble ? ensembleStat(read, p.ensemble.stat, p.ensemble.param) : read[0];
  for (const f of p.field ?? []) data = gridStat(data, p.steps, f.layers, f.ny, f.nx, f.stat, f.over, f.over === "lon" ? undefined : p.areas, p.minValid);
  if (!p.time && p.write) {
    await writeValues(p.write.path, p.write.slot, p.write.first, float32Values(data));
    return { index: p.index };
  }
  if (!p.time) return { index: p.index, values: data instanceof Float64Array ? data : Float64Array.from(data) };
  accumulate(data, data.length / p.steps, p.time.stat, p.time.groupOf, p.time.weights, groups);
  return accumulated(p, groups, p.time.finish && new WholeGroups(p));
});

/** A piece's answer: its whole groups finished, or its groups' accumulators. */
function accumulated(p: Piece, groups: Map<number, GroupAcc>, whole: WholeGroups | undefined): PieceResult {
  if (!whole) return { index: p.index, groups: [...groups.values()] };
  whole.finishAllBut(groups, -1);
  return { index: p.index, finished: whole.result() };
}
