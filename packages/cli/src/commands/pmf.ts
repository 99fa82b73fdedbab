/**
 * `meridian pmf --conc C.csv --unc U.csv --factors 6 --out DIR`: the PMF base
 * case (random restarts, the best by Q(robust)) in this process or on a
 * cluster, written as profiles, contributions and a summary.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { baseRuns, detectionLimits, parseTable, PmfError, prepare, qExpected, qParts, type Category, type PmfData, type Solution } from "@meridian/pmf";
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
  weak?: string;
  bad?: string;
  strong?: string;
  engines?: string;
  connection?: string;
  out: string;
}

const table = async (path: string) => parseTable(await readFile(path, "utf8"), path);
const list = (s?: string) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : []);

export async function pmfCommand(flags: PmfFlags): Promise<void> {
  const factors = Number(flags.factors), runs = Number(flags.runs), seed = Number(flags.seed);
  if (!Number.isInteger(runs) || runs < 1) throw new PmfError(`--runs must be a positive whole number, got ${flags.runs}`);
  if (!Number.isSafeInteger(seed)) throw new PmfError(`--seed must be a whole number, got ${flags.seed}`);
  const conc = await table(flags.conc);
  const categories: Record<string, Category> = {};
  for (const c of ["strong", "weak", "bad"] as const) for (const s of list(flags[c])) categories[s] = c;
  let data: PmfData;
  if (flags.unc) data = prepare(conc, { unc: await table(flags.unc), categories });
  else if (flags.mdl) data = prepare(conc, { ...detectionLimits(await table(flags.mdl)), categories });
  else throw new PmfError("give --unc U.csv, or --mdl with detection limits and error fractions", flags.conc);

  const n = data.samples.length, m = data.species.length;
  const { best, runs: all } = await interruptible(`pmf ${factors} factors, ${runs} runs`, (signal, onProgress) =>
    withView(flags, (view) => baseRuns(data.x, data.u, n, m, { factors, runs, seed, robust: flags.robust, view, signal, onProgress })));
  await mkdir(flags.out, { recursive: true });
  await writeFile(join(flags.out, "profiles.csv"), profilesCSV(data, best));
  await writeFile(join(flags.out, "contributions.csv"), contributionsCSV(data, best));
  const qExp = qExpected(n, data.category.filter((c) => c === "strong").length, factors, m);
  await writeFile(join(flags.out, "summary.json"), JSON.stringify(summary(data, best, all, qExp), null, 1) + "\n");
  console.log(`Q(true) ${best.qTrue.toFixed(1)}, Q(robust) ${best.qRobust.toFixed(1)}, Q(expected) ${qExp}; run ${best.stream} of ${runs}, ${best.iterations} iterations, ${best.converged ? "converged" : "not converged"}`);
  if (data.excluded.length) console.log(`left out (bad): ${data.excluded.join(", ")}`);
  console.log(`wrote ${flags.out}/profiles.csv, contributions.csv, summary.json`);
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const factorName = (c: number) => `Factor ${c + 1}`;

/** Factors as rows, species as columns: concentrations, then each as % of the species' total. */
function profilesCSV(d: PmfData, s: Solution): string {
  const { k, m, n } = s;
  const total = Array.from({ length: k }, (_, c) => Array.from({ length: n }, (_, i) => s.g[i * k + c]).reduce((a, b) => a + b, 0));
  const rows = [["factor", "unit", ...d.species].map(csvField).join(",")];
  for (let c = 0; c < k; c++) rows.push([factorName(c), "concentration", ...Array.from(s.f.subarray(c * m, (c + 1) * m), String)].map(csvField).join(","));
  for (let c = 0; c < k; c++) {
    rows.push([factorName(c), "% of species", ...d.species.map((_, j) => {
      const sum = Array.from({ length: k }, (_, q) => s.f[q * m + j] * total[q]).reduce((a, b) => a + b, 0);
      return String(sum > 0 ? (100 * s.f[c * m + j] * total[c]) / sum : 0);
    })].map(csvField).join(","));
  }
  return rows.join("\n") + "\n";
}

/** Samples as rows (with their dates), factors as columns. */
function contributionsCSV(d: PmfData, s: Solution): string {
  const rows = [["sample", ...Array.from({ length: s.k }, (_, c) => factorName(c))].map(csvField).join(",")];
  d.samples.forEach((label, i) => rows.push([csvField(label), ...Array.from(s.g.subarray(i * s.k, (i + 1) * s.k), String)].join(",")));
  return rows.join("\n") + "\n";
}

function summary(d: PmfData, best: Solution, all: Solution[], qExp: number) {
  const { n, m, k } = best;
  // Q per species and per sample, against their shares of Q(expected)
  const q = qParts(d.x, d.u, best.g, best.f, n, m, k);
  return {
    factors: k, samples: n, seed: best.seed, run: best.stream,
    Q_true: best.qTrue, Q_robust: best.qRobust, Q_expected: qExp, converged: best.converged, iterations: best.iterations,
    species: d.species.map((s, j) => ({ name: s, category: d.category[j], sn: d.sn[j], missing: d.missing[j], below_mdl: d.belowMDL[j], Q_over_Qexp: q.species[j] / (qExp / m) })),
    samples_Q_over_Qexp: Array.from(q.samples, (v) => v / (qExp / n)),
    excluded: d.excluded,
    runs: all.map((r) => ({ run: r.stream, Q_true: r.qTrue, Q_robust: r.qRobust, iterations: r.iterations, converged: r.converged })),
  };
}
