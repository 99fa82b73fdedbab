/**
 * The NetCDF classic writer against netCDF-C. datasets/fixtures/make-expected-writer.py
 * read every case of write.cases.ts with netCDF4-python (netCDF-C), and had
 * netCDF-C write the same content itself. Here each case is written again and
 * must give the same bytes (sha256); netCDF-C's copy of them must have been
 * byte-identical; netCDF-C must have read what the case asked for; and our
 * reader must read what netCDF-C read.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IOError, MeridianError } from "../../errors.ts";
import { open } from "../../index.ts";
import { encode } from "../../netcdf-fixture.test-util.ts";
import { DATASETS } from "../../testing.ts";
import { CASES } from "./write.cases.ts";
import { encodeNetCDF, planNetCDF, writeNetCDF, writeValues, WriteError, type AttrInput, type NcDType, type NcFileSpec, type NcVarSpec } from "./write.ts";

const EXPECTED = join(DATASETS, "fixtures/expected-writer");
const VARIANT: Record<string, string> = { NETCDF3_CLASSIC: "cdf1", NETCDF3_64BIT_OFFSET: "cdf2", NETCDF3_64BIT_DATA: "cdf5" };
const encodeAttrs = (attrs: object) => Object.fromEntries(Object.entries(attrs).map(([k, x]) => [k, encode(x)]));
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), "meridian-write-")); });
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

describe("the fixtures cover every case", () => {
  it("has one JSON per case", () => {
    expect(readdirSync(EXPECTED).sort()).toEqual(CASES.map((c) => `${c.name}.json`).sort());
  });
});

describe.each(CASES.map((c) => [c.name, c] as const))("case %s", (name, c) => {
  const exp = JSON.parse(readFileSync(join(EXPECTED, `${name}.json`), "utf8"));

  it("writes the bytes netCDF-C read, and netCDF-C writes the same bytes", async () => {
    const path = join(dir, `${name}.nc`);
    await writeNetCDF(path, c.spec, c.options);
    const bytes = await readFile(path);
    expect(bytes.byteLength).toBe(exp.size);
    expect(sha256(bytes)).toBe(exp.sha256);
    expect(sha256(encodeNetCDF(c.spec, c.options))).toBe(exp.sha256);
    expect(exp.netcdf_c_copy).toEqual({ identical: true, first_difference: null, size: exp.size });
    expect(exp.ncdump_k === null || { NETCDF3_CLASSIC: "classic", NETCDF3_64BIT_OFFSET: "64-bit offset", NETCDF3_64BIT_DATA: "cdf5" }[exp.data_model as string] === exp.ncdump_k).toBe(true);
  });

  it("netCDF-C read what the case asked for", () => {
    const { spec } = c;
    expect(VARIANT[exp.data_model]).toBe(c.options?.format ?? (name === "cdf5-types" ? "cdf5" : "cdf1"));
    expect(exp.dims).toEqual(Object.fromEntries(Object.entries(spec.dims).map(([n, size]) => [n, { size, unlimited: n === spec.unlimited }])));
    expect(Object.keys(exp.dims)).toEqual(Object.keys(spec.dims));
    expectAttrs(spec.attrs, undefined, exp.attrs, exp.attr_dtypes);
    expect(Object.keys(exp.variables)).toEqual(spec.variables.map((v) => v.name));
    for (const v of spec.variables) {
      const ev = exp.variables[v.name];
      expect({ dims: ev.dims, shape: ev.shape, dtype: ev.dtype }).toEqual({ dims: v.dims, shape: v.dims.map((d) => spec.dims[d]), dtype: v.dtype });
      expectAttrs(v.attrs, v, ev.attrs, ev.attr_dtypes);
      expect(ev.values, v.name).toEqual(intendedValues(v, spec));
    }
  });

  it("our reader reads what netCDF-C read", async () => {
    const ds = await open(join(dir, `${name}.nc`));
    try {
      expect(ds.variant).toBe(VARIANT[exp.data_model]);
      expect(ds.dims).toEqual(Object.fromEntries(Object.entries<any>(exp.dims).map(([n, d]) => [n, d.size])));
      expect(ds.unlimited).toEqual(Object.keys(exp.dims).filter((n) => exp.dims[n].unlimited));
      expect(encodeAttrs(ds.attrs)).toEqual(exp.attrs);
      expect(Object.fromEntries(ds.attributes.map((a) => [a.name, a.dtype]))).toEqual(exp.attr_dtypes);
      expect(Object.keys(ds.variables)).toEqual(Object.keys(exp.variables));
      for (const [vname, ev] of Object.entries<any>(exp.variables)) {
        const v = ds.variable(vname);
        expect({ dims: v.dims, shape: v.shape, dtype: v.dtype }).toEqual({ dims: ev.dims, shape: ev.shape, dtype: ev.dtype });
        expect(encodeAttrs(v.attrs)).toEqual(ev.attrs);
        expect(Object.fromEntries(v.attributes.map((a) => [a.name, a.dtype]))).toEqual(ev.attr_dtypes);
        const raw = await v.read(undefined, { raw: true });
        expect(Array.from(raw.data as ArrayLike<unknown>, encode), vname).toEqual(ev.values);
      }
    } finally {
      await ds.close();
    }
  });
});

// ---------------------------------------------------------------------------
// What a case asks for, worked out from its spec independently of the writer.

function expectAttrs(attrs: Record<string, AttrInput> | undefined, v: NcVarSpec | undefined, values: any, dtypes: any) {
  const want = Object.entries(attrs ?? {}).map(([k, a]) => [k, intendedAttr(a, k === "_FillValue" ? v : undefined)] as const);
  expect(Object.keys(values)).toEqual(want.map(([k]) => k));
  expect(values).toEqual(Object.fromEntries(want.map(([k, [, x]]) => [k, x])));
  expect(dtypes).toEqual(Object.fromEntries(want.map(([k, [d]]) => [k, d])));
}

const TYPED: Record<string, string> = {
  Int8Array: "int8", Uint8Array: "uint8", Int16Array: "int16", Uint16Array: "uint16", Int32Array: "int32", Uint32Array: "uint32",
  BigInt64Array: "int64", BigUint64Array: "uint64", Float32Array: "float32", Float64Array: "float64",
};

function intendedAttr(a: AttrInput, fillOf?: NcVarSpec): [string, unknown] {
  if (typeof a === "string") return ["char", a];
  let dtype: string, list: ArrayLike<number | bigint>;
  if (typeof a === "number") [dtype, list] = ["float64", [a]];
  else if (typeof a === "bigint") [dtype, list] = ["int64", [a]];
  else if (ArrayBuffer.isView(a)) [dtype, list] = [TYPED[a.constructor.name], a];
  else if (Array.isArray(a)) [dtype, list] = [typeof a[0] === "bigint" ? "int64" : "float64", a];
  else { const t = a as { dtype: string; value: any }; [dtype, list] = [t.dtype, Array.isArray(t.value) ? t.value : [t.value]]; }
  if (fillOf) dtype = fillOf.dtype;
  const vals = Array.from(list, (x) => asStored(x, dtype as NcDType));
  return [dtype, vals.length === 1 ? vals[0] : vals];
}

/** One value as netCDF-C hands it back, encoded as the fixtures encode it. */
function asStored(x: number | bigint | string, dtype: NcDType): unknown {
  if (dtype === "int64" || dtype === "uint64") return BigInt(x).toString();
  const n = Number(x);
  return encode(dtype === "float32" ? Math.fround(n) : n);
}

function intendedValues(v: NcVarSpec, spec: NcFileSpec): unknown[] {
  if (v.dtype !== "char" || !Array.isArray(v.data) || !v.data.some((s) => typeof s === "string")) {
    return Array.from(v.data as ArrayLike<number | bigint>, (x) => asStored(x, v.dtype));
  }
  const width = v.dims.length ? spec.dims[v.dims[v.dims.length - 1]] : 1;
  return (v.data as string[]).flatMap((s) => {
    let kept = "";
    for (const ch of s) if (Buffer.byteLength(kept + ch) <= width) kept += ch; else break;
    const bytes = [...Buffer.from(kept)];
    return [...bytes, ...new Array(width - bytes.length).fill(0)];
  });
}

// ---------------------------------------------------------------------------

describe("invalid specs are WriteErrors naming the file and the problem", () => {
  const base = (variables: NcVarSpec[], extra: Partial<NcFileSpec> = {}): NcFileSpec => ({ dims: { time: 2, x: 3 }, unlimited: "time", variables, ...extra });
  const failsWith = async (spec: NcFileSpec, pattern: RegExp | string, options = {}) => {
    const path = join(dir, "invalid.nc");
    const e = await writeNetCDF(path, spec, options).then(() => undefined, (err) => err);
    expect(e).toBeInstanceOf(WriteError);
    expect(e.message.startsWith(`${path}: `)).toBe(true);
    if (typeof pattern === "string") expect(e.message).toContain(pattern);
    else expect(e.message).toMatch(pattern);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith("invalid.nc"))).toEqual([]);
  };

  it("data of the wrong length", async () => {
    await failsWith(base([{ name: "v", dims: ["x"], dtype: "float32", data: [1, 2] }]), /variable v: 2 values given, but its shape \(x=3\) holds 3/);
    await failsWith(base([{ name: "r", dims: ["time", "x"], dtype: "int16", data: [1, 2, 3] }]), /variable r: 3 values given, but its shape \(time=2, x=3\) holds 6 \(2 records of 3\)/);
    await failsWith(base([{ name: "c", dims: ["time", "x"], dtype: "char", data: ["a"] }]), /variable c: 1 strings given, but its shape \(time=2, x=3\) holds 2 strings of 3 bytes/);
  });

  it("unknown or misplaced dimensions", async () => {
    await failsWith(base([{ name: "v", dims: ["y"], dtype: "float32", data: [1] }]), /variable v uses dimension "y", which is not defined \(dimensions: time, x\)/);
    await failsWith(base([{ name: "v", dims: ["x", "time"], dtype: "float32", data: new Array(6).fill(0) }]), /unlimited dimension time in position 1; it must come first/);
    await failsWith(base([], { unlimited: "t" }), /unlimited dimension "t" is not among the dimensions/);
    await failsWith({ dims: { x: 0 }, variables: [] }, /dimension x has size 0, which the format reserves for the unlimited dimension/);
  });

  it("fill values that the variable's type cannot hold", async () => {
    const v = (dtype: NcDType, fill: AttrInput): NcVarSpec => ({ name: "v", dims: ["x"], dtype, data: [1, 2, 3], attrs: { _FillValue: fill } });
    await failsWith(base([v("int16", 1e20)]), /attribute _FillValue of v: 100000000000000000000 is not a valid int16/);
    await failsWith(base([v("int32", 1.5)]), /1\.5 is not a valid int32/);
    await failsWith(base([v("uint8", -1)]), /-1 is not a valid uint8/);
    await failsWith(base([v("float32", 1e39)]), /1e\+39 is not a valid float32/);
    await failsWith(base([v("float32", { dtype: "float64", value: 1e20 })]), /has type float64, but it must have the variable's type float32/);
    await failsWith(base([v("int16", [1, 2])]), /a fill value is one value, got 2/);
    await failsWith(base([v("float64", "x")]), /must be a number, got text "x"/);
    await failsWith(base([{ name: "c", dims: ["x"], dtype: "char", data: ["abc"], attrs: { _FillValue: "ab" } }]), /must be one byte of text/);
  });

  it("types that need CDF-5 in a forced CDF-1 or CDF-2 file", async () => {
    await failsWith(base([{ name: "u", dims: ["x"], dtype: "uint32", data: [1, 2, 3] }]), /variable u has type uint32, which needs format cdf5/, { format: "cdf1" });
    await failsWith(base([{ name: "v", dims: ["x"], dtype: "int32", data: [1, 2, 3], attrs: { n: 5n } }]), /attribute n of v has type int64, which needs format cdf5/, { format: "cdf2" });
    await failsWith(base([], { attrs: { u: new Uint16Array([1]) } }), /global attribute u has type uint16, which needs format cdf5/, { format: "cdf1" });
  });

  it("names netCDF does not allow", async () => {
    for (const [name, why] of [
      ["", /it is empty/], ["a/b", /contains "\/"/], [" lead", /must start with/], ["-x", /must start with/], ["trail ", /ends with white space/],
      ["bell\u0007", /control character/], ["e\u0301", /not in Unicode normal form NFC/], ["x".repeat(257), /longer than 256 bytes/], ["\ud800x", /lone surrogate/],
    ] as const) {
      const spec = base([{ name, dims: ["x"], dtype: "int8", data: [1, 2, 3] }]);
      await failsWith(spec, `variable name ${JSON.stringify(name)} is not valid for netCDF: `);
      await failsWith(spec, why);
    }
    await failsWith(base([], { dims: { "x/y": 2 }, unlimited: undefined }), /dimension name "x\/y" is not valid/);
    await failsWith(base([], { attrs: { "bad\n": 1 } }), /global attribute name "bad\\n" is not valid/);
    await failsWith(base([{ name: "v", dims: [], dtype: "int8", data: [1] }, { name: "v", dims: [], dtype: "int8", data: [2] }]), /two variables are named v/);
    // Digits first, spaces inside, non-ASCII and leading underscores are fine.
    const ok: NcFileSpec = { dims: { "1st": 1 }, attrs: { "a b": "x", _private: 1 }, variables: [{ name: "température", dims: ["1st"], dtype: "int8", data: [1] }] };
    const ds = await openWritten("names.nc", ok);
    expect(Object.keys(ds.variables)).toEqual(["température"]);
    await ds.close();
  });

  it("values that do not fit the type fail the write and leave nothing behind", async () => {
    await failsWith(base([{ name: "v", dims: ["x"], dtype: "int16", data: [1, 40000, 3] }]), /variable v: value 40000 at index 1 is not a valid int16/);
    await failsWith(base([{ name: "v", dims: ["x"], dtype: "int32", data: [1, NaN, 3] }]), /value NaN at index 1 is not a valid int32/);
    await failsWith(base([{ name: "v", dims: ["x"], dtype: "float64", data: [1, 2n, 3] as unknown as number[] }]), /value 2n at index 1 is not a valid float64/);
    await failsWith(base([{ name: "v", dims: ["x"], dtype: "uint64", data: [1n, -1n, 3n] }]), /value -1n at index 1 is not a valid uint64/);
    await failsWith(base([{ name: "v", dims: ["time", "x"], dtype: "char", data: ["ab", 7 as unknown as string] }]), /variable v: item 1 is 7, not a string/);
  });

  it("a failed write leaves an existing file as it was", async () => {
    const path = join(dir, "kept.nc");
    await writeFile(path, "old contents");
    const bad = base([{ name: "ok", dims: ["x"], dtype: "int8", data: [1, 2, 3] }, { name: "v", dims: ["time", "x"], dtype: "int8", data: [1, 2, 3, 4, 500, 6] }]);
    await expect(writeNetCDF(path, bad)).rejects.toThrow(/value 500 at index 4 is not a valid int8/);
    expect(await readFile(path, "utf8")).toBe("old contents");
    expect(readdirSync(dir).filter((f) => f.startsWith("kept.nc"))).toEqual(["kept.nc"]);
  });

  it("a folder that does not exist is an IOError naming the file", async () => {
    const path = join(dir, "no/such/folder/x.nc");
    const e = await writeNetCDF(path, base([])).then(() => undefined, (err) => err);
    expect(e).toBeInstanceOf(IOError);
    expect(e).toBeInstanceOf(MeridianError);
    expect(e.message).toBe(`${path}: no such file`);
  });
});

async function openWritten(name: string, spec: NcFileSpec, options = {}) {
  const path = join(dir, name);
  await writeNetCDF(path, spec, options);
  return open(path);
}

describe("choosing the format", () => {
  // Sizes only: planning reads `length`, never the values.
  const huge = (n: number) => ({ length: n }) as ArrayLike<number>;

  it("CDF-1 when it fits, CDF-5 for unsigned or 64-bit types", async () => {
    expect(planNetCDF({ dims: { x: 2 }, variables: [{ name: "v", dims: ["x"], dtype: "float64", data: [1, 2] }] }).format).toBe("cdf1");
    const ds = await openWritten("auto5.nc", { dims: { x: 2 }, variables: [{ name: "v", dims: ["x"], dtype: "uint16", data: [1, 65535] }] });
    expect(ds.variant).toBe("cdf5");
    expect(Array.from((await ds.variable("v").read()).data as Uint16Array)).toEqual([1, 65535]);
    await ds.close();
  });

  it("CDF-2 when a variable would start past 2 GiB", () => {
    const spec: NcFileSpec = { dims: { big: 600_000_000, one: 1 }, variables: [{ name: "big", dims: ["big"], dtype: "float32", data: huge(600_000_000) }, { name: "after", dims: ["one"], dtype: "int8", data: [1] }] };
    const plan = planNetCDF(spec);
    expect(plan.format).toBe("cdf2");
    expect(plan.vars[1].begin).toBeGreaterThan(2 ** 31);
    expect(plan.size).toBe(plan.vars[1].begin + 4);
    expect(() => planNetCDF(spec, { format: "cdf1" }, "f.nc")).toThrow(/^f\.nc: variable after would start at byte 2400000\d+, past the 2 GiB reach of CDF-1 offsets; use a larger format \(cdf2 or cdf5\), or leave the format unset$/);
  });

  it("a big last fixed-size variable stays CDF-1; a big one before others needs CDF-5", () => {
    const small = { name: "small", dims: ["one"], dtype: "int8", data: [1] } as NcVarSpec;
    const big = { name: "big", dims: ["big"], dtype: "float64", data: huge(600_000_000) } as NcVarSpec;
    const dims = { big: 600_000_000, one: 1 };
    expect(planNetCDF({ dims, variables: [small, big] }).format).toBe("cdf1");
    expect(planNetCDF({ dims, variables: [big, small] }).format).toBe("cdf5");
    expect(() => planNetCDF({ dims, variables: [big, small] }, { format: "cdf2" })).toThrow(/variable big is 4800000000 bytes, over the CDF-2 limit of 4294967292 for any but the last fixed-size variable/);
  });
});

describe("writing concurrently", () => {
  it("two writes of one path each go through a temp file of their own: the result is one whole file", async () => {
    const path = join(dir, "twice.nc");
    const spec = (k: number): NcFileSpec => ({ dims: { x: 1000 }, variables: [{ name: "v", dims: ["x"], dtype: "float64", data: new Float64Array(1000).fill(k) }] });
    await Promise.all([writeNetCDF(path, spec(1)), writeNetCDF(path, spec(2))]);
    const got = sha256(await readFile(path));
    expect([sha256(encodeNetCDF(spec(1))), sha256(encodeNetCDF(spec(2)))]).toContain(got);
    expect(readdirSync(dir).filter((f) => f.startsWith("twice.nc"))).toEqual(["twice.nc"]);
  });
});

describe("a 100 MB record variable", () => {
  it("is streamed through a small buffer and reads back", async () => {
    const nt = 100, ny = 500, nx = 500, per = ny * nx;
    const tas = new Float32Array(nt * per);
    for (let i = 0; i < tas.length; i++) tas[i] = (i % 9973) * 0.25 - (i % 7);
    const time = Float64Array.from({ length: nt }, (_, t) => t * 30);
    const spec: NcFileSpec = {
      dims: { time: nt, y: ny, x: nx }, unlimited: "time",
      variables: [
        { name: "time", dims: ["time"], dtype: "float64", data: time },
        { name: "tas", dims: ["time", "y", "x"], dtype: "float32", attrs: { _FillValue: 1e20 }, data: tas },
      ],
    };
    const path = join(dir, "big.nc");
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().arrayBuffers); }, 1);
    const started = performance.now();
    try {
      await writeNetCDF(path, spec);
    } finally {
      clearInterval(timer);
    }
    const took = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    expect(peak - before).toBeLessThan(70 * 2 ** 20);
    expect(took).toBeLessThan(10_000);
    expect((await stat(path)).size).toBe(planNetCDF(spec).size);

    const ds = await open(path);
    try {
      expect(ds.variant).toBe("cdf1");
      expect(Array.from((await ds.variable("time").read(undefined, { raw: true })).data as Float64Array)).toEqual(Array.from(time));
      const v = ds.variable("tas");
      let checked = 0;
      for await (const block of v.blocks({ time: 10 }, { raw: true, reuse: true })) {
        const data = block.data as Float32Array, offset = block.start[0] * per;
        for (let i = 0; i < data.length; i++) {
          if (data[i] !== tas[offset + i]) throw new Error(`tas differs at flat index ${offset + i}: ${data[i]} != ${tas[offset + i]}`);
        }
        checked += data.length;
      }
      expect(checked).toBe(tas.length);
    } finally {
      await ds.close();
    }
  });
});

describe("values written later (by the engines that compute them)", () => {
  const steps = 5, cells = 6;
  const tas = Float32Array.from({ length: steps * cells }, (_, i) => 250 + i / 4);
  const spec = (data: NcVarSpec["data"]): NcFileSpec => ({
    dims: { time: steps, x: cells, bnds: 2 }, unlimited: "time",
    variables: [
      { name: "time", dims: ["time"], dtype: "float64", data: [0, 1, 2, 3, 4] },
      { name: "tas", dims: ["time", "x"], dtype: "float32", attrs: { units: "K" }, data },
      { name: "x", dims: ["x"], dtype: "float64", data: [1, 2, 3, 4, 5, 6] },
    ],
  });

  it("a layout with a hole, filled in pieces across records, gives the file written at once", async () => {
    const path = join(dir, "later.nc");
    const slots = await writeNetCDF(path, spec("later"));
    expect(slots.tas).toMatchObject({ dtype: "float32", count: cells });
    // out of order, and not on record boundaries
    await writeValues(path, slots.tas, 14, tas.subarray(14));
    await writeValues(path, slots.tas, 0, tas.subarray(0, 14));
    expect(sha256(await readFile(path))).toBe(sha256(encodeNetCDF(spec(tas))));
  });

  it("values of another type than the variable's are refused", async () => {
    const path = join(dir, "later-type.nc");
    const slots = await writeNetCDF(path, spec("later"));
    await expect(writeValues(path, slots.tas, 0, Float64Array.from(tas))).rejects.toThrow(/later-type\.nc: values to write are a Float64Array, the variable holds float32/);
  });
});
