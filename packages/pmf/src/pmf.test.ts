import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Cluster } from "@meridian/cluster";
import { baseRuns, detectionLimits, parseTable, PmfError, prepare, qOf, Random, solve, uncertaintyOf } from "./index.ts";

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
    } finally {
      client.close();
      await cluster.stop();
    }
  });

  it("refuses impossible factor counts and bad starting profiles", () => {
    const p = planted(30, 6, 2, 4);
    expect(() => solve(p.x, p.u, 30, 6, { factors: 6 })).toThrow(/6 factors for 30 samples and 6 species: give a whole number from 1 to 5/);
    expect(() => solve(p.x, p.u, 30, 6, { factors: 2, initF: new Float64Array(5) })).toThrow(/initial profiles hold 5 values, not 2 factors × 6 species/);
  });
});
