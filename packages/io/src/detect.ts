import type { Format } from "./backend.ts";
import type { ByteSource } from "./source.ts";

export type Detected = Format | "gzip" | undefined;

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format of a file from its magic bytes (never its name). NetCDF-4 files are HDF5 files. */
export async function detectFormat(source: ByteSource): Promise<Detected> {
  const head = await source.read(0, Math.min(source.size, 9));
  const startsWith = (bytes: ArrayLike<number>, at = head) => Array.from(bytes).every((b, i) => at[i] === b);
  if (startsWith([0x43, 0x44, 0x46]) && [1, 2, 5].includes(head[3])) return "netcdf3";
  if (startsWith(HDF5_MAGIC)) return "hdf5";
  if (startsWith(Buffer.from("SIMPLE  ="))) return "fits";
  if (startsWith([0x1f, 0x8b])) return "gzip";
  // HDF5 may sit after a user block of 512, 1024, 2048... bytes.
  for (let at = 512; at + 8 <= source.size && at <= 1 << 20; at *= 2) {
    if (startsWith(HDF5_MAGIC, await source.read(at, 8))) return "hdf5";
  }
  return undefined;
}
