/**
 * A minimal CDF-1/CDF-5 header builder for the corruption tests: it writes
 * deliberately wrong headers that no real writer would produce. Readers are
 * checked for correctness against netCDF-C's files, never against this.
 */
export interface BuildVar { name: string; dimIds: number[]; type: number; begin: number; attrs?: [string, number, number[]][] }
export interface BuildSpec { version?: 1 | 5; numrecs?: number; dims: [string, number][]; vars: BuildVar[]; nattrs?: number; totalSize?: number }

export function buildHeader(spec: BuildSpec): Uint8Array {
  const wide = spec.version === 5;
  const out: number[] = [0x43, 0x44, 0x46, spec.version ?? 1];
  const u32 = (v: number) => out.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  const u64 = (v: number) => { u32(Math.floor(v / 2 ** 32)); u32(v >>> 0); };
  const count = (v: number) => (wide ? u64(v) : u32(v));
  const name = (s: string) => {
    count(s.length);
    for (const ch of Buffer.from(s)) out.push(ch);
    while (out.length % 4) out.push(0);
  };
  count(spec.numrecs ?? 0);
  if (spec.dims.length) { u32(10); count(spec.dims.length); } else { u32(0); count(0); }
  for (const [n, size] of spec.dims) { name(n); count(size); }
  if (spec.nattrs !== undefined) { u32(12); count(spec.nattrs); } else { u32(0); count(0); }
  u32(11); count(spec.vars.length);
  for (const v of spec.vars) {
    name(v.name);
    count(v.dimIds.length);
    v.dimIds.forEach(count);
    if (v.attrs?.length) {
      u32(12); count(v.attrs.length);
      for (const [an, type, values] of v.attrs) {
        name(an); u32(type); count(values.length);
        for (const x of values) out.push(x & 255);
        while (out.length % 4) out.push(0);
      }
    } else { u32(0); count(0); }
    u32(v.type);
    count(0);
    if (spec.version === 1 || spec.version === undefined) u32(v.begin); else u64(v.begin);
  }
  const bytes = new Uint8Array(Math.max(out.length, spec.totalSize ?? 0));
  bytes.set(out);
  return bytes;
}
