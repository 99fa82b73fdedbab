import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FormatError } from "../../errors.ts";
import { open, openBytes } from "../../open.ts";
import { DATASETS } from "../../testing.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-hdf5-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bad HDF5 input", () => {
  it("a truncated file gives a FormatError naming it, quickly", async () => {
    await (await open(join(DATASETS, "hdf5/pyfive/netcdf4_classic.nc"))).close(); // starts the HDF5 worker thread, once per process
    const bytes = readFileSync(join(DATASETS, "netcdf/intake-esm/cesm-le/b.e11.B20TRC5CNBDRD.f09_g16.001.pop.h.SHF.185001-200512.nc"));
    // HDF5's error stack must become the message, never a dump on stderr.
    const stderrWrites: unknown[] = [];
    const writeSync = fs.writeSync;
    (fs as { writeSync: unknown }).writeSync = (fd: number, ...rest: unknown[]) => (fd === 2 ? (stderrWrites.push(rest[0]), 0) : (writeSync as Function).call(fs, fd, ...rest));
    try {
      for (const cut of [9, 512, 4096, 100_000, bytes.length - 1]) {
        const path = join(dir, `cut-${cut}.nc`);
        writeFileSync(path, bytes.subarray(0, cut));
        const started = performance.now();
        await expect(open(path)).rejects.toThrow(FormatError);
        await expect(open(path)).rejects.toThrow(new RegExp(`cut-${cut}\\.nc: at byte 0: HDF5 library cannot open the file: .*(truncated|Read failed)`));
        expect(performance.now() - started).toBeLessThan(1000);
      }
    } finally {
      (fs as { writeSync: unknown }).writeSync = writeSync;
    }
    expect(stderrWrites).toEqual([]);
  });

  it("HDF5 in memory is refused clearly (h5wasm reads files on disk)", async () => {
    const bytes = readFileSync(join(DATASETS, "hdf5/pyfive/netcdf4_classic.nc"));
    await expect(openBytes(new Uint8Array(bytes), "mem.nc")).rejects.toThrow(/mem\.nc: HDF5 files can only be read from a file on disk/);
  });
});
