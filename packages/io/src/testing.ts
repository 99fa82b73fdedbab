/** Helpers shared by the tests of @meridian/io (and the end-to-end tests). */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const DATASETS = fileURLToPath(new URL("../../../datasets", import.meta.url));

/** Every NetCDF classic file under datasets/ (by magic bytes), relative paths, sorted. */
export function classicFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".nc")) {
        const head = readFileSync(p).subarray(0, 4);
        if (head.toString("latin1", 0, 3) === "CDF" && [1, 2, 5].includes(head[3])) out.push(relative(DATASETS, p));
      }
    }
  };
  walk(DATASETS);
  return out.sort();
}

/** A small seeded PRNG (mulberry32), so a failing fuzz case can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Where meridian decodes differently from netCDF4-python on purpose. There the
 * decoded values are checked against raw * scale_factor + add_offset instead,
 * with netCDF4-python's mask.
 */
export const DELIBERATE: Record<string, { dtype: string; why: string }> = {
  "netcdf/generated/cf-edges.nc:float_with_double_offset": { dtype: "float64", why: "CF: unpacked values take the type of add_offset (double); numpy keeps float32" },
  "netcdf/generated/cf-edges.nc:short_integer_scale": { dtype: "float64", why: "a non-float scale_factor unpacks to double; numpy keeps int16 and overflows (20000 * 2 gives -25536)" },
  "netcdf/generated/cf-edges.nc:short_unit_scale_only": { dtype: "float32", why: "any scale_factor, 1 included, means unpacked floats: a dtype must not hang on attribute values" },
};
