/**
 * Which output group each time step belongs to, from the dates of the steps
 * in their calendar, and the weights of yearmonmean (days of each month).
 */
import { seasonOf, type TimeAxis } from "@meridian/io";
import type { Grouping } from "./operators.ts";

export interface StepGroup {
  /** Steps in the group, in order. */
  steps: number[];
  /** For seasons: how many distinct months it has (a complete season has 3). */
  months: number;
}

export interface TimeGroups {
  /** Per step: the index of its group in `groups`. */
  groupOf: Int32Array;
  /** Per step: its weight (days of its month with month weights), else undefined (all 1). */
  weights?: Float64Array;
  /** Groups in output order: chronological, or by month/season/day of the year for climatologies. */
  groups: StepGroup[];
}

/** A step's group key under a grouping, from its date. */
function keyOf(grouping: Grouping, y: number, m: number, d: number): number {
  switch (grouping) {
    case "all": return 0;
    case "year": return y;
    case "month": return y * 12 + m;
    case "season": return (m === 12 ? y + 1 : y) * 4 + seasonOf(m); // DJF takes the December before
    case "day": return (y * 12 + m) * 32 + d;
    case "ymon": return m;
    case "yseas": return seasonOf(m);
    case "yday": return m * 32 + d; // a date's day: 29 February is its own group, 1 March is 1 March every year
  }
}

const CLIMATOLOGY = new Set<Grouping>(["ymon", "yseas", "yday"]);

export function groupSteps(time: Float64Array, axis: TimeAxis, grouping: Grouping, monthWeights = false): TimeGroups {
  const n = time.length;
  const groupOf = new Int32Array(n);
  const weights = monthWeights ? new Float64Array(n) : undefined;
  const byKey = new Map<number, { index: number; group: StepGroup; months: Set<number> }>();
  for (let t = 0; t < n; t++) {
    const date = grouping === "all" && !weights ? undefined : axis.dateOf(time[t]);
    const key = date ? keyOf(grouping, date.year, date.month, date.day) : 0;
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { index: byKey.size, group: { steps: [], months: 0 }, months: new Set() }));
    g.group.steps.push(t);
    if (date) g.months.add(date.year * 12 + date.month);
    if (weights && date) weights[t] = axis.calendar.daysInMonth(axis.calendar.astronomicalYear(date.year), date.month);
  }
  // chronological groups come in order of their first step; climatologies by month/season/day
  const entries = [...byKey.entries()];
  if (CLIMATOLOGY.has(grouping)) entries.sort((a, b) => a[0] - b[0]);
  const groups = entries.map(([, g], i) => {
    g.group.months = g.months.size;
    for (const t of g.group.steps) groupOf[t] = i;
    return g.group;
  });
  return { groupOf, weights, groups };
}
