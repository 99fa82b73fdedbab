/**
 * meridian reading VAR of FILE in blocks of N records with CF decoding (masked
 * values become NaN). Prints JSON: seconds, valid values, and peak memory above
 * the baseline taken just before reading.
 */
import { open } from "@meridian/io";

const [path, name, n] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const ds = await open(path);
const v = ds.variable(name);
const dim = v.dims[0];
const baseline = process.memoryUsage().rss;
let peak = baseline;
const started = performance.now();
let valid = 0;
let blockBytes = 0;
for await (const b of v.blocks({ [dim]: n })) {
  const d = b.data as Float32Array;
  blockBytes = Math.max(blockBytes, d.byteLength);
  for (let i = 0; i < d.length; i++) if (d[i] === d[i]) valid++; // counts non-NaN values, as the peer counts unmasked ones
  peak = Math.max(peak, process.memoryUsage().rss);
}
const seconds = (performance.now() - started) / 1000;
await ds.close();
console.log(JSON.stringify({ seconds, valid, peakAboveBaselineMiB: (peak - baseline) / 2 ** 20, blockMiB: blockBytes / 2 ** 20, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
