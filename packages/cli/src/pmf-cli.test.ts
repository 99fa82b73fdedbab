import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runMeridian } from "./run.test-util.ts";

const DATA = fileURLToPath(new URL("../../../datasets/pmf/esat/data/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "meridian-pmf-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("meridian pmf", () => {
  const args = (out: string) => ["pmf", "--conc", join(DATA, "Dataset-StLouis-con.csv"), "--unc", join(DATA, "Dataset-StLouis-unc.csv"), "--factors", "3", "--runs", "3", "--seed", "7", "--strong", "EC", "--out", join(dir, out)];

  it("writes profiles, contributions and a summary; the same seed gives the same files", () => {
    const r = runMeridian(args("a"));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Q\(true\) [\d.]+, Q\(robust\) [\d.]+, Q\(expected\) \d+; run \d of 3, \d+ iterations, (converged|not converged)\nleft out \(bad\): Cd, Ni, Se, Mass\n/);
    const profiles = readFileSync(join(dir, "a/profiles.csv"), "utf8").trim().split("\n");
    expect(profiles[0]).toBe("factor,unit,Cu,Fe,Mn,Pb,Zn,SO4,NO3,OC,EC");
    expect(profiles.length).toBe(1 + 2 * 3);
    // % of species: the factors' shares of each species add up to 100
    const pct = profiles.slice(4).map((l) => l.split(",").slice(2).map(Number));
    for (let j = 0; j < 9; j++) expect(pct.reduce((s, row) => s + row[j], 0)).toBeCloseTo(100, 9);
    const contributions = readFileSync(join(dir, "a/contributions.csv"), "utf8").trim().split("\n");
    expect(contributions.length).toBe(1 + 418);
    expect(contributions[1]).toMatch(/^6\/22\/2001 0:00,[\d.e-]+,[\d.e-]+,[\d.e-]+$/);
    const summary = JSON.parse(readFileSync(join(dir, "a/summary.json"), "utf8"));
    expect(summary).toMatchObject({ factors: 3, samples: 418, seed: 7, Q_expected: 418 * 9 - 3 * (418 + 9) });
    expect(summary.runs.length).toBe(3);
    expect(summary.Q_robust).toBe(Math.min(...summary.runs.filter((x: { converged: boolean }) => x.converged || !summary.converged).map((x: { Q_robust: number }) => x.Q_robust)));
    expect(summary.species.find((s: { name: string }) => s.name === "EC").category).toBe("strong");
    for (const plot of ["profiles", "percent-of-species", "contributions", "q-species"]) {
      expect(readFileSync(join(dir, `a/${plot}.svg`), "utf8")).toMatch(/^<svg[^>]*>[\s\S]*Factor 3[\s\S]*<\/svg>$|^<svg[^>]*>[\s\S]*Q\/Qexp[\s\S]*<\/svg>$/);
      expect(readFileSync(join(dir, `a/${plot}.png`)).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    }
    // on 2 engines, with a bootstrap and DISP: the same base case
    const b = runMeridian([...args("b"), "--engines", "2", "--bootstrap", "12", "--block", "10", "--disp"]);
    expect(b.stderr).toBe("");
    expect(b.stdout).toMatch(/\nbootstrap: 12 replicates in blocks of 10; mapped Factor 1 \d+%, Factor 2 \d+%, Factor 3 \d+%; Q\(robust\) median [\d.]+\n/);
    expect(b.stdout).toMatch(/\nDISP: swaps at dQmax=4 Factor 1 \d+%, Factor 2 \d+%, Factor 3 \d+%; largest drop of Q [\d.]+\n/);
    for (const f of ["profiles.csv", "contributions.csv"]) expect(readFileSync(join(dir, "b", f), "utf8")).toBe(readFileSync(join(dir, "a", f), "utf8"));
    const bs = readFileSync(join(dir, "b/bootstrap.csv"), "utf8").trim().split("\n");
    expect(bs[0]).toBe("factor,species,unit,base,base_within_iqr,mean,sd,p5,p25,p50,p75,p95");
    expect(bs.length).toBe(1 + 3 * 9 * 2);
    for (const line of bs.slice(1)) {
      const [, , , , , mean, sd, p5, p25, p50, p75, p95] = line.split(",");
      const q = [p5, p25, p50, p75, p95].map(Number);
      expect(q.every((v, i) => i === 0 || v >= q[i - 1])).toBe(true);
      expect(Number(sd)).toBeGreaterThanOrEqual(0);
      expect(Number(mean)).toBeGreaterThanOrEqual(q[0]);
    }
    const sb = JSON.parse(readFileSync(join(dir, "b/summary.json"), "utf8"));
    expect(sb.bootstrap).toMatchObject({ replicates: 12, block: 10 });
    expect(Object.keys(sb.bootstrap.mapped)).toEqual(["Factor 1", "Factor 2", "Factor 3"]);
    expect(sb.bootstrap.mapping_table[0].base).toBe("Factor 1");
    expect(sb.disp.dQmax).toEqual([4, 8, 16, 32]);
    const disp = readFileSync(join(dir, "b/disp.csv"), "utf8").trim().split("\n");
    expect(disp.length).toBe(1 + 3 * 9);
    for (const line of disp.slice(1)) {
      const v = line.split(",");
      const base = Number(v[2]), lows = [3, 6, 9, 12].map((i) => Number(v[i])), highs = [4, 7, 10, 13].map((i) => Number(v[i]));
      expect(lows.every((l) => l <= base) && highs.every((h) => h >= base)).toBe(true);
    }
  });

  it("bad input: a clear message naming the file, exit status 1", () => {
    const r = runMeridian(["pmf", "--conc", join(DATA, "Dataset-StLouis-con.csv"), "--unc", join(DATA, "Dataset-BatonRouge-unc.csv"), "--factors", "3", "--out", join(dir, "c")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Dataset-BatonRouge-unc\.csv: species differ from those of .*Dataset-StLouis-con\.csv/);
    const k = runMeridian(["pmf", "--conc", join(DATA, "Dataset-StLouis-con.csv"), "--unc", join(DATA, "Dataset-StLouis-unc.csv"), "--factors", "40", "--out", join(dir, "d")]);
    expect(k.status).toBe(1);
    expect(k.stderr).toMatch(/40 factors for 418 samples and 8 species/);
    const base = ["pmf", "--conc", join(DATA, "Dataset-StLouis-con.csv"), "--unc", join(DATA, "Dataset-StLouis-unc.csv"), "--factors", "3", "--out", join(dir, "e")];
    for (const [flags, message] of [
      [["--bootstrap", "0"], /--bootstrap must be a whole number of at least 1, got 0/],
      [["--bootstrap", "5", "--block", "2.5"], /--block must be a whole number of at least 1, got 2\.5/],
      [["--bootstrap", "5", "--block", "500"], /the bootstrap block must be a whole number of samples from 1 to 418, got 500/],
      [["--method", "cg"], /--method must be als or mu, got cg/],
    ] as const) {
      const r = runMeridian([...base, ...flags]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
