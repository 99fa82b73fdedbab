import { describe, expect, it } from "vitest";
import { SelectionError } from "./errors.ts";
import { parseSlice, resolveSelection } from "./selection.ts";

const dims = ["time", "lat", "lon"];
const shape = [12, 96, 192];

describe("parseSlice", () => {
  it("reads numpy-style slices", () => {
    expect(parseSlice("0:12,:,5")).toEqual([[0, 12, null], [null, null, null], 5]);
    expect(parseSlice("::2, -1 ,1:")).toEqual([[null, null, 2], -1, [1, null, null]]);
    expect(parseSlice("")).toEqual([]);
  });
  it("rejects what is not a slice", () => {
    expect(() => parseSlice("a:b")).toThrow(SelectionError);
    expect(() => parseSlice("1:2:3:4")).toThrow(/start:stop:step/);
    expect(() => parseSlice("1,,2")).toThrow(SelectionError);
  });
});

describe("resolveSelection", () => {
  it("takes everything by default", () => {
    expect(resolveSelection(undefined, dims, shape, "v")).toEqual({ start: [0, 0, 0], count: [12, 96, 192], step: [1, 1, 1], keep: [true, true, true] });
  });
  it("selects by name, position list and string alike", () => {
    const byName = resolveSelection({ time: [0, 12, 5], lon: 5 }, dims, shape, "v");
    expect(byName).toEqual({ start: [0, 0, 5], count: [3, 96, 1], step: [5, 1, 1], keep: [true, true, false] });
    expect(resolveSelection([[0, 12, 5], null, 5], dims, shape, "v")).toEqual(byName);
    expect(resolveSelection("0:12:5,:,5", dims, shape, "v")).toEqual(byName);
    expect(resolveSelection({ lat: { start: -3 } }, dims, shape, "v").start[1]).toBe(93);
  });
  it("counts negative positions from the end", () => {
    const s = resolveSelection("-1,-2:,:-190", dims, shape, "v");
    expect(s).toEqual({ start: [11, 94, 0], count: [1, 2, 2], step: [1, 1, 1], keep: [false, true, true] });
  });
  it("gives an empty range when stop <= start", () => {
    expect(resolveSelection("5:5", dims, shape, "v").count[0]).toBe(0);
  });
  it("refuses out-of-range and malformed selections with SelectionError naming the variable", () => {
    const bad: [unknown, RegExp][] = [
      ["12", /position 12 is out of range for time of size 12/],
      ["0:13", /stop 13 is out of range/],
      ["-13:", /start -13 is out of range/],
      ["::0", /step 0 for time must be positive/],
      ["0,0,0,0", /4 positions given but the variable has 3 dims/],
      [{ height: 1 }, /no dimension "height"/],
      [{ time: 1.5 }, /not an integer/],
      [{ time: [0, 2.5] }, /stop 2.5 for time is not an integer/],
    ];
    for (const [sel, msg] of bad) {
      expect(() => resolveSelection(sel as never, dims, shape, "file.nc: variable tas")).toThrow(SelectionError);
      expect(() => resolveSelection(sel as never, dims, shape, "file.nc: variable tas")).toThrow(msg);
      expect(() => resolveSelection(sel as never, dims, shape, "file.nc: variable tas")).toThrow(/^file\.nc: variable tas: /);
    }
  });
});
