import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { once } from "node:events";
import type { Writable } from "node:stream";
import { ioError, open, type NDArray } from "@meridian/io";
import { jsonData } from "../format.ts";
import { npyBytes } from "../npy.ts";

export interface ReadCommandOptions { slice?: string; raw?: boolean; out?: string }

export async function read(file: string, variable: string, options: ReadCommandOptions): Promise<void> {
  const ds = await open(file);
  try {
    const a = await ds.variable(variable).read(options.slice, { raw: options.raw });
    if (!options.out) return await writeJson(a, process.stdout);
    const out = options.out;
    try {
      if (out.endsWith(".npy")) await writeFile(out, npyBytes(forNpy(a)));
      else {
        const stream = createWriteStream(out);
        const failed = once(stream, "error").then(([e]) => Promise.reject(e));
        await Promise.race([failed, (async () => {
          await once(stream, "open");
          await writeJson(a, stream);
          stream.end();
          await once(stream, "finish");
        })()]);
      }
    } catch (e) {
      throw ioError(out, e);
    }
  } finally {
    await ds.close();
  }
}

/** numpy has no masked integers in .npy: such data goes out as float64 with NaN. */
function forNpy(a: NDArray): NDArray {
  if (!a.mask) return a;
  process.stderr.write(`meridian: ${a.mask.reduce((s, m) => s + m, 0)} masked ${a.dtype} values written as NaN in float64\n`);
  const data = Float64Array.from(a.data as ArrayLike<number>, (v, i) => (a.mask![i] ? NaN : Number(v)));
  return { ...a, data, dtype: "float64", mask: undefined };
}

async function writeJson(a: NDArray, out: Writable) {
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, "drain");
  };
  await write(`{"shape":${JSON.stringify(a.shape)},"dims":${JSON.stringify(a.dims)},"dtype":"${a.dtype}","data":[`);
  for (const piece of jsonData(a)) await write(piece);
  await write("]}\n");
}
