/**
 * meridian opening a file and reading a whole variable into memory (CF/FITS
 * decoding on), the same work as read-formats.py: four times in one process,
 * the first as a warm-up (libraries loaded and compiled, HDF5's threads
 * started); the median of the other three is reported, the steady state of a
 * session or a reduction over many files. Usage: read-formats.ts KIND FILE.
 * Prints JSON.
 */
import { open } from "@meridian/io";

const [kind, path] = [process.argv[2], process.argv[3]];
const name = kind === "netcdf4" ? "tas" : kind === "rice" ? "COMPRESSED_IMAGE" : "PRIMARY";
const times: number[] = [];
let check = 0;
for (let r = 0; r < 4; r++) {
  const started = performance.now();
  const ds = await open(path);
  const a = await ds.variable(name).read();
  times.push((performance.now() - started) / 1000);
  check = 0;
  const values = a.data as ArrayLike<number>;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) check += values[i];
  await ds.close();
}
const seconds = times.slice(1).sort((a, b) => a - b)[1];
console.log(JSON.stringify({ seconds, first: times[0], check }));
