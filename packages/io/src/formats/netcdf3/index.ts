/** NetCDF classic (CDF-1, CDF-2, CDF-5) as a Backend. */
import type { Backend, VariableInfo } from "../../backend.ts";
import { FormatError } from "../../errors.ts";
import type { ByteSource } from "../../source.ts";
import { NeedMore, parseHeader, type Nc3Header, type Nc3Var } from "./header.ts";
import { readSlab } from "./read.ts";

/** Headers are read in growing pieces; none may exceed this (a real one is kilobytes). */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export async function openNetcdf3(source: ByteSource): Promise<Backend> {
  const header = await readHeader(source);
  const byName = new Map<string, Nc3Var>(header.vars.map((v) => [v.name, v]));
  const variables: VariableInfo[] = header.vars.map((v) => ({ name: v.name, dims: v.dims, shape: v.shape, dtype: v.dtype, attributes: v.attrs }));
  return {
    format: "netcdf3",
    variant: header.variant,
    source,
    dims: Object.fromEntries(header.dims.map((d) => [d.name, d.size])),
    unlimited: header.dims.filter((d) => d.unlimited).map((d) => d.name),
    attributes: header.attrs,
    variables,
    read: (variable, slab, into) => readSlab(source, header, byName.get(variable.name)!, slab, into),
  };
}

async function readHeader(source: ByteSource): Promise<Nc3Header> {
  let length = Math.min(source.size, 64 * 1024);
  for (;;) {
    const buf = await source.read(0, length);
    try {
      return parseHeader(buf, source.name, source.size);
    } catch (e) {
      if (!(e instanceof NeedMore)) throw e;
      if (e.bytes > MAX_HEADER_BYTES) throw new FormatError(source.name, length, `header is larger than ${MAX_HEADER_BYTES} bytes; refusing to read it`);
      length = Math.min(source.size, Math.max(e.bytes, length * 2), MAX_HEADER_BYTES);
    }
  }
}
