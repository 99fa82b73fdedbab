/**
 * The plots of a PMF solution, as EPA PMF 5.0 draws them: each factor's
 * profile (concentrations on a log axis, and % of each species), with the
 * bootstrap's 5–95% range when there is one; the contributions over time;
 * Q/Qexp per species.
 */
import type { BootstrapSummary, PmfData, Solution } from "@meridian/pmf";
import { percentOfSolution } from "@meridian/pmf";
import { sampleTime, type TopLevelSpec } from "./plots.ts";

export const factorName = (c: number) => `Factor ${c + 1}`;

const speciesAxis = (species: string[]) => ({ field: "species", type: "nominal" as const, sort: species, axis: { labelAngle: -60, title: null } });
const byFactor = { row: { field: "factor", type: "nominal" as const, title: null, header: { labelAngle: 0, labelAlign: "left" as const, labelFontWeight: "bold" as const } } };

/** Bars of one profile quantity per factor, with the bootstrap's 5–95% range as a line. */
export function profilePlot(d: PmfData, s: Solution, bs: BootstrapSummary | undefined, unit: "concentration" | "percent"): TopLevelSpec {
  const { k, m } = s;
  const base = unit === "concentration" ? s.f : percentOfSolution(s);
  const stats = unit === "concentration" ? bs?.profiles : bs?.percent;
  const values = [];
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < m; j++) {
      const e = stats?.[c][j];
      values.push({ factor: factorName(c), species: d.species[j], value: base[c * m + j], p5: e?.p5, p95: e?.p95 });
    }
  }
  const log = unit === "concentration";
  // bars on a log axis start from a floor: the decade below the smallest positive value
  const smallest = Math.min(...values.flatMap((v) => [v.value, v.p5 ?? Infinity]).filter((v) => v > 0));
  const floor = 10 ** Math.floor(Math.log10(Number.isFinite(smallest) ? smallest : 1));
  const y = { field: "value", type: "quantitative" as const, title: log ? "concentration" : "% of species", scale: log ? { type: "log" as const, domainMin: floor } : { domain: [0, 100] } };
  return {
    title: log ? "Factor profiles (bars: base case; lines: bootstrap 5–95%)" : "Factor profiles, % of each species (bars: base case; lines: bootstrap 5–95%)",
    data: { values },
    facet: byFactor,
    spec: {
      width: Math.max(400, 22 * m), height: 120,
      layer: [
        { transform: log ? [{ filter: "datum.value > 0" }] : [], mark: { type: "bar", color: "#4c78a8" }, encoding: { x: speciesAxis(d.species), y, ...(log ? { y2: { datum: floor } } : {}) } },
        ...(stats ? [{
          transform: log ? [{ filter: "datum.p5 > 0" }] : [],
          mark: { type: "rule" as const, color: "#e45756", strokeWidth: 2 },
          encoding: { x: speciesAxis(d.species), y: { ...y, field: "p5" }, y2: { field: "p95" } },
        }] : []),
      ],
    },
    resolve: { scale: { y: "independent" } },
  } as TopLevelSpec;
}

/** Each factor's contributions over the samples: a time axis when the labels are dates. */
export function contributionPlot(d: PmfData, s: Solution): TopLevelSpec {
  const times = d.samples.map(sampleTime);
  const dated = times.every((t) => t !== undefined);
  // a gap of more than ten typical spacings (a season not sampled) breaks the line
  const at = times.map((t, i) => (dated ? Date.parse(`${t}Z`) : i + 1));
  const steps = at.slice(1).map((t, i) => t - at[i]).sort((a, b) => a - b);
  const typical = steps[steps.length >> 1] ?? 1;
  const values = [];
  for (let i = 0, run = 0; i < s.n; i++) {
    if (i > 0 && at[i] - at[i - 1] > 10 * typical) run++;
    for (let c = 0; c < s.k; c++) values.push({ factor: factorName(c), at: dated ? times[i] : i + 1, run, g: s.g[i * s.k + c] });
  }
  return {
    title: "Factor contributions",
    data: { values },
    facet: byFactor,
    spec: {
      width: 900, height: 100,
      mark: { type: "line", point: { size: 8 }, strokeWidth: 1 },
      encoding: {
        x: dated ? { field: "at", type: "temporal", title: null } : { field: "at", type: "quantitative", title: "sample" },
        y: { field: "g", type: "quantitative", title: "contribution" },
        detail: { field: "run", type: "nominal" },
      },
    },
    resolve: { scale: { y: "independent" } },
  } as TopLevelSpec;
}

/** Q/Qexp of each species, the strong ones coloured by category. */
export function qPlot(d: PmfData, qOverQexp: number[]): TopLevelSpec {
  return {
    title: "Q/Qexp per species",
    data: { values: d.species.map((name, j) => ({ species: name, q: qOverQexp[j], category: d.category[j] })) },
    width: Math.max(400, 22 * d.species.length), height: 220,
    layer: [
      { mark: "bar", encoding: { x: speciesAxis(d.species), y: { field: "q", type: "quantitative", title: "Q/Qexp" }, color: { field: "category", type: "nominal", scale: { domain: ["strong", "weak"], range: ["#4c78a8", "#f58518"] } } } },
      { data: { values: [{ one: 1 }] }, mark: { type: "rule", strokeDash: [4, 4] }, encoding: { y: { field: "one", type: "quantitative" } } },
    ],
  } as TopLevelSpec;
}
