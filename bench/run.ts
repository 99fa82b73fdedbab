/**
 * Benchmarks against the peer tools, in one run on the same machine. They print
 * medians and ratios; they assert nothing. Inputs are generated into a temp folder.
 *
 *   npm run bench            all benchmarks
 *   npm run bench -- read    only the NetCDF classic read
 *   npm run bench -- formats only NetCDF-4 and FITS
 *   npm run bench -- cluster the cluster against ipyparallel and dask.distributed
 *   npm run bench -- drs     the DRS scan of a 200,000-file tree against find
 *   npm run bench -- reduce  meridian reduce on a running cluster against ncra, cdo and nces
 *   npm run bench -- pmf     PMF base case and 1000 bootstrap replicates against numpy
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const PY = "/usr/bin/python3";
const work = process.env.MERIDIAN_BENCH_DIR ?? join(tmpdir(), "meridian-bench");
const rounds = Number(process.env.ROUNDS ?? 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const json = (cmd: string, args: string[]) => JSON.parse(execFileSync(cmd, args, { encoding: "utf8" }).trim().split("\n").pop()!);

async function readBenchmark() {
  mkdirSync(work, { recursive: true });
  const file = join(work, "tas-cdf2.nc");
  if (!existsSync(file)) {
    console.log(`generating ${file} (about 405 MB) with netCDF4-python...`);
    execFileSync(PY, [join(here, "make-big-cdf2.py"), file], { stdio: "inherit" });
  }
  readFileSync(file); // warm the page cache (the file is < 2 GiB)
  const records = 182; // about 64 MiB per block of 192 x 480 float32
  const runs: Record<string, any[]> = { fresh: [], reuse: [], peer: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of ["fresh", "reuse"]) runs[mode].push(json(process.execPath, ["--import", "tsx", join(here, "read-meridian.ts"), file, "tas", String(records), mode]));
    runs.peer.push(json(PY, [join(here, "read-netcdf4.py"), file, "tas", String(records)]));
  }
  for (const mode of ["fresh", "reuse"]) {
    if (runs[mode][0].valid !== runs.peer[0].valid) throw new Error(`valid counts differ: meridian ${runs[mode][0].valid}, netCDF4 ${runs.peer[0].valid}`);
  }
  const seconds = (mode: string) => median(runs[mode].map((o) => o.seconds));
  const mb = statSync(file).size / 1e6;
  const block = runs.fresh[0].blockMiB;
  const version = execFileSync(PY, ["-c", "import netCDF4; print(netCDF4.__version__, netCDF4.__netcdf4libversion__)"], { encoding: "utf8" }).trim().replace(" ", ", netCDF-C ");
  console.log(`\nNetCDF classic (CDF-2) read of tas, float32, ${mb.toFixed(0)} MB file, in blocks of ${records} records (${block.toFixed(1)} MiB), CF masking on, ${rounds} rounds, page cache warm`);
  console.log(`| reader | median s | MB/s | ratio to netCDF4-python | peak memory |`);
  console.log(`|---|---|---|---|---|`);
  for (const [mode, label] of [["fresh", "meridian `blocks()`"], ["reuse", "meridian `blocks(..., {reuse: true})`"]]) {
    const peak = median(runs[mode].map((o) => o.peakAboveBaselineMiB));
    console.log(`| ${label} | ${seconds(mode).toFixed(3)} | ${(mb / seconds(mode)).toFixed(0)} | ${(seconds(mode) / seconds("peer")).toFixed(2)} | ${peak.toFixed(0)} MiB above baseline (${(peak / block).toFixed(2)} blocks) |`);
  }
  console.log(`| netCDF4-python ${version} | ${seconds("peer").toFixed(3)} | ${(mb / seconds("peer")).toFixed(0)} | 1.00 | ${median(runs.peer.map((o) => o.maxRssMiB)).toFixed(0)} MiB max RSS |`);
  for (const [k, v] of Object.entries(runs)) console.log(`  ${k} runs (s): ${v.map((o) => o.seconds.toFixed(3)).join(" ")}`);
}

/** NetCDF-4 (deflate + shuffle) against netCDF4-python; FITS images, plain and RICE_1, against astropy. */
async function formatsBenchmark() {
  mkdirSync(work, { recursive: true });
  execFileSync(PY, [join(here, "make-formats.py"), work], { stdio: "inherit" });
  const cases: [string, string, string, number][] = [
    ["netcdf4", "tas-nc4-deflate.nc", "netCDF4-python", 1.0],
    ["image", "image-f32.fits", "astropy", 0.5],
    ["rice", "image-rice.fits", "astropy", 1.0],
  ];
  console.log(`\nOpen and read a whole variable into memory, decoding on, page cache warm; each round a process per tool that reads 4 times and reports the median of the last 3 (steady state); ${rounds} rounds alternating; in brackets, the first read of a process`);
  console.log(`| read | meridian median s | peer median s | ratio | goal |`);
  console.log(`|---|---|---|---|---|`);
  for (const [kind, file, peer, goal] of cases) {
    const path = join(work, file);
    readFileSync(path); // warm the page cache
    const ours: number[] = [], theirs: number[] = [], firsts: number[][] = [[], []];
    let checks: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = json(process.execPath, ["--import", "tsx", join(here, "read-formats.ts"), kind, path]);
      const b = json(PY, [join(here, "read-formats.py"), kind, path]);
      ours.push(a.seconds);
      theirs.push(b.seconds);
      firsts[0].push(a.first);
      firsts[1].push(b.first);
      checks = [a.check, b.check];
    }
    if (Math.abs(checks[0] - checks[1]) > 1e-6 * Math.abs(checks[1])) throw new Error(`${kind}: sums differ: meridian ${checks[0]}, ${peer} ${checks[1]}`);
    const label = { netcdf4: "NetCDF-4 tas, float32, deflate 4 + shuffle, 110 MB decoded", image: "FITS image 5000 x 5000 float32 (100 MB)", rice: "FITS RICE_1 image 4000 x 4000 int16 (32 MB decoded)" }[kind];
    console.log(`| ${label} | ${median(ours).toFixed(3)} (${median(firsts[0]).toFixed(3)}) | ${peer} ${median(theirs).toFixed(3)} (${median(firsts[1]).toFixed(3)}) | ${(median(ours) / median(theirs)).toFixed(2)} (${(median(firsts[0]) / median(firsts[1])).toFixed(2)}) | <= ${goal} |`);
  }
}

/** The cluster against ipyparallel and dask.distributed: 2 engines/workers on 127.0.0.1, one after the other, `rounds` rounds. */
async function clusterBenchmark() {
  const runs: Record<string, any[]> = { meridian: [], ipyparallel: [], dask: [] };
  for (let r = 0; r < rounds; r++) {
    runs.meridian.push(json(process.execPath, ["--import", "tsx", join(here, "cluster-meridian.ts")]));
    for (const peer of ["ipyparallel", "dask"]) runs[peer].push(json(PY, [join(here, "cluster-peers.py"), peer]));
  }
  const m = (who: string, key: string) => median(runs[who].map((o) => o[key]).filter((x) => typeof x === "number"));
  console.log(`\nCluster, 2 engines on 127.0.0.1, client and controller on the same 2 cores; ${rounds} rounds, medians`);
  console.log(`| measure | meridian | ipyparallel ${runs.ipyparallel[0].version} | dask.distributed ${runs.dask[0].version} | goal |`);
  console.log(`|---|---|---|---|---|`);
  const row = (label: string, key: string, fmt: (x: number) => string, better: "higher" | "lower", goal: string) => {
    const ours = m("meridian", key);
    const ratio = (peer: string) => (better === "higher" ? ours / m(peer, key) : m(peer, key) / ours);
    console.log(`| ${label} | ${fmt(ours)} | ${fmt(m("ipyparallel", key))} (meridian ${ratio("ipyparallel").toFixed(1)}×) | ${fmt(m("dask", key))} (meridian ${ratio("dask").toFixed(1)}×) | ${goal} |`);
  };
  row("no-op tasks/s through map (one task per item)", "tasks_per_s", (x) => x.toFixed(0), "higher", "≥ 20× ipyparallel, ≥ 15× dask");
  row("single task round trip, median ms", "rtt_ms_median", (x) => x.toFixed(3), "lower", "≤ 0.3 ms");
  row("single task round trip, p99 ms", "rtt_ms_p99", (x) => x.toFixed(3), "lower", "");
  row("100 MB Float64Array to an engine and back, MB/s", "mb_per_s", (x) => x.toFixed(0), "higher", "≥ 1000 MB/s");
  row("SIGKILL of a busy engine to the re-run task's result, beyond its 0.5 s, s", "kill_overhead_s", (x) => x.toFixed(3), "lower", "< 0.1 s");
  for (const [k, v] of Object.entries(runs)) console.log(`  ${k}: ${v.map((o) => JSON.stringify(o)).join("\n    ")}`);
}

/** The DRS scan of a synthetic 200,000-file tree, against `find ROOT -name '*.nc'` on the same tree, page cache warm. */
async function drsBenchmark() {
  const tree = join(work, "drs");
  execFileSync(process.execPath, ["--import", "tsx", join(here, "make-drs-tree.ts"), tree], { stdio: "inherit" });
  const find = () => {
    const t = performance.now();
    const out = execFileSync("find", [tree, "-name", "*.nc"], { encoding: "utf8", maxBuffer: 1 << 30 });
    return { seconds: (performance.now() - t) / 1000, files: out.split("\n").filter(Boolean).length };
  };
  find(); // warm the dentry cache
  const ours: number[] = [], again: number[] = [], theirs: number[] = [];
  let kept = 0, listed = 0;
  for (let r = 0; r < rounds; r++) {
    const b = find();
    const a = json(process.execPath, ["--import", "tsx", join(here, "drs-scan.ts"), tree]);
    ours.push(a.seconds);
    again.push(a.rescan);
    theirs.push(b.seconds);
    kept = a.files;
    listed = b.files;
  }
  console.log(`\nDRS scan of a synthetic CMIP5 tree (${listed} files; ${kept} kept by the latest-version policy), ${rounds} rounds, medians, dentry cache warm`);
  console.log(`| scan | seconds | ratio to find | goal |`);
  console.log(`|---|---|---|---|`);
  console.log(`| meridian drs.scan (facets, versions, time checks) | ${median(ours).toFixed(2)} | ${(median(ours) / median(theirs)).toFixed(2)} | <= 2 |`);
  console.log(`| meridian drs.scan again, tree unchanged (directory mtimes) | ${median(again).toFixed(2)} | ${(median(again) / median(theirs)).toFixed(2)} (${(median(again) / median(ours)).toFixed(2)} of a full scan) | <= 0.2 of a full scan |`);
  console.log(`| find ROOT -name '*.nc' | ${median(theirs).toFixed(2)} | 1.00 | |`);
}

/**
 * Reductions as a user waits for them: the whole command line, `meridian
 * reduce ... --connection FILE` against a running cluster, next to the peer's
 * command line, on a 2 GB monthly float32 series (8 files), page cache warm.
 */
async function reduceBenchmark() {
  const dir = join(work, "reduce");
  execFileSync(process.execPath, ["--import", "tsx", join(here, "make-reduce-series.ts"), dir], { stdio: "inherit" });
  const r1 = readdirSync(dir).filter((f) => f.includes("_r1i1p1_")).sort().map((f) => join(dir, f));
  const r2 = readdirSync(dir).filter((f) => f.includes("_r2i1p1_")).sort().map((f) => join(dir, f));
  const gb = r1.reduce((s, f) => s + statSync(f).size, 0) / 1e9;
  for (const f of [...r1, ...r2]) readFileSync(f); // warm the page cache
  const home = join(work, "reduce-home"), out = join(work, "reduce-out");
  mkdirSync(out, { recursive: true });
  const env = { ...process.env, MERIDIAN_HOME: home };
  const meridian = join(here, "../packages/cli/bin/meridian.js");
  const timed = (cmd: string, args: string[]) => {
    const t = performance.now();
    execFileSync(cmd, args, { env, stdio: ["ignore", "ignore", "inherit"] });
    return (performance.now() - t) / 1000;
  };
  const connection = (n: number) => join(home, "profiles", `bench-${n}`, "connection.json");
  for (const n of [1, 2]) execFileSync(process.execPath, [meridian, "cluster", "start", "--engines", String(n), "--profile", `bench-${n}`], { env, stdio: "inherit" });
  try {
    const ours = (ops: string, files: string[], engines = 2) => [process.execPath, [meridian, "reduce", ops, ...files, "--var", "tas", "--connection", connection(engines), "--out", join(out, "meridian.nc")]] as const;
    const cases: [string, readonly [string, readonly string[]], readonly [string, string[]]][] = [
      [`timmean, ${r1.length} files, ${gb.toFixed(2)} GB`, ours("timmean", r1), ["ncra", ["-O", ...r1, join(out, "ncra.nc")]]],
      ["yearmonmean,fldmean, same files", ours("yearmonmean,fldmean", r1), ["cdo", ["-O", "-s", "fldmean", "-yearmonmean", "-mergetime", ...r1, join(out, "cdo.nc")]]],
      [`ensmean of 2 members (1 file each, ${(2 * statSync(r2[0]).size / 1e9).toFixed(2)} GB)`, ours("ensmean", [r1[0], r2[0]]), ["nces", ["-O", r1[0], r2[0], join(out, "nces.nc")]]],
    ];
    const names = { ncra: "NCO ncra", cdo: "CDO -fldmean -yearmonmean -mergetime", nces: "NCO nces" };
    console.log(`\nReductions, whole command lines, meridian on a running 2-engine cluster (--connection), page cache warm, ${rounds} rounds, medians`);
    console.log("| case | meridian s | peer | peer s | ratio | goal |");
    console.log("|---|---|---|---|---|---|");
    for (const [label, [cmd, args], [pcmd, pargs]] of cases) {
      const a: number[] = [], b: number[] = [];
      timed(cmd, [...args]); // warm-up (tsx's cache, the engines' imports)
      for (let r = 0; r < rounds; r++) (a.push(timed(cmd, [...args])), b.push(timed(pcmd, pargs)));
      console.log(`| ${label} | ${median(a).toFixed(2)} | ${names[pcmd as keyof typeof names]} | ${median(b).toFixed(2)} | ${(median(a) / median(b)).toFixed(2)} | <= 0.5 |`);
    }
    const one: number[] = [], two: number[] = [];
    const [cmd1, args1] = ours("timmean", r1, 1), [cmd2, args2] = ours("timmean", r1, 2);
    timed(cmd1, [...args1]);
    for (let r = 0; r < rounds; r++) (one.push(timed(cmd1, [...args1])), two.push(timed(cmd2, [...args2])));
    console.log(`| timmean on 1 engine against 2 | ${median(one).toFixed(2)} / ${median(two).toFixed(2)} | | | speed-up ${(median(one) / median(two)).toFixed(2)} | >= 1.7 |`);
  } finally {
    for (const n of [1, 2]) execFileSync(process.execPath, [meridian, "cluster", "stop", "--profile", `bench-${n}`], { env, stdio: "inherit" });
  }
}

/**
 * PMF: the base case (20 restarts) and 1000 block-bootstrap replicates of
 * Baton Rouge (307 × 41, 6 factors, all species strong, robust mode) on 2
 * engines, against numpy on 2 processes: ESAT's multiplicative updates, and
 * meridian's algorithm (alternating least squares) written in numpy, which is
 * slow enough to time on fewer replicates (PMF_NUMPY_ALS, default 100).
 */
async function pmfBenchmark() {
  const data = join(here, "../datasets/pmf/esat/data");
  const files = [join(data, "Dataset-BatonRouge-con.csv"), join(data, "Dataset-BatonRouge-unc.csv")];
  const B = Number(process.env.PMF_REPLICATES ?? 1000), alsB = Number(process.env.PMF_NUMPY_ALS ?? 100), pmfRounds = Number(process.env.PMF_ROUNDS ?? 3);
  const runs: Record<string, any[]> = { meridian: [], mu: [], als: [] };
  for (let r = 0; r < pmfRounds; r++) {
    runs.meridian.push(json(process.execPath, ["--import", "tsx", join(here, "pmf-meridian.ts"), ...files, "6", String(B), "2"]));
    const block = String(runs.meridian[0].block);
    runs.mu.push(json(PY, [join(here, "pmf-numpy.py"), ...files, "6", String(B), "2", "mu", block]));
    runs.als.push(json(PY, [join(here, "pmf-numpy.py"), ...files, "6", String(alsB), "2", "als", block]));
  }
  const med = (key: string, field: string) => median(runs[key].map((o) => o[field]));
  const per1000 = (key: string) => (med(key, "bootstrap_seconds") * 1000) / runs[key][0].replicates;
  console.log(`\nPMF, Baton Rouge 307 × 41, 6 factors, robust: 20 restarts, then bootstrap (blocks of ${runs.meridian[0].block}), 2 engines / 2 processes, ${pmfRounds} rounds, medians`);
  console.log("| implementation | base case s | bootstrap s per 1000 | ratio to numpy MU | median iterations per replicate | µs per iteration (1 process) | Q(robust) of the base |");
  console.log("|---|---|---|---|---|---|---|");
  const row = (label: string, key: string, note = "") =>
    console.log(`| ${label} | ${med(key, "base_seconds").toFixed(1)} | ${per1000(key).toFixed(1)}${note} | ${(per1000(key) / per1000("mu")).toFixed(2)} | ${med(key, "iterations_median")} | ${med(key, "us_per_iteration").toFixed(0)} | ${med(key, "Q_robust_base").toFixed(1)} |`);
  row("meridian (ALS, wasm SIMD)", "meridian");
  row(`numpy ${runs.mu[0].numpy} MU (ESAT's updates)`, "mu");
  row(`numpy ${runs.als[0].numpy} ALS (meridian's algorithm)`, "als", ` (from ${alsB})`);
  for (const [k, v] of Object.entries(runs)) console.log(`  ${k} bootstrap runs (s): ${v.map((o) => o.bootstrap_seconds.toFixed(1)).join(" ")}`);
}

const which = process.argv[2];
if (!which || which === "read") await readBenchmark();
if (!which || which === "formats") await formatsBenchmark();
if (!which || which === "cluster") await clusterBenchmark();
if (!which || which === "drs") await drsBenchmark();
if (!which || which === "reduce") await reduceBenchmark();
if (!which || which === "pmf") await pmfBenchmark();
