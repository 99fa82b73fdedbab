import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Cluster } from "@meridian/cluster";
import { assignment, baseRuns, blockLength, bootstrap, detectionLimits, displaceElement, optimalBlock, parseTable, PmfError, prepare, qOf, Random, resampleRows, solve, uncertaintyOf } from "./index.ts";

const DATA = fileURLToPath(new URL("../../../datasets/pmf/", import.meta.url));
const read = (path: string) => parseTable(readFileSync(join(DATA, path), "utf8"), path);

describe("tables as EPA PMF and ESAT ship them", () => {
  it("reads the three EPA example data sets: dates, species, values", () => {
    const br = read("esat/data/Dataset-BatonRouge-con.csv");
    expect([br.rows.length, br.columns.length]).toEqual([307, 41]);
    expect([br.rows[0], br.columns[0], br.columns[40], br.values[0], br.values[1]]).toEqual(["6/1/2005 6:00", "124-Trimethylbenzene", "TNMOC", 0.530000332, 1.560000977]);
    const stl = read("esat/data/Dataset-StLouis-con.csv");
    expect([stl.rows.length, stl.columns.length, stl.values[4]]).toEqual([418, 13, 0]); // (exact zeros, written 0.00E+00)
    // tab-separated, followed by 27 lines of tabs only
    const bal = read("esat/data/Dataset-Baltimore_con.txt");
    expect([bal.rows.length, bal.columns.length, bal.rows[629], bal.values[0]]).toEqual([630, 26, "7/5/2007", 13.5]);
    expect(read("esat/data/Dataset-Baltimore_unc.txt").rows.length).toBe(630);
  });

  it("tolerates a preamble, Windows line ends, delimiter-only and blank lines, and missing-value markers", () => {
    const text = readFileSync(join(DATA, "esat/data/Dataset-StLouis-con.csv"), "utf8");
    const lines = text.trim().split("\n");
    lines[2] = lines[2].replace(/,[^,]*$/, ",NA"); // Mass of the second sample missing
    const messy = ["St. Louis PM2.5, ug/m3", "exported 2024", "", ...lines, ",,,,,,,,,,,,,", "", ""].join("\r\n");
    const t = parseTable(messy, "messy.csv");
    const clean = parseTable(text, "clean.csv");
    expect(t.columns).toEqual(clean.columns);
    expect(t.rows).toEqual(clean.rows);
    expect(Number.isNaN(t.values[13 + 12])).toBe(true);
    expect(Array.from(t.values).filter((v) => v === v)).toEqual(Array.from(clean.values).filter((_, i) => i !== 25));
  });

  it("refuses what it cannot read, naming the file, line and column", () => {
    expect(() => parseTable("Date,a,b\n1/1/2000,1,x\n", "bad.csv")).toThrow(/bad\.csv: line 2, column b: "x" is not a number/);
    expect(() => parseTable("Date,a,b\n1/1/2000,1,2\n1/2/2000,1\n", "short.csv")).toThrow(/short\.csv: line 3: 1 values, but the header names 2 species/);
    expect(() => parseTable("just words\nmore words\n", "words.csv")).toThrow(PmfError);
    expect(() => detectionLimits(parseTable("a,b\n0.1,0.2\n", "eqn.txt"))).toThrow(/eqn\.txt: 1 row\(s\): expected a row of detection limits and a row of error fractions/);
    const conc = read("esat/data/Dataset-StLouis-con.csv");
    expect(() => prepare(conc, { unc: read("esat/data/Dataset-BatonRouge-unc.csv") })).toThrow(/Dataset-BatonRouge-unc\.csv: species differ from those of esat\/data\/Dataset-StLouis-con\.csv: column 1 is "124-Trimethylbenzene" here, "Cd" there/);
  });
});

describe("preparing X and U as EPA PMF 5.0 does", () => {
  it("uncertainties from detection limits and error fractions; values below the limit become half of it", () => {
    const conc = read("esat/data/Dataset-Baltimore_con.txt");
    const eqn = parseTable(readFileSync(join(DATA, "easy-pmf/data/Dataset-Baltimore_unc_eqn.txt"), "utf8"), "eqn");
    const { mdl, errorFraction } = detectionLimits(eqn);
    expect(errorFraction.Aluminum).toBe(0.1);
    const d = prepare(conc, { mdl, errorFraction, categories: Object.fromEntries(conc.columns.map((c) => [c, "strong" as const])) });
    const m = conc.columns.length;
    let below = 0, above = 0;
    for (let k = 0; k < conc.values.length; k++) {
      const x = conc.values[k], limit = mdl[conc.columns[k % m]];
      if (x !== x) continue;
      if (x <= limit) {
        below++;
        expect(d.x[k]).toBe(limit / 2);
        expect(d.u[k]).toBeCloseTo((5 / 6) * limit, 12);
      } else {
        above++;
        expect(d.x[k]).toBe(x);
        expect(d.u[k]).toBeCloseTo(Math.sqrt((0.1 * x) ** 2 + (limit / 2) ** 2), 12);
      }
    }
    expect(below).toBeGreaterThan(100);
    expect(above).toBeGreaterThan(10000);
    expect(d.belowMDL.reduce((a, b) => a + b)).toBe(below);
    expect(uncertaintyOf(2, 1, 0.1)).toBeCloseTo(Math.sqrt(0.04 + 0.25), 15);
  });

  it("missing values: the species median, four times its median uncertainty; S/N sorts species into strong, weak and bad", () => {
    const conc = parseTable("Date,a,b,c\n1,10,1,0.1\n2,,2,0.1\n3,30,3,0.1\n4,40,1.5,0.1\n", "t.csv");
    const unc = parseTable("Date,a,b,c\n1,1,1,1\n2,2,1,1\n3,3,1,1\n4,4,1,1\n", "u.csv");
    const d = prepare(conc, { unc });
    // a: x > u everywhere, S/N high; b: S/N = mean(0, 1, 2, 0.5)/… = 0.875 → weak; c: never above its uncertainty → bad
    expect(d.species).toEqual(["a", "b"]);
    expect(d.excluded).toEqual(["c"]);
    expect(d.category).toEqual(["strong", "weak"]);
    expect(d.sn[1]).toBeCloseTo((0 + 1 + 2 + 0.5) / 4, 12);
    expect(d.missing).toEqual([1, 0]);
    expect([d.x[2], d.u[2]]).toEqual([30, 4 * 3]); // median of 10, 30, 40; of 1, 3, 4
    expect(Array.from({ length: 4 }, (_, i) => d.u[i * 2 + 1])).toEqual([3, 3, 3, 3]); // weak: tripled
    // the user's categories win
    expect(prepare(conc, { unc, categories: { c: "strong", b: "strong" } }).species).toEqual(["a", "b", "c"]);
  });
});

/** X = G·F with noise, from known non-negative G and F. */
function planted(n: number, m: number, k: number, seed: number, outliers = 0) {
  const rng = new Random(seed, 999);
  const g = Float64Array.from({ length: n * k }, () => Math.exp(rng.normal()));
  // profiles with a few dominant species each, as sources have
  const f = Float64Array.from({ length: k * m }, (_, i) => (rng.next() < 0.3 ? 1 + 4 * rng.next() : 0.05 * rng.next()));
  const clean = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) for (let j = 0; j < m; j++) clean[i * m + j] += g[i * k + c] * f[c * m + j];
  const mean = clean.reduce((a, b) => a + b) / clean.length;
  const u = clean.map((v) => 0.05 * v + 0.01 * mean);
  const x = clean.map((v, i) => Math.max(1e-6, v + u[i] * rng.normal()));
  for (let o = 0; o < outliers; o++) x[rng.int(n * m)] *= 20;
  return { x, u, g, f };
}

const correlation = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  const n = a.length, ma = Array.from(a).reduce((s, v) => s + v) / n, mb = Array.from(b).reduce((s, v) => s + v) / n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) (ab += (a[i] - ma) * (b[i] - mb)), (aa += (a[i] - ma) ** 2), (bb += (b[i] - mb) ** 2);
  return ab / Math.sqrt(aa * bb);
};

/** The best one-to-one matching of recovered to planted profiles (all permutations: k is small), and its correlations. */
function matchProfiles(found: Float64Array, planted: Float64Array, k: number, m: number): number[] {
  const row = (a: Float64Array, c: number) => a.subarray(c * m, (c + 1) * m);
  const perms = (xs: number[]): number[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));
  let best: number[] = [];
  for (const p of perms([...Array(k).keys()])) {
    const r = p.map((q, c) => correlation(row(found, q), row(planted, c)));
    if (!best.length || r.reduce((a, b) => a + b) > best.reduce((a, b) => a + b)) best = r;
  }
  return best;
}

describe("the solver", () => {
  it("recovers planted factors (profiles correlate above 0.95 after matching)", async () => {
    const n = 150, m = 16, k = 4;
    const p = planted(n, m, k, 7);
    const { best, runs } = await baseRuns(p.x, p.u, n, m, { factors: k, runs: 4, seed: 1 });
    expect(runs.length).toBe(4);
    expect(best.converged).toBe(true);
    const r = matchProfiles(best.f, p.f, k, m);
    expect(Math.min(...r)).toBeGreaterThan(0.95);
    // Q is what it says: recomputed from G and F
    const q = qOf(p.x, p.u, best.g, best.f, n, m, k);
    expect(q.qTrue).toBeCloseTo(best.qTrue, 6);
    expect(best.qTrue).toBeLessThan(3 * n * m); // noise of one uncertainty per value: Q near n·m
  });

  it("robust mode keeps the profiles when outliers are planted, and Q(robust) counts them α·|r/u|", async () => {
    const n = 150, m = 16, k = 3;
    const p = planted(n, m, k, 11, 40);
    const robust = (await baseRuns(p.x, p.u, n, m, { factors: k, runs: 3, seed: 2 })).best;
    expect(Math.min(...matchProfiles(robust.f, p.f, k, m))).toBeGreaterThan(0.95);
    expect(robust.qRobust).toBeLessThan(robust.qTrue);
    const plain = (await baseRuns(p.x, p.u, n, m, { factors: k, runs: 3, seed: 2, robust: false })).best;
    expect(plain.qTrue).toBeLessThan(robust.qTrue); // it minimises Q(true) instead, outliers and all
  });

  it("is reproducible: the same (seed, stream) gives the same bits, another stream another start", () => {
    const p = planted(60, 10, 2, 3);
    const a = solve(p.x, p.u, 60, 10, { factors: 2, seed: 5, stream: 3, maxIter: 200 });
    const b = solve(p.x, p.u, 60, 10, { factors: 2, seed: 5, stream: 3, maxIter: 200 });
    const c = solve(p.x, p.u, 60, 10, { factors: 2, seed: 5, stream: 4, maxIter: 200 });
    expect(Array.from(a.f)).toEqual(Array.from(b.f));
    expect(a.qRobust).toBe(b.qRobust);
    expect(Array.from(a.f)).not.toEqual(Array.from(c.f));
  });

  it("gives the same base case, bit for bit, on 2 engines as in-process", async () => {
    const n = 120, m = 14, k = 3;
    const p = planted(n, m, k, 21);
    const serial = await baseRuns(p.x, p.u, n, m, { factors: k, runs: 6, seed: 9 });
    const cluster = await Cluster.start({ engines: 2 });
    const client = await cluster.connect();
    try {
      await client.waitForEngines(2);
      let progress = 0;
      const parallel = await baseRuns(p.x, p.u, n, m, { factors: k, runs: 6, seed: 9, view: client.loadBalanced(), onProgress: (d) => (progress = d) });
      expect(progress).toBe(6);
      expect(parallel.runs.map((r) => r.qRobust)).toEqual(serial.runs.map((r) => r.qRobust));
      expect(Array.from(parallel.best.f)).toEqual(Array.from(serial.best.f));
      expect(parallel.best.stream).toBe(serial.best.stream);
      expect(new Set(serial.runs.map((r) => r.qRobust)).size).toBeGreaterThan(1); // (the starts differ)
      // bootstrap replicates too, in chunks of tasks finishing in any order
      const bsSerial = await bootstrap(p.x, p.u, n, m, serial.best, { replicates: 12, block: 5 });
      const bsParallel = await bootstrap(p.x, p.u, n, m, parallel.best, { replicates: 12, block: 5, view: client.loadBalanced() });
      expect(bsParallel.replicates.map((r) => [r.replicate, r.qRobust, Array.from(r.f), Array.from(r.mapping)])).toEqual(bsSerial.replicates.map((r) => [r.replicate, r.qRobust, Array.from(r.f), Array.from(r.mapping)]));
      expect(bsParallel.summary).toEqual(bsSerial.summary);
    } finally {
      client.close();
      await cluster.stop();
    }
  });

  it("alternating least squares reach Q(robust) at or below the multiplicative updates' from the same starts, in fewer iterations", () => {
    const t = read("esat/data/Dataset-StLouis-con.csv"), d = prepare(t, { unc: read("esat/data/Dataset-StLouis-unc.csv") });
    const n = d.samples.length, m = d.species.length;
    for (const stream of [0, 1]) {
      const als = solve(d.x, d.u, n, m, { factors: 4, seed: 42, stream });
      const mu = solve(d.x, d.u, n, m, { factors: 4, seed: 42, stream, method: "mu" });
      expect(als.method).toBe("als");
      expect(als.converged && mu.converged).toBe(true);
      expect(als.qRobust).toBeLessThanOrEqual(mu.qRobust * (1 + 1e-6));
      expect(als.iterations).toBeLessThan(mu.iterations);
    }
  });

  it("on the three EPA tables, 20 restarts reach a best Q(robust) at or below numpy's multiplicative-update reference", async () => {
    const reference = JSON.parse(readFileSync(join(DATA, "../fixtures/expected-pmf/mu-reference.json"), "utf8"));
    const tables: [string, string][] = [["Dataset-BatonRouge-con.csv", "Dataset-BatonRouge-unc.csv"], ["Dataset-StLouis-con.csv", "Dataset-StLouis-unc.csv"], ["Dataset-Baltimore_con.txt", "Dataset-Baltimore_unc.txt"]];
    for (const [con, unc] of tables) {
      const conc = read(`esat/data/${con}`);
      const d = prepare(conc, { unc: read(`esat/data/${unc}`), categories: Object.fromEntries(conc.columns.map((c) => [c, "strong" as const])) });
      const ref = reference.tables[con];
      const { best } = await baseRuns(d.x, d.u, d.samples.length, d.species.length, { factors: ref.factors, runs: 20, seed: 42 });
      expect(best.converged).toBe(true);
      expect(best.qRobust).toBeLessThanOrEqual(ref.Q_robust);
    }
  }, 60_000);

  it("fits the contributions alone when the profiles are fixed (DISP's re-fit)", () => {
    const p = planted(80, 10, 3, 5);
    const base = solve(p.x, p.u, 80, 10, { factors: 3, seed: 1 });
    const f = Float64Array.from(base.f);
    f[1 * 10 + 4] *= 3;
    for (const method of ["als", "mu"] as const) {
      const refit = solve(p.x, p.u, 80, 10, { factors: 3, method, initF: f, initG: base.g, fixProfiles: true, maxIter: 300 });
      expect(Array.from(refit.f)).toEqual(Array.from(f));
      expect(refit.qRobust).toBeGreaterThan(base.qRobust); // forced away from the minimum
      expect(Array.from(refit.g)).not.toEqual(Array.from(base.g));
    }
  });

  it("refuses impossible factor counts and bad starting profiles", () => {
    const p = planted(30, 6, 2, 4);
    expect(() => solve(p.x, p.u, 30, 6, { factors: 6 })).toThrow(/6 factors for 30 samples and 6 species: give a whole number from 1 to 5/);
    expect(() => solve(p.x, p.u, 30, 6, { factors: 2, initF: new Float64Array(5) })).toThrow(/initial profiles hold 5 values, not 2 factors × 6 species/);
  });
});

describe("the bootstrap", () => {
  it("chooses the block length as arch's Politis-White estimate (circular), floor of the species' mean as ESAT", () => {
    const expected = JSON.parse(readFileSync(join(DATA, "../fixtures/expected-pmf/block-length.json"), "utf8"));
    for (const name of ["Dataset-StLouis-con.csv", "Dataset-BatonRouge-con.csv"]) {
      const t = read(`esat/data/${name}`), n = t.rows.length, m = t.columns.length;
      const ours = Array.from({ length: m }, (_, j) => optimalBlock(Float64Array.from({ length: n }, (_, i) => t.values[i * m + j])));
      ours.forEach((b, j) => expect(b).toBeCloseTo(expected.tables[name].circular[j], 9));
      expect(blockLength(t.values, n, m)).toBe(expected.tables[name].block);
    }
  });

  it("draws circular blocks starting anywhere: every sample can be drawn, runs are consecutive", () => {
    const rng = new Random(3, -1), n = 23, block = 5, seen = new Set<number>();
    for (let draw = 0; draw < 200; draw++) {
      const rows = resampleRows(n, block, rng);
      expect(rows.length).toBe(n);
      for (let i = 0; i < n; i += block) {
        seen.add(rows[i]);
        for (let b = 1; b < block && i + b < n; b++) expect(rows[i + b]).toBe((rows[i + b - 1] + 1) % n);
      }
    }
    expect(seen.size).toBe(n); // (ESAT never draws its last block)
  });

  it("maps factors one-to-one by the optimal assignment (checked against every permutation)", () => {
    const rng = new Random(8);
    const perms = (xs: number[]): number[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));
    for (let k = 1; k <= 6; k++) {
      for (let trial = 0; trial < 20; trial++) {
        const score = Float64Array.from({ length: k * k }, () => 2 * rng.next() - 1);
        const total = (p: ArrayLike<number>) => Array.from(p).reduce((s, e, c) => s + score[c * k + e], 0);
        const ours = assignment(score, k);
        expect(new Set(ours).size).toBe(k);
        expect(total(ours)).toBeCloseTo(Math.max(...perms([...Array(k).keys()]).map(total)), 12);
      }
    }
  });

  it("puts intervals around planted profiles: every factor mapped, base values inside the 5-95% range", async () => {
    const n = 200, m = 12, k = 3;
    const p = planted(n, m, k, 31);
    const { best } = await baseRuns(p.x, p.u, n, m, { factors: k, runs: 3, seed: 4 });
    let progress = 0;
    const { replicates, summary } = await bootstrap(p.x, p.u, n, m, best, { replicates: 30, onProgress: (d) => (progress = d) });
    expect(progress).toBe(30);
    expect(replicates.map((r) => r.replicate)).toEqual([...Array(30).keys()]);
    expect(summary.block).toBe(blockLength(p.x, n, m));
    expect(summary.mapped).toEqual([1, 1, 1]);
    expect(summary.unstable).toEqual([]);
    expect(summary.mappingTable.map((row, c) => row[c])).toEqual([30, 30, 30]); // warm starts keep the order
    let inside = 0;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < m; j++) {
        const s = summary.profiles[c][j], v = best.f[c * m + j];
        expect(s.p5 <= s.p25 && s.p25 <= s.p50 && s.p50 <= s.p75 && s.p75 <= s.p95).toBe(true);
        if (v >= s.p5 && v <= s.p95) inside++;
        const pct = summary.percent[c][j];
        expect(pct.p5 >= 0 && pct.p95 <= 100 + 1e-9).toBe(true);
      }
    }
    expect(inside).toBeGreaterThanOrEqual(0.8 * k * m);
    expect(summary.qRobust.min <= summary.qRobust.p50 && summary.qRobust.p50 <= summary.qRobust.max).toBe(true);
    await expect(bootstrap(p.x, p.u, n, m, best, { replicates: 2, block: n + 1 })).rejects.toThrow(/block must be a whole number of samples from 1 to 200/);
  });

  it("DISP: intervals widen with dQmax and hold the base, ΔQ is what was asked (re-fitted), no swaps for a well-defined factor", () => {
    const n = 120, m = 8, k = 2;
    const p = planted(n, m, k, 13);
    const base = solve(p.x, p.u, n, m, { factors: k, seed: 3, robust: false });
    const spec = { x: p.x, u: p.u, n, m, base, options: { robust: false } };
    const j = Array.from({ length: m }, (_, j) => j).reduce((a, b) => (base.f[b] > base.f[a] ? b : a)); // factor 0's main species
    const d = displaceElement(spec, 0, j);
    for (let t = 0; t < 4; t++) expect(d.low[t] <= d.base && d.base <= d.high[t]).toBe(true);
    for (let t = 1; t < 4; t++) expect(d.low[t] <= d.low[t - 1] && d.high[t] >= d.high[t - 1]).toBe(true);
    expect(d.swapLow[0] || d.swapHigh[0]).toBe(false);
    // re-fit with the element held at the dQ = 4 value: Q is the base's plus about 4
    const f = Float64Array.from(base.f);
    f[j] = d.high[0];
    const refit = solve(p.x, p.u, n, m, { factors: k, initF: f, initG: base.g, fixProfiles: true, robust: false, delta: 1e-4, window: 10 });
    const again = solve(p.x, p.u, n, m, { factors: k, initF: base.f, initG: base.g, fixProfiles: true, robust: false, delta: 1e-4, window: 10 });
    expect(refit.qTrue - again.qTrue).toBeGreaterThan(3.5);
    expect(refit.qTrue - again.qTrue).toBeLessThan(4.5);
    expect(() => displaceElement(spec, 2, 0)).toThrow(/no profile element \(factor 2, species 0\): there are 2 factors and 8 species/);
  });
});
