/**
 * Benchmarks against the peer tools, in one run on the same machine. They print
 * medians and ratios; they assert nothing. Inputs are generated into a temp folder.
 *
 *   npm run bench            all benchmarks
 *   npm run bench -- read    only the NetCDF classic read
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
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
  const ours: any[] = [], peer: any[] = [];
  for (let r = 0; r < rounds; r++) {
    ours.push(json(process.execPath, ["--import", "tsx", join(here, "read-meridian.ts"), file, "tas", String(records)]));
    peer.push(json(PY, [join(here, "read-netcdf4.py"), file, "tas", String(records)]));
  }
  if (ours[0].valid !== peer[0].valid) throw new Error(`valid counts differ: meridian ${ours[0].valid}, netCDF4 ${peer[0].valid}`);
  const m = median(ours.map((o) => o.seconds)), p = median(peer.map((o) => o.seconds));
  const mb = readFileSync(file).byteLength / 1e6;
  console.log(`\nNetCDF classic (CDF-2) read of tas, float32, ${mb.toFixed(0)} MB file, blocks of ${records} records (${ours[0].blockMiB.toFixed(1)} MiB), ${rounds} rounds, page cache warm`);
  console.log(`| reader | median s | MB/s | peak memory above baseline |`);
  console.log(`|---|---|---|---|`);
  console.log(`| meridian | ${m.toFixed(3)} | ${(mb / m).toFixed(0)} | ${median(ours.map((o) => o.peakAboveBaselineMiB)).toFixed(0)} MiB (${(median(ours.map((o) => o.peakAboveBaselineMiB)) / ours[0].blockMiB).toFixed(2)} blocks) |`);
  console.log(`| netCDF4-python ${execFileSync(PY, ["-c", "import netCDF4; print(netCDF4.__version__)"], { encoding: "utf8" }).trim()} | ${p.toFixed(3)} | ${(mb / p).toFixed(0)} | max RSS ${median(peer.map((o) => o.maxRssMiB)).toFixed(0)} MiB |`);
  console.log(`ratio meridian / netCDF4-python: ${(m / p).toFixed(2)} (goal <= 0.5); all runs: meridian ${ours.map((o) => o.seconds.toFixed(3)).join(" ")}, netCDF4 ${peer.map((o) => o.seconds.toFixed(3)).join(" ")}`);
}

const which = process.argv[2];
if (!which || which === "read") await readBenchmark();
