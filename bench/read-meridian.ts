/**
 * meridian reading VAR of FILE in blocks of N records with CF decoding (masked
 * values become NaN), with fresh arrays per block or, given "reuse", through two
 * reused buffers. Only the reads are timed; the count of valid values, for the
 * cross-check with the peer, is taken in a second, untimed pass. Prints JSON:
 * seconds, valid values, and peak memory above the baseline taken before reading.
 */
import { open } from "@meridian/io";

const [path, name, n, mode] = [process.argv[2], process.argv[3], Number(process.argv[4]), process.argv[5]];
const ds = await open(path);
const v = ds.variable(name);
const sizes = { [v.dims[0]]: n };
const options = { reuse: mode === "reuse" };
const baseline = process.memoryUsage().rss;
let peak = baseline;
let blockBytes = 0;
const started = performance.now();
for await (const b of v.blocks(sizes, options)) {
  blockBytes = Math.max(blockBytes, (b.data as Float32Array).byteLength);
  peak = Math.max(peak, process.memoryUsage().rss);
}
const seconds = (performance.now() - started) / 1000;
let valid = 0;
for await (const b of v.blocks(sizes, options)) {
  const d = b.data as Float32Array;
  for (let i = 0; i < d.length; i++) if (d[i] === d[i]) valid++;
}
await ds.close();
console.log(JSON.stringify({ seconds, valid, peakAboveBaselineMiB: (peak - baseline) / 2 ** 20, blockMiB: blockBytes / 2 ** 20 }));
