/**
 * The sample files the NetCDF classic writer is checked with: written by
 * datasets/fixtures/writer-cases.ts, read by netCDF-C in
 * datasets/fixtures/make-expected-writer.py, and written again by write.test.ts,
 * which requires the very bytes netCDF-C read. Deterministic: changing a case
 * means regenerating the fixtures (`npm run fixtures`).
 */
import type { NcFileSpec, WriteOptions } from "./write.ts";

export interface WriterCase { name: string; spec: NcFileSpec; options?: WriteOptions }

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

export const CASES: WriterCase[] = [
  {
    // Every classic type, odd sizes (data padding), scalars, text, attributes of each type.
    name: "cdf1-types",
    options: { format: "cdf1" },
    spec: {
      dims: { x: 3, y: 5, strlen: 7 },
      attrs: {
        title: "all classic types",
        "utf8 text": "Zürich – 東京\n",
        empty: "",
        answer: 42,
        doubles: [0.1, -2.5e-300, 1e300, Infinity, NaN],
        floats: new Float32Array([0.1, -1.5, 3e38]),
        shorts: { dtype: "int16", value: [-32768, 0, 32767] },
        bytes: new Int8Array([-128, 1, 127]),
        ints: { dtype: "int32", value: -2147483648 },
      },
      variables: [
        { name: "byte_x", dims: ["x"], dtype: "int8", attrs: { _FillValue: -1, long_name: "bytes" }, data: [-128, 0, 127] },
        { name: "short_xy", dims: ["x", "y"], dtype: "int16", attrs: { valid_range: { dtype: "int16", value: [-1000, 1000] } }, data: new Int16Array(range(15, (i) => (i - 7) * 131)) },
        { name: "int_y", dims: ["y"], dtype: "int32", data: [-2147483648, -1, 0, 1, 2147483647] },
        { name: "float_xy", dims: ["x", "y"], dtype: "float32", attrs: { _FillValue: -999, scale: { dtype: "float32", value: 0.5 } }, data: [0.1, -0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, -999, ...range(7, (i) => i / 3)] },
        { name: "double_y", dims: ["y"], dtype: "float64", data: new Float64Array([Math.PI, -0, NaN, 5e-324, -1.7976931348623157e308]) },
        { name: "scalar", dims: [], dtype: "float64", attrs: { units: "1" }, data: [6.02214076e23] },
        { name: "scalar_byte", dims: [], dtype: "int8", data: [7] },
        { name: "label", dims: ["x", "strlen"], dtype: "char", attrs: { _FillValue: "-" }, data: ["abc", "héllo!", "too long by far"] },
        { name: "letter", dims: [], dtype: "char", data: ["Q"] },
      ],
    },
  },
  {
    // Several record variables: each record holds each one's slice, padded to 4 bytes.
    name: "cdf1-records",
    spec: {
      dims: { time: 4, x: 3, strlen: 5 },
      unlimited: "time",
      attrs: { source: "records of several variables" },
      variables: [
        { name: "x", dims: ["x"], dtype: "float32", data: [10, 20, 30] },
        { name: "time", dims: ["time"], dtype: "float64", attrs: { units: "hours since 2000-01-01" }, data: [0, 6, 12, 18] },
        { name: "rec_byte", dims: ["time", "x"], dtype: "int8", data: range(12, (i) => i - 6) },
        { name: "rec_short", dims: ["time"], dtype: "int16", attrs: { _FillValue: 99 }, data: [1, -2, 3, 99] },
        { name: "rec_label", dims: ["time", "strlen"], dtype: "char", data: ["a", "bb", "ccc", "ddddd"] },
        // One character a record: the string runs across the records.
        { name: "rec_flag", dims: ["time"], dtype: "char", data: ["YNY"] },
        { name: "rec_int", dims: ["time", "x"], dtype: "int32", data: range(12, (i) => i * 100000) },
        { name: "after", dims: ["x"], dtype: "int16", data: [1, 2, 3] },
      ],
    },
  },
  {
    // Exactly one record variable, 6 bytes a record: records are packed, no padding.
    name: "cdf1-one-record-var",
    spec: {
      dims: { x: 3, time: 5 },
      unlimited: "time",
      variables: [
        { name: "x", dims: ["x"], dtype: "int16", data: [1, 2, 3] },
        { name: "counts", dims: ["time", "x"], dtype: "int16", data: range(15, (i) => i * 7 - 50) },
      ],
    },
  },
  {
    // A record variable holding nothing yet, no global attributes, a 1-D char record variable.
    name: "cdf1-edge",
    spec: {
      dims: { rec: 0, x: 1 },
      unlimited: "rec",
      variables: [
        { name: "empty", dims: ["rec", "x"], dtype: "float32", data: [] },
        { name: "flags", dims: ["rec"], dtype: "char", data: [] },
        { name: "only", dims: ["x"], dtype: "int8", data: [1] },
      ],
    },
  },
  {
    name: "cdf2",
    options: { format: "cdf2" },
    spec: {
      dims: { t: 3, y: 2, x: 3 },
      unlimited: "t",
      attrs: { Conventions: "none", version: { dtype: "int32", value: 2 } },
      variables: [
        { name: "grid", dims: ["y", "x"], dtype: "float64", data: range(6, (i) => i * 1.25) },
        { name: "field", dims: ["t", "y", "x"], dtype: "float32", attrs: { _FillValue: { dtype: "float32", value: NaN } }, data: range(18, (i) => (i % 5 === 0 ? NaN : i / 7)) },
        { name: "code", dims: ["t"], dtype: "int8", data: [3, 2, 1] },
      ],
    },
  },
  {
    name: "cdf5-types",
    spec: {
      dims: { n: 3, rec: 2 },
      unlimited: "rec",
      attrs: { big: 9007199254740993n, ubytes: new Uint8Array([0, 255]), u64: { dtype: "uint64", value: [18446744073709551615n] }, i64s: [-9223372036854775808n, 1n] },
      variables: [
        { name: "i64", dims: ["n"], dtype: "int64", attrs: { _FillValue: -1 }, data: new BigInt64Array([-9223372036854775808n, 9223372036854775807n, -1n]) },
        { name: "u8", dims: ["n"], dtype: "uint8", data: [0, 128, 255] },
        { name: "u16", dims: ["n"], dtype: "uint16", attrs: { valid_max: { dtype: "uint16", value: 65000 } }, data: new Uint16Array([0, 40000, 65535]) },
        { name: "u32", dims: ["n"], dtype: "uint32", attrs: { _FillValue: 4294967295 }, data: [0, 3000000000, 4294967295] },
        { name: "u64", dims: ["n"], dtype: "uint64", data: [0n, 2n ** 63n, 18446744073709551615n] },
        { name: "i64_from_numbers", dims: ["n"], dtype: "int64", data: [-(2 ** 53), 0, 2 ** 60] },
        { name: "rec_u16", dims: ["rec", "n"], dtype: "uint16", data: [1, 2, 3, 4, 5, 6] },
        { name: "rec_i64", dims: ["rec"], dtype: "int64", data: [10n, -10n] },
        { name: "d", dims: ["n"], dtype: "float64", data: [1, 2, 3] },
      ],
    },
  },
  cfCase(),
];

/** A CF-style monthly field: time axis with bounds, lat/lon with bounds, masked float32 tas. */
function cfCase(): WriterCase {
  const nt = 6, nlat = 4, nlon = 5;
  const lat = range(nlat, (j) => -67.5 + 45 * j), lon = range(nlon, (i) => 36 + 72 * i);
  const tas = new Float32Array(nt * nlat * nlon);
  for (let t = 0; t < nt; t++) for (let j = 0; j < nlat; j++) for (let i = 0; i < nlon; i++) {
    const k = (t * nlat + j) * nlon + i;
    tas[k] = (t + j + i) % 7 === 3 ? 1e20 : 288.15 - 30 * Math.abs(Math.sin((lat[j] * Math.PI) / 180)) + 0.25 * t + 0.01 * i;
  }
  return {
    name: "cf-monthly",
    spec: {
      dims: { time: nt, lat: nlat, lon: nlon, bnds: 2 },
      unlimited: "time",
      attrs: {
        Conventions: "CF-1.8",
        title: "Synthetic monthly near-surface air temperature",
        institution: "meridian tests",
        history: "2024-01-01T00:00:00Z: written by meridian's writer-cases.ts\n",
      },
      variables: [
        { name: "time", dims: ["time"], dtype: "float64", attrs: { standard_name: "time", units: "days since 1850-01-01", calendar: "noleap", axis: "T", bounds: "time_bnds" }, data: range(nt, (t) => 15.5 + 30 * t) },
        { name: "time_bnds", dims: ["time", "bnds"], dtype: "float64", data: range(nt * 2, (k) => 30 * (Math.floor(k / 2) + (k % 2))) },
        { name: "lat", dims: ["lat"], dtype: "float64", attrs: { standard_name: "latitude", units: "degrees_north", axis: "Y", bounds: "lat_bnds" }, data: lat },
        { name: "lat_bnds", dims: ["lat", "bnds"], dtype: "float64", data: lat.flatMap((y) => [y - 22.5, y + 22.5]) },
        { name: "lon", dims: ["lon"], dtype: "float64", attrs: { standard_name: "longitude", units: "degrees_east", axis: "X", bounds: "lon_bnds" }, data: lon },
        { name: "lon_bnds", dims: ["lon", "bnds"], dtype: "float64", data: lon.flatMap((x) => [x - 36, x + 36]) },
        {
          name: "tas", dims: ["time", "lat", "lon"], dtype: "float32",
          attrs: {
            _FillValue: 1e20, missing_value: { dtype: "float32", value: 1e20 }, standard_name: "air_temperature",
            long_name: "Near-Surface Air Temperature", units: "K", cell_methods: "time: mean", coordinates: "height",
          },
          data: tas,
        },
        { name: "height", dims: [], dtype: "float64", attrs: { units: "m", axis: "Z", positive: "up", standard_name: "height" }, data: [2] },
      ],
    },
  };
}
