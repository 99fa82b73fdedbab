/**
 * open(): the one entry point for every format. Parsed metadata is cached per
 * process (keyed by path and checked against the file's identity), so reopening a
 * file, as engines do for every task, costs one stat().
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Backend } from "./backend.ts";
import { Dataset } from "./dataset.ts";
import { detectFormat } from "./detect.ts";
import { FormatError, ioError, UnsupportedError } from "./errors.ts";
import { gunzipSync } from "node:zlib";
import { openFits } from "./formats/fits/index.ts";
import { openHdf5 } from "./formats/hdf5/index.ts";
import { openNetcdf3 } from "./formats/netcdf3/index.ts";
import { FileSource, MemorySource, sameFile, type ByteSource } from "./source.ts";

interface Entry {
  backend: Backend;
  users: number;
}

/** Parsed datasets kept for reuse, least recently used first. */
const cache = new Map<string, Entry>();
let maxCached = 256;

/** Opens a NetCDF, HDF5 or FITS file; the format comes from its magic bytes. */
export async function open(path: string): Promise<Dataset> {
  const abs = resolve(path);
  let st;
  try {
    st = await stat(abs);
  } catch (err) {
    throw ioError(path, err);
  }
  let entry = cache.get(abs);
  if (entry && sameFile(entry.backend.source.identity!, st)) {
    cache.delete(abs);
    cache.set(abs, entry); // most recently used
  } else {
    if (entry) forget(abs, entry);
    const source = await FileSource.open(abs, st);
    const backend = await openSource(source).catch(async (e) => {
      await source.close();
      throw e;
    });
    entry = { backend, users: 0 };
    cache.set(abs, entry);
  }
  const ds = handle(entry, abs);
  trim(); // after handle(): the entry just opened is in use, so it stays
  return ds;
}

function handle(entry: Entry, key: string): Dataset {
  entry.users++;
  return new Dataset(entry.backend, () => {
    entry.users--;
    if (cache.get(key) !== entry) closeIfIdle(entry);
  });
}

/** Closes an entry's file once no handle uses it. */
function closeIfIdle(entry: Entry): boolean {
  if (entry.users > 0) return false;
  void closeBackend(entry.backend);
  return true;
}

async function closeBackend(backend: Backend) {
  await backend.close?.();
  await backend.source.close();
}

/** Drops a stale entry; its file closes when its last handle does. */
function forget(key: string, entry: Entry) {
  cache.delete(key);
  closeIfIdle(entry);
}

/** Evicts idle entries, least recently used first, down to `keep`. */
function trim(keep = maxCached) {
  for (const [key, entry] of cache) {
    if (cache.size <= keep) break;
    if (closeIfIdle(entry)) cache.delete(key);
  }
}

/** Parses a byte source (a file, or bytes in memory) into a backend. */
export async function openSource(source: ByteSource): Promise<Backend> {
  const format = await detectFormat(source);
  switch (format) {
    case "netcdf3":
      return openNetcdf3(source);
    case "fits":
      return openFits(source);
    case "gzip":
      return openGzip(source);
    case "hdf5":
      return openHdf5(source);
    default:
      throw new FormatError(source.name, 0, "not a NetCDF, HDF5 or FITS file: no known magic bytes at the start");
  }
}

/** Largest decompressed size of a gzip-compressed file (a typed array's limit). */
const MAX_GUNZIP_BYTES = 2 ** 32 - 1;

/** A gzip-compressed file (.fits.gz) is decompressed into memory once, then read like the plain file. */
async function openGzip(source: ByteSource): Promise<Backend> {
  let bytes: Uint8Array;
  try {
    bytes = gunzipSync(await source.read(0, source.size), { maxOutputLength: MAX_GUNZIP_BYTES });
  } catch (e) {
    throw new FormatError(source.name, 0, `gzip data cannot be decompressed: ${(e as Error).message}`, { cause: e });
  } finally {
    await source.close(); // every byte is in memory now
  }
  const inner = new MemorySource(source.name, bytes, source.identity);
  if ((await detectFormat(inner)) !== "fits") throw new UnsupportedError("only FITS files are read gzip-compressed", source.name);
  return openFits(inner, "fits.gz");
}

/** Opens bytes held in memory (tests, data that arrived over the wire). Not cached. */
export async function openBytes(bytes: Uint8Array, name = "<memory>"): Promise<Dataset> {
  const backend = await openSource(new MemorySource(name, bytes));
  return new Dataset(backend, () => void closeBackend(backend));
}

/** Sets how many parsed datasets stay cached (default 256). */
export function setMaxCachedDatasets(n: number) {
  maxCached = n;
}

/** Forgets every idle cached dataset and closes its file. */
export function clearCache() {
  trim(0);
}
