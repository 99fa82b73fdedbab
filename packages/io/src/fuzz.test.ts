/**
 * Mutates the real sample files, NetCDF classic and FITS (truncations, byte
 * flips and extreme values in the headers), a few thousand times: every outcome
 * must be a valid read or a typed MeridianError, quickly and without large
 * allocations.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MeridianError } from "./errors.ts";
import { hdf5WorkerStarts, setHdf5Timeout } from "./formats/hdf5/index.ts";
import { clearCache, open, openBytes } from "./open.ts";
import { classicFiles, DATASETS, rng } from "./testing.ts";

const ITERATIONS = 4000;
const HDF5_ITERATIONS = 600;
const EXTREMES = [0xffffffff, 0x7fffffff, 0x80000000, 0, 1, 0x10000, 0xfffffffe];

const fitsFiles = () => readdirSync(join(DATASETS, "fits"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".fits")).map((f) => join("fits", f));

describe("fuzzing the readers with mutated real files", () => {
  const files = [...classicFiles(), ...fitsFiles()]
    .filter((f) => statSync(join(DATASETS, f)).size < 1_000_000)
    .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(DATASETS, f))) }));

  it(`gives only typed errors over ${ITERATIONS} mutations`, async () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    const random = rng(20261122);
    const int = (n: number) => Math.floor(random() * n);
    const outcomes = { ok: 0, typed: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const f = files[int(files.length)];
      const bytes = f.bytes.slice();
      const headerEnd = Math.min(bytes.length, 8192); // NetCDF headers here are small; FITS headers run to a few blocks
      let mutated: Uint8Array = bytes;
      let how: string;
      switch (int(3)) {
        case 0: {
          const cut = int(bytes.length);
          mutated = bytes.subarray(0, cut);
          how = `truncated to ${cut}`;
          break;
        }
        case 1: {
          const flips = 1 + int(8);
          const where: number[] = [];
          for (let k = 0; k < flips; k++) {
            const p = int(headerEnd);
            bytes[p] ^= 1 << int(8);
            where.push(p);
          }
          how = `bits flipped at ${where.join(",")}`;
          break;
        }
        default: {
          const p = 4 * int(headerEnd >> 2);
          const v = EXTREMES[int(EXTREMES.length)];
          new DataView(bytes.buffer).setUint32(p, v);
          how = `word at ${p} set to ${v}`;
        }
      }
      const started = performance.now();
      try {
        const ds = await openBytes(mutated, f.name);
        for (const v of Object.values(ds.variables).slice(0, 40)) {
          if (v.size === 0) continue;
          await v.read(v.dims.map(() => 0));
          await v.read(v.dims.map(() => -1));
          if (v.size <= 4096) await v.read();
        }
        outcomes.ok++;
      } catch (e) {
        if (!(e instanceof MeridianError)) {
          throw new Error(`iteration ${i}, ${f.name} ${how}: untyped ${(e as Error)?.stack ?? e}`);
        }
        expect(e.message.startsWith(f.name)).toBe(true);
        outcomes.typed++;
      }
      const took = performance.now() - started;
      if (took > 1000) throw new Error(`iteration ${i}, ${f.name} ${how}: took ${took.toFixed(0)} ms`);
    }
    // Both paths were exercised: plenty of mutations are caught, some are harmless.
    expect(outcomes.typed).toBeGreaterThan(ITERATIONS / 10);
    expect(outcomes.ok).toBeGreaterThan(0);
  });
});

describe("fuzzing the HDF5 reader with mutated real files", () => {
  const dir = mkdtempSync(join(tmpdir(), "meridian-fuzz-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files = readdirSync(join(DATASETS, "hdf5"), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.(h5|hdf5|nc)$/.test(f) && statSync(join(DATASETS, "hdf5", f)).size < 100_000)
    .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(DATASETS, "hdf5", f))) }));

  it(`gives only typed errors over ${HDF5_ITERATIONS} mutations`, { timeout: 240_000 }, async () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    const random = rng(7);
    const int = (n: number) => Math.floor(random() * n);
    const outcomes = { ok: 0, typed: 0, aborted: 0 };
    await (await open(join(DATASETS, "hdf5/pyfive/netcdf4_classic.nc"))).close(); // starts the worker
    setHdf5Timeout(2); // HDF5 loops forever on some corrupt files: find out sooner
    for (let i = 0; i < HDF5_ITERATIONS; i++) {
      const workers = hdf5WorkerStarts();
      const f = files[int(files.length)];
      const bytes = f.bytes.slice();
      let how: string;
      if (random() < 0.3) {
        const cut = int(bytes.length);
        how = `truncated to ${cut}`;
        bytes.fill(0, cut); // same length, zeros from the cut on
      } else {
        const where = Array.from({ length: 1 + int(8) }, () => int(Math.min(bytes.length, 4096)));
        for (const p of where) bytes[p] ^= 1 << int(8);
        how = `bits flipped at ${where.join(",")}`;
      }
      const path = join(dir, `m${i}.h5`);
      writeFileSync(path, bytes);
      const started = performance.now();
      let stopped = false;
      try {
        const ds = await open(path);
        for (const v of Object.values(ds.variables).slice(0, 20)) {
          if (v.size === 0) continue;
          await v.read(v.dims.map(() => 0));
          if (v.size <= 4096) await v.read();
        }
        await ds.close();
        outcomes.ok++;
      } catch (e) {
        if (!(e instanceof MeridianError)) throw new Error(`iteration ${i}, ${f.name} ${how}: untyped ${(e as Error)?.stack ?? e}`);
        expect(e.message.startsWith(path)).toBe(true);
        outcomes.typed++;
        stopped = /HDF5 library stopped/.test(e.message);
        if (stopped) outcomes.aborted++;
      } finally {
        clearCache();
        rmSync(path);
      }
      // A worker started after an abort takes a second or two: not the bad input's time.
      // A stuck HDF5 is stopped at the 2 s deadline.
      const took = performance.now() - started;
      const limit = stopped ? 3000 : 1000;
      if (took > limit && hdf5WorkerStarts() === workers) throw new Error(`iteration ${i}, ${f.name} ${how}: took ${took.toFixed(0)} ms`);
    }
    setHdf5Timeout(10);
    if (process.env.FUZZ_DEBUG) console.log("HDF5 fuzz outcomes", outcomes);
    expect(outcomes.typed).toBeGreaterThan(HDF5_ITERATIONS / 10);
    expect(outcomes.ok).toBeGreaterThan(0);
  });
});
