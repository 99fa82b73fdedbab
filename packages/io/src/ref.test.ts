import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ClosedError, IOError, RefError } from "./errors.ts";
import { clearCache, open } from "./open.ts";
import { openRef, readRef } from "./ref.ts";
import { openFileCount, setMaxOpenFiles } from "./source.ts";
import { classicFiles, DATASETS } from "./testing.ts";

const TAS = join(DATASETS, "netcdf/geocat-datafiles/tas_rectilinear_grid_2D.nc");
const dir = mkdtempSync(join(tmpdir(), "meridian-ref-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dataset references", () => {
  it("are small JSON that another process reopens to read the same values", async () => {
    const ds = await open(TAS);
    const ref = ds.variable("tas").ref({ time: [2, 4], lat: 10 });
    const text = JSON.stringify(ref);
    expect(text.length).toBeLessThan(400);
    expect(JSON.parse(text)).toEqual(ref);
    expect(ref).toMatchObject({ kind: "meridian.dataset", path: TAS, format: "netcdf3", variable: "tas" });
    const here = await ds.variable("tas").read({ time: [2, 4], lat: 10 });
    // A real process boundary: a fresh Node process gets only the JSON.
    const script = `import { readRef } from ${JSON.stringify(new URL("./index.ts", import.meta.url).href)};
      const a = await readRef(JSON.parse(process.argv[1]));
      process.stdout.write(JSON.stringify({ shape: a.shape, dims: a.dims, data: Array.from(a.data) }));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, text], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({ shape: here.shape, dims: here.dims, data: Array.from(here.data as Float32Array) });
    await ds.close();
  });

  it("refuse to read a file that changed after the reference was made", async () => {
    const copy = join(dir, "changing.nc");
    copyFileSync(TAS, copy);
    const ds = await open(copy);
    const ref = ds.ref("tas");
    await ds.close();
    utimesSync(copy, new Date(), new Date(Date.now() + 5000));
    await expect(openRef(ref)).rejects.toThrow(IOError);
    await expect(readRef(ref)).rejects.toThrow(/file changed since the reference was made/);
    await expect(openRef({ ...ref, path: join(dir, "gone.nc") })).rejects.toThrow(/gone\.nc: no such file/);
  });

  it("reopen through the cache, and a file rewritten on disk is parsed again", async () => {
    const copy = join(dir, "rewritten.nc");
    copyFileSync(TAS, copy);
    const a = await open(copy);
    expect(a.variable("tas").shape).toEqual([12, 96, 192]);
    const other = join(DATASETS, "netcdf/netcdf-c/ncdump/ref_test_360_day_1900.nc");
    writeFileSync(copy, readFileSync(other));
    const b = await open(copy);
    expect(Object.keys(b.variables)).toEqual(["time"]);
    // the old handle notices that its file is gone rather than reading the new bytes as the old layout
    await expect(a.variable("tas").read("0,0,0")).rejects.toThrow(/changed on disk|truncated|shorter/);
    await a.close();
    await b.close();
  });

  it("anything but a reference is refused with a RefError", async () => {
    await expect(openRef({} as never)).rejects.toThrow(RefError);
    const ds = await open(TAS);
    await expect(readRef(ds.ref())).rejects.toThrow(/the reference names no variable/);
    await ds.close();
  });

  it("a closed dataset refuses reads", async () => {
    const ds = await open(TAS);
    await ds.close();
    await expect(ds.variable("tas").read()).rejects.toThrow(ClosedError);
  });
});

describe("the descriptor pool", () => {
  it("leaves no descriptor behind when a file is closed while it is being opened", async () => {
    const copy = join(dir, "closing.nc");
    copyFileSync(TAS, copy);
    setMaxOpenFiles(1);
    try {
      const ds = await open(copy);
      const other = await open(join(DATASETS, "netcdf/netcdf-c/ncdump/ref_test_360_day_1900.nc"));
      await other.variable("time").read("0"); // takes the only slot: ds must reopen to read
      const reading = ds.variable("tas").read("0,0,0").catch((e) => e);
      await ds.close();
      clearCache();
      await reading;
      await other.close();
      clearCache();
      await new Promise((r) => setTimeout(r, 50));
      expect(openFileCount()).toBe(0);
    } finally {
      setMaxOpenFiles(64);
    }
  });


  it("keeps at most N files open while many datasets are read in turn", async () => {
    const files = classicFiles().map((f, i) => {
      const p = join(dir, `pool-${i}.nc`);
      copyFileSync(join(DATASETS, f), p);
      return p;
    });
    expect(files.length).toBeGreaterThan(8);
    setMaxOpenFiles(3);
    try {
      const datasets = await Promise.all(files.map((f) => open(f)));
      const first = new Map<string, unknown>();
      for (let round = 0; round < 2; round++) {
        for (const ds of datasets) {
          const v = Object.values(ds.variables).find((x) => x.size > 0)!;
          const a = await v.read(v.dims.map(() => 0));
          const key = `${ds.path}:${v.name}`;
          if (round === 0) first.set(key, a.data[0]);
          else expect(a.data[0]).toEqual(first.get(key));
          expect(openFileCount()).toBeLessThanOrEqual(3);
        }
      }
      await Promise.all(datasets.map((d) => d.close()));
    } finally {
      setMaxOpenFiles(64);
    }
  });
});
