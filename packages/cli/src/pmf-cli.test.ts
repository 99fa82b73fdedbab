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
    expect(runMeridian(args("b")).status).toBe(0);
    for (const f of ["profiles.csv", "contributions.csv"]) expect(readFileSync(join(dir, "b", f), "utf8")).toBe(readFileSync(join(dir, "a", f), "utf8"));
  });

  it("bad input: a clear message naming the file, exit status 1", () => {
    const r = runMeridian(["pmf", "--conc", join(DATA, "Dataset-StLouis-con.csv"), "--unc", join(DATA, "Dataset-BatonRouge-unc.csv"), "--factors", "3", "--out", join(dir, "c")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Dataset-BatonRouge-unc\.csv: species differ from those of .*Dataset-StLouis-con\.csv/);
    const k = runMeridian(["pmf", "--conc", join(DATA, "Dataset-StLouis-con.csv"), "--unc", join(DATA, "Dataset-StLouis-unc.csv"), "--factors", "40", "--out", join(dir, "d")]);
    expect(k.status).toBe(1);
    expect(k.stderr).toMatch(/40 factors for 418 samples and 8 species/);
  });
});
