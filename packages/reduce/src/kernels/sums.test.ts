import { describe, expect, it } from "vitest";
import { accumulate, arraysPerGroup, type GroupAcc } from "../accumulate.ts";
import { SumArena } from "./sums.ts";

/** Steps × cells of float32 values in the arena's block, some missing, some negative zero. */
function steps(arena: SumArena, steps: number, cells: number, seed: number): Float32Array {
  const x = new Float32Array(arena.block.buffer, arena.block.byteOffset, steps * cells);
  let s = seed;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    x[i] = s % 11 === 0 ? NaN : s % 29 === 0 ? -0 : (s / 2 ** 31 - 0.5) * 10 ** ((s % 7) - 3);
  }
  return x;
}

const bits = (a: Float64Array | undefined) => (a ? Array.from(new BigUint64Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength))) : a);

function expectSameAccs(fast: Map<number, GroupAcc>, plain: Map<number, GroupAcc>) {
  expect([...fast.keys()]).toEqual([...plain.keys()]);
  for (const [k, g] of plain) {
    const f = fast.get(k)!;
    expect([f.steps, f.weight]).toEqual([g.steps, g.weight]);
    expect(bits(f.sum)).toEqual(bits(g.sum));
    expect(bits(f.missing)).toEqual(bits(g.missing));
    expect(bits(f.missingWeight)).toEqual(bits(g.missingWeight));
  }
}

describe("SumArena: time sums by the SIMD kernel", () => {
  // 1003 cells: whole vectors by the kernel, the last 3 by the plain loop
  const cells = 1003, n = 9, groupOf = Int32Array.from({ length: n }, (_, t) => Math.floor(t / 4));
  const weights = Float64Array.from({ length: n }, (_, t) => 28 + (t % 4));

  for (const weighted of [false, true]) {
    it(`gives the plain loops' sums and counts bit for bit${weighted ? ", weighted" : ""}`, () => {
      const arena = SumArena.create(4 * n * cells, 3 * arraysPerGroup("mean", weighted), cells)!;
      const x = steps(arena, n, cells, 7);
      const fast = new Map<number, GroupAcc>(), plain = new Map<number, GroupAcc>();
      accumulate(x, cells, "mean", groupOf, weighted ? weights : undefined, fast, arena);
      accumulate(Float32Array.from(x), cells, "mean", groupOf, weighted ? weights : undefined, plain);
      // the kernel did the work: the accumulators live in the arena
      expect(fast.get(0)!.sum!.buffer).toBe(arena.block.buffer);
      expect(fast.get(0)!.missing.some((m) => m > 0)).toBe(true);
      expectSameAccs(fast, plain);
    });
  }

  it("hands out plain arrays once its room is used, and released ones again", () => {
    const arena = SumArena.create(4 * n * cells, arraysPerGroup("sum", false), cells)!;
    const x = steps(arena, n, cells, 3);
    const fast = new Map<number, GroupAcc>(), plain = new Map<number, GroupAcc>();
    accumulate(x, cells, "sum", groupOf, undefined, fast, arena);
    accumulate(Float32Array.from(x), cells, "sum", groupOf, undefined, plain);
    expect(fast.get(0)!.sum!.buffer).toBe(arena.block.buffer);
    expect(fast.get(1)!.sum!.buffer).not.toBe(arena.block.buffer);
    expectSameAccs(fast, plain);
    const g = fast.get(0)!;
    arena.release(g.sum, g.missing);
    const again = arena.float64(cells);
    expect(again.buffer).toBe(arena.block.buffer);
    expect(again.every((v) => v === 0)).toBe(true);
  });

  it("leaves data outside its memory to the plain loops", () => {
    const arena = SumArena.create(16, 2, cells)!;
    const sum = arena.float64(cells), missing = arena.float64(cells);
    expect(arena.add(new Float32Array(cells), 0, cells, undefined, sum, missing)).toBe(0);
    expect(arena.add(new Float64Array(cells), 0, cells, undefined, sum, missing)).toBe(0);
  });
});
