/**
 * meridian reading a whole variable into memory (CF/FITS decoding on), the same
 * reads as read-formats.py. Usage: read-formats.ts KIND FILE. Prints JSON.
 */
import { open } from "@meridian/io";

const [kind, path] = [process.argv[2], process.argv[3]];
const name = kind === "netcdf4" ? "tas" : kind === "rice" ? "COMPRESSED_IMAGE" : "PRIMARY";
const ds = await open(path);
const started = performance.now();
const a = await ds.variable(name).read();
const seconds = (performance.now() - started) / 1000;
let check = 0;
const values = a.data as ArrayLike<number>;
for (let i = 0; i < values.length; i++) if (values[i] === values[i]) check += values[i];
await ds.close();
console.log(JSON.stringify({ seconds, check }));
