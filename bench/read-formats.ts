/**
 * meridian opening a file and reading a whole variable into memory (CF/FITS
 * decoding on), the same work as read-formats.py. A small file of the same
 * format is opened first, as a session would have, so that what is timed is
 * the steady state (HDF5's reading threads started). Usage:
 * read-formats.ts KIND FILE WARMUP-FILE. Prints JSON.
 */
import { open } from "@meridian/io";

const [kind, path, warmup] = [process.argv[2], process.argv[3], process.argv[4]];
const name = kind === "netcdf4" ? "tas" : kind === "rice" ? "COMPRESSED_IMAGE" : "PRIMARY";
await (await open(warmup)).close();
const started = performance.now();
const ds = await open(path);
const a = await ds.variable(name).read();
const seconds = (performance.now() - started) / 1000;
let check = 0;
const values = a.data as ArrayLike<number>;
for (let i = 0; i < values.length; i++) if (values[i] === values[i]) check += values[i];
await ds.close();
console.log(JSON.stringify({ seconds, check }));
