/**
 * The main job. Until the reductions exist, it summarises every bundled dataset:
 * format, dimensions, and for each file's largest variable the range and mean of
 * its valid values, read in blocks.
 */
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { MeridianError, open, type Variable } from "@meridian/io";

export const DATASETS = fileURLToPath(new URL("../../../../datasets", import.meta.url));

async function* walk(dir: string): AsyncGenerator<string> {
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== "fixtures") yield* walk(p);
    else if (e.isFile() && /\.(nc|nc4|h5|hdf5|fits|fit|fz)(\.gz)?$/i.test(e.name)) yield p;
  }
}

export async function demo(options: { datasets?: string }): Promise<void> {
  const root = options.datasets ?? DATASETS;
  const started = performance.now();
  let opened = 0, skipped = 0;
  console.log(`meridian demo: summarising the datasets in ${root}`);
  for await (const file of walk(root)) {
    const name = relative(root, file);
    let ds;
    try {
      ds = await open(file);
    } catch (e) {
      if (!(e instanceof MeridianError)) throw e;
      skipped++;
      console.log(`  - ${name}: skipped (${e.name}: ${e.message.replace(`${file}: `, "")})`);
      continue;
    }
    opened++;
    try {
      const dims = Object.entries(ds.dims).map(([k, v]) => `${k}=${v}${ds.unlimited.includes(k) ? "*" : ""}`).join(" ");
      const numeric = Object.values(ds.variables).filter((v) => v.dtype !== "char" && v.dtype !== "string");
      const main = numeric.sort((a, b) => b.size - a.size)[0];
      console.log(`  ${name}: ${ds.format} ${ds.variant}, ${Object.keys(ds.variables).length} variables, dims ${dims || "none"}`);
      if (main) console.log(`      ${await summary(main).catch((e) => {
        if (!(e instanceof MeridianError)) throw e;
        return `${main.name}: not read (${e.name}: ${e.message.replace(`${file}: `, "")})`;
      })}`);
    } finally {
      await ds.close();
    }
  }
  console.log(`done: ${opened} files read, ${skipped} skipped, in ${((performance.now() - started) / 1000).toFixed(2)} s`);
}

/** Range and mean of the valid (unmasked, non-NaN) values, accumulated in float64 block by block. */
async function summary(v: Variable): Promise<string> {
  let n = 0, sum = 0, min = Infinity, max = -Infinity, missing = 0;
  for await (const b of v.blocks()) {
    const d = b.data as ArrayLike<number | bigint>;
    for (let i = 0; i < d.length; i++) {
      const x = Number(d[i]);
      if (b.mask?.[i] || Number.isNaN(x)) { missing++; continue; }
      n++; sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  const units = typeof v.attrs.units === "string" ? ` ${v.attrs.units}` : "";
  if (n === 0) return `${v.name}(${v.dims.join(", ")}): no valid values (${missing} missing)`;
  const g = (x: number) => Number(x.toPrecision(6));
  return `${v.name}(${v.dims.join(", ")}): mean ${g(sum / n)}${units}, range ${g(min)} .. ${g(max)}, ${n} valid, ${missing} missing`;
}
