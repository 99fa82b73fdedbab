/**
 * meridian's side of `npm run bench -- pmf`: the base case (20 restarts) and
 * the block bootstrap on a local cluster, as pmf-numpy.py does them (all
 * species strong, robust mode). Prints one JSON line.
 *
 *   node --import tsx bench/pmf-meridian.ts CONC UNC FACTORS REPLICATES ENGINES [BLOCK]
 */
import { readFileSync } from "node:fs";
import { Cluster } from "@meridian/cluster";
import { baseRuns, bootstrap, parseTable, prepare, replicate, type Category } from "@meridian/pmf";

const [conc, unc, k, B, engines, blockArg] = process.argv.slice(2);
const read = (p: string) => parseTable(readFileSync(p, "utf8"), p);
const c = read(conc);
const d = prepare(c, { unc: read(unc), categories: Object.fromEntries(c.columns.map((s) => [s, "strong" as Category])) });
const n = d.samples.length, m = d.species.length, factors = Number(k), replicates = Number(B);
const block = blockArg ? Number(blockArg) : undefined;

const cluster = await Cluster.start({ engines: Number(engines) });
const client = await cluster.connect();
try {
  await client.waitForEngines(Number(engines));
  const view = client.loadBalanced();
  const t0 = performance.now();
  const { best } = await baseRuns(d.x, d.u, n, m, { factors, runs: 20, seed: 42, view });
  const t1 = performance.now();
  const bs = await bootstrap(d.x, d.u, n, m, best, { replicates, block, view });
  const t2 = performance.now();
  const iters = bs.replicates.map((r) => r.iterations).sort((a, b) => a - b);
  // per-iteration time on one process: a few replicates again, here
  const spec = { x: d.x, u: d.u, n, m, base: best, block: bs.summary.block, seed: 42, threshold: 0.6, options: {} };
  const t3 = performance.now();
  let few = 0;
  for (let r = 0; r < Math.min(replicates, 5); r++) few += replicate(spec, r).iterations;
  const perIteration = (performance.now() - t3) / few;
  console.log(JSON.stringify({
    method: best.method, replicates, engines: Number(engines), base_seconds: (t1 - t0) / 1e3, bootstrap_seconds: (t2 - t1) / 1e3,
    Q_robust_base: best.qRobust, Q_true_base: best.qTrue, block: bs.summary.block, iterations_median: iters[iters.length >> 1], iterations_max: iters[iters.length - 1],
    us_per_iteration: perIteration * 1e3, mapped: bs.summary.mapped,
  }));
} finally {
  client.close();
  await cluster.stop();
}
