import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SelectionError } from "./errors.ts";
import type { Selection } from "./selection.ts";
import { open } from "./open.ts";
import { strides } from "./ndarray.ts";
import { DATASETS } from "./testing.ts";

const TAS = join(DATASETS, "netcdf/geocat-datafiles/tas_rectilinear_grid_2D.nc");

/** Puts blocks back together into one array of the full selection's shape. */
function assemble(blocks: { data: ArrayLike<number>; shape: number[]; start: number[] }[], shape: number[], origin: number[], step: number[]) {
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(NaN);
  const st = strides(shape);
  for (const b of blocks) {
    const bst = strides(b.shape);
    for (let i = 0; i < b.data.length; i++) {
      let flat = 0;
      for (let d = 0; d < shape.length; d++) {
        const local = Math.floor(i / bst[d]) % b.shape[d];
        flat += ((b.start[d] - origin[d]) / step[d] + local) * st[d];
      }
      out[flat] = b.data[i];
    }
  }
  return out;
}

describe("Variable.blocks", () => {
  it("covers the variable exactly once, block by block", async () => {
    const ds = await open(TAS);
    const v = ds.variable("tas");
    const whole = await v.read();
    const blocks = [];
    for await (const b of v.blocks({ time: 5, lat: 40 })) blocks.push({ ...b, data: Float64Array.from(b.data as Float32Array) });
    expect(blocks.map((b) => b.start)).toEqual([
      [0, 0, 0], [0, 40, 0], [0, 80, 0], [5, 0, 0], [5, 40, 0], [5, 80, 0], [10, 0, 0], [10, 40, 0], [10, 80, 0],
    ]);
    expect(blocks.map((b) => b.shape)).toEqual([
      [5, 40, 192], [5, 40, 192], [5, 16, 192], [5, 40, 192], [5, 40, 192], [5, 16, 192], [2, 40, 192], [2, 40, 192], [2, 16, 192],
    ]);
    expect(assemble(blocks, [12, 96, 192], [0, 0, 0], [1, 1, 1])).toEqual(Float64Array.from(whole.data as Float32Array));
    await ds.close();
  });

  it("iterates over a strided selection", async () => {
    const ds = await open(TAS);
    const v = ds.variable("tas");
    const sel: Selection = { time: [1, 12, 3], lon: [5, 100, 7] };
    const whole = await v.read(sel);
    const blocks = [];
    for await (const b of v.blocks({ time: 2 }, { selection: sel })) blocks.push({ ...b, data: Float64Array.from(b.data as Float32Array) });
    expect(blocks.map((b) => b.start[0])).toEqual([1, 7]);
    expect(assemble(blocks, whole.shape, [1, 0, 5], [3, 1, 7])).toEqual(Float64Array.from(whole.data as Float32Array));
    await ds.close();
  });

  it("with reuse, streams the same values through one buffer", async () => {
    const ds = await open(TAS);
    const v = ds.variable("tas");
    const fresh = [];
    for await (const b of v.blocks({ time: 2 })) fresh.push(Array.from(b.data as Float32Array));
    const reused = [];
    const buffers = new Set();
    for await (const b of v.blocks({ time: 2 }, { reuse: true })) {
      reused.push(Array.from(b.data as Float32Array)); // copied: the data is only valid until the next block
      buffers.add((b.data as Float32Array).buffer);
    }
    expect(reused).toEqual(fresh);
    expect(reused.length).toBe(6);
    expect(buffers.size).toBe(1);
    await ds.close();
  });

  it("reads into a buffer it is given, and refuses one too small", async () => {
    const ds = await open(TAS);
    const v = ds.variable("tas");
    const bytes = 2 * 96 * 192 * 4;
    const given = new Uint8Array(new ArrayBuffer(bytes + 16), 8, bytes);
    const fresh = [];
    for await (const b of v.blocks({ time: 2 })) fresh.push(Array.from(b.data as Float32Array));
    const read = [];
    for await (const b of v.blocks({ time: 2 }, { reuse: given })) {
      expect((b.data as Float32Array).buffer).toBe(given.buffer);
      expect((b.data as Float32Array).byteOffset).toBe(8);
      read.push(Array.from(b.data as Float32Array));
    }
    expect(read).toEqual(fresh);
    const small = v.blocks({ time: 2 }, { reuse: given.subarray(0, bytes - 4) });
    await expect(small.next()).rejects.toThrow(/holds 147452 bytes at offset 8; a block takes 147456, 8-byte aligned/);
    await ds.close();
  });

  it("chooses blocks of about 64 MiB (or blockBytes) when given no sizes, and checks its arguments", async () => {
    const ds = await open(TAS);
    const v = ds.variable("tas");
    const all = [];
    for await (const b of v.blocks()) all.push(b.shape);
    expect(all).toEqual([[12, 96, 192]]);
    const small = [];
    for await (const b of v.blocks({}, { blockBytes: 96 * 192 * 4 * 2.5 })) small.push(b.shape);
    expect(small).toEqual([[2, 96, 192], [2, 96, 192], [2, 96, 192], [2, 96, 192], [2, 96, 192], [2, 96, 192]]);
    const rows = [];
    for await (const b of v.blocks({}, { blockBytes: 48 * 192 * 4 })) rows.push([b.start, b.shape]);
    expect(rows.length).toBe(24);
    expect(rows.slice(0, 3)).toEqual([[[0, 0, 0], [1, 48, 192]], [[0, 48, 0], [1, 48, 192]], [[1, 0, 0], [1, 48, 192]]]);
    await expect(v.blocks({ height: 2 }).next()).rejects.toThrow(SelectionError);
    await expect(v.blocks({ time: 0 }).next()).rejects.toThrow(/positive integer/);
    await ds.close();
  });
});
