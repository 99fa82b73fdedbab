/**
 * `meridian pmf --conc C.csv --unc U.csv --factors 6 --out DIR`: the PMF base
 * case (random restarts, the best by Q(robust)), optionally its block
 * bootstrap and DISP, in this process or on a cluster, written as CSV, JSON
 * and plots.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  baseRuns, bootstrap, detectionLimits, displacement, percentOfSolution, readTable, PmfError, prepare, qExpected, qParts,
  type BootstrapSummary, type Category, type DisplacementSummary, type Method, type PmfData, type Solution,
} from "@meridian/pmf";
import { factorName, contributionPlot, profilePlot, qPlot } from "../pmf-plots.ts";
import { writePlot } from "../plots.ts";
import { interruptible } from "../progress.ts";
import { withView } from "./reduce.ts";

export interface PmfFlags {
  conc: string;
  unc?: string;
  mdl?: string;
  factors: string;
  runs: string;
  seed: string;
  robust: boolean;
  method: string;
  bootstrap?: string;
  block?: string;
  disp?: boolean;
  weak?: string;
  bad?: string;
  strong?: string;
  engines?: string;
  connection?: string;
  ssh?: string;
  out: string;
}

const list = (s?: string) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : []);
const whole = (flag: string, value: string | undefined, min: number) => {
  const v = Number(value);
  if (!Number.isInteger(v) || v < min) throw new PmfError(`${flag} must be a whole number of at least ${min}, got ${value}`);
  return v;
};

export async function pmfCommand(flags: PmfFlags): Promise<void> {
  const factors = Number(flags.factors), runs = whole("--runs", flags.runs, 1);
  const seed = Number(flags.seed);
  if (!Number.isSafeInteger(seed)) throw new PmfError(`--seed must be a whole number, got ${flags.seed}`);
  const replicates = flags.bootstrap === undefined ? 0 : whole("--bootstrap", flags.bootstrap, 1);
  const block = flags.block === undefined ? undefined : whole("--block", flags.block, 1);
  const method = flags.method as Method;
  if (method !== "als" && method !== "mu") throw new PmfError(`--method must be als or mu, got ${flags.method}`);
  const conc = await readTable(flags.conc);
  const categories: Record<string, Category> = {};
  for (const c of ["strong", "weak", "bad"] as const) for (const s of list(flags[c])) categories[s] = c;
  let data: PmfData;
  if (flags.unc) data = prepare(conc, { unc: await readTable(flags.unc), categories });
  else if (flags.mdl) data = prepare(conc, { ...detectionLimits(await readTable(flags.mdl)), categories });
  else throw new PmfError("give --unc U.csv, or --mdl with detection limits and error fractions", flags.conc);

  const n = data.samples.length, m = data.species.length, robust = flags.robust;
  const { best, all, bs, disp } = await withView(flags, async (view) => {
    const { best, runs: all } = await interruptible(`pmf ${factors} factors, ${runs} runs`, (signal, onProgress) =>
      baseRuns(data.x, data.u, n, m, { factors, runs, seed, robust, method, view, signal, onProgress }));
    const bs = replicates ? await interruptible(`bootstrap ${replicates} replicates`, (signal, onProgress) =>
      bootstrap(data.x, data.u, n, m, best, { replicates, block, robust, view, signal, onProgress })) : undefined;
    const disp = flags.disp ? await interruptible(`DISP ${factors * m} elements`, (signal, onProgress) =>
      displacement(data.x, data.u, n, m, best, { robust, view, signal, onProgress })) : undefined;
    return { best, all, bs: bs?.summary, disp };
  });

  await mkdir(flags.out, { recursive: true });
  const out = (name: string) => join(flags.out, name);
  await writeFile(out("profiles.csv"), profilesCSV(data, best));
  await writeFile(out("contributions.csv"), contributionsCSV(data, best));
  const qExp = qExpected(n, data.category.filter((c) => c === "strong").length, factors, m);
  const sum = summary(data, best, all, qExp, robust, bs, disp);
  await writeFile(out("summary.json"), JSON.stringify(sum, null, 1) + "\n");
  const written = ["profiles.csv", "contributions.csv", "summary.json"];
  if (bs) await writeFile(out("bootstrap.csv"), bootstrapCSV(data, best, bs)), written.push("bootstrap.csv");
  if (disp) await writeFile(out("disp.csv"), dispCSV(data, disp)), written.push("disp.csv");
  await writePlot(out("profiles"), profilePlot(data, best, bs, "concentration"));
  await writePlot(out("percent-of-species"), profilePlot(data, best, bs, "percent"));
  await writePlot(out("contributions"), contributionPlot(data, best));
  await writePlot(out("q-species"), qPlot(data, sum.species.map((s) => s.Q_over_Qexp)));
  written.push("profiles, percent-of-species, contributions, q-species (.svg, .png)");

  console.log(`Q(true) ${best.qTrue.toFixed(1)}, Q(robust) ${best.qRobust.toFixed(1)}, Q(expected) ${qExp}; run ${best.stream} of ${runs}, ${best.iterations} iterations, ${best.converged ? "converged" : "not converged"}`);
  if (data.excluded.length) console.log(`left out (bad): ${data.excluded.join(", ")}`);
  if (bs) {
    console.log(`bootstrap: ${bs.replicates} replicates in blocks of ${bs.block}; mapped ${bs.mapped.map((v, c) => `${factorName(c)} ${(100 * v).toFixed(0)}%`).join(", ")}; Q(robust) median ${bs.qRobust.p50.toFixed(1)}`);
    for (const c of bs.unstable) console.log(`warning: ${factorName(c)} was mapped in only ${(100 * bs.mapped[c]).toFixed(0)}% of the replicates (under 80%): the solution may not be stable; try another number of factors`);
  }
  if (disp) {
    console.log(`DISP: swaps at dQmax=4 ${disp.swaps[0].map((v, c) => `${factorName(c)} ${(100 * v).toFixed(0)}%`).join(", ")}; largest drop of Q ${disp.largestDrop.toFixed(2)}`);
    if (disp.largestDrop > 0.01 * best.qRobust) console.log("warning: DISP found a Q more than 1% lower: the base case is not the global minimum; try more --runs");
  }
  console.log(`wrote ${flags.out}/: ${written.join(", ")}`);
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Factors as rows, species as columns: concentrations, then each as % of the species' total. */
function profilesCSV(d: PmfData, s: Solution): string {
  const { k, m } = s;
  const pct = percentOfSolution(s);
  const rows = [["factor", "unit", ...d.species].map(csvField).join(",")];
  for (let c = 0; c < k; c++) rows.push([factorName(c), "concentration", ...Array.from(s.f.subarray(c * m, (c + 1) * m), String)].map(csvField).join(","));
  for (let c = 0; c < k; c++) rows.push([factorName(c), "% of species", ...Array.from(pct.subarray(c * m, (c + 1) * m), String)].map(csvField).join(","));
  return rows.join("\n") + "\n";
}

/** One row per factor and species: the base value and the bootstrap statistics, as concentrations and as % of species. */
function bootstrapCSV(d: PmfData, s: Solution, bs: BootstrapSummary): string {
  const pct = percentOfSolution(s);
  const stats = ["mean", "sd", "p5", "p25", "p50", "p75", "p95"] as const;
  const rows = [["factor", "species", "unit", "base", "base_within_iqr", ...stats].join(",")];
  for (let c = 0; c < s.k; c++) {
    for (let j = 0; j < s.m; j++) {
      for (const [unit, base, e] of [["concentration", s.f[c * s.m + j], bs.profiles[c][j]], ["% of species", pct[c * s.m + j], bs.percent[c][j]]] as const) {
        rows.push([factorName(c), csvField(d.species[j]), unit, base, base >= e.p25 && base <= e.p75, ...stats.map((k) => e[k])].join(","));
      }
    }
  }
  return rows.join("\n") + "\n";
}

/** One row per factor and species: the base value and its DISP interval for each dQmax, and whether a swap occurred. */
function dispCSV(d: PmfData, disp: DisplacementSummary): string {
  const head = ["factor", "species", "base", ...disp.dQmax.flatMap((q) => [`low_dQ${q}`, `high_dQ${q}`, `swap_dQ${q}`])];
  const rows = disp.elements.map((e) => [factorName(e.factor), csvField(d.species[e.species]), e.base, ...disp.dQmax.flatMap((_, t) => [e.low[t], e.high[t], e.swapLow[t] || e.swapHigh[t]])].join(","));
  return [head.join(","), ...rows].join("\n") + "\n";
}

/** Samples as rows (with their dates), factors as columns. */
function contributionsCSV(d: PmfData, s: Solution): string {
  const rows = [["sample", ...Array.from({ length: s.k }, (_, c) => factorName(c))].map(csvField).join(",")];
  d.samples.forEach((label, i) => rows.push([csvField(label), ...Array.from(s.g.subarray(i * s.k, (i + 1) * s.k), String)].join(",")));
  return rows.join("\n") + "\n";
}

function summary(d: PmfData, best: Solution, all: Solution[], qExp: number, robust: boolean, bs?: BootstrapSummary, disp?: DisplacementSummary) {
  const { n, m, k } = best;
  // Q per species and per sample, against their shares of Q(expected)
  const q = qParts(d.x, d.u, best.g, best.f, n, m, k);
  return {
    factors: k, samples: n, seed: best.seed, run: best.stream, method: best.method, robust,
    Q_true: best.qTrue, Q_robust: best.qRobust, Q_expected: qExp, converged: best.converged, iterations: best.iterations,
    species: d.species.map((s, j) => ({ name: s, category: d.category[j], sn: d.sn[j], missing: d.missing[j], below_mdl: d.belowMDL[j], Q_over_Qexp: q.species[j] / (qExp / m) })),
    samples_Q_over_Qexp: Array.from(q.samples, (v) => v / (qExp / n)),
    excluded: d.excluded,
    runs: all.map((r) => ({ run: r.stream, Q_true: r.qTrue, Q_robust: r.qRobust, iterations: r.iterations, converged: r.converged })),
    bootstrap: bs && {
      replicates: bs.replicates, block: bs.block, converged: bs.converged,
      mapped: Object.fromEntries(bs.mapped.map((v, c) => [factorName(c), v])),
      mapping_table: bs.mappingTable.map((row, c) => ({ base: factorName(c), ...Object.fromEntries(row.map((v, e) => [e < k ? factorName(e) : "unmapped", v])) })),
      unstable: bs.unstable.map(factorName),
      Q_robust: bs.qRobust,
    },
    disp: disp && {
      dQmax: disp.dQmax,
      swaps: Object.fromEntries(disp.dQmax.map((q, t) => [`dQ${q}`, Object.fromEntries(disp.swaps[t].map((v, c) => [factorName(c), v]))])),
      largest_drop_of_Q: disp.largestDrop,
    },
  };
}
