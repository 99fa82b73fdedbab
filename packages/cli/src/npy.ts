/**
 * numpy's .npy format, version 1.0 (numpy/lib/format.py): magic, a Python-dict
 * header padded with spaces to a 64-byte boundary, then the raw little-endian data.
 * The header is laid out exactly as numpy writes it, so files compare byte for byte.
 */
import { numpyDescr, type NDArray } from "@meridian/io";

const GROWTH_AXIS_MAX_DIGITS = 21;

export function npyBytes(a: NDArray): Uint8Array {
  let descr: string;
  let body: Uint8Array;
  if (a.dtype === "string") {
    const strings = a.data as string[];
    const width = strings.reduce((w, s) => Math.max(w, [...s].length), 1);
    descr = `<U${width}`;
    const codes = new Uint32Array(strings.length * width);
    strings.forEach((s, i) => [...s].forEach((ch, j) => (codes[i * width + j] = ch.codePointAt(0)!)));
    body = new Uint8Array(codes.buffer);
  } else {
    descr = numpyDescr(a.dtype);
    const d = a.data as ArrayBufferView;
    body = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  if (a.shape.length) header += " ".repeat(GROWTH_AXIS_MAX_DIGITS - String(a.shape[0]).length);
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += " ".repeat(pad % 64) + "\n";
  const out = new Uint8Array(10 + header.length + body.byteLength);
  out.set([0x93, ...Buffer.from("NUMPY"), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, "latin1"), 10);
  out.set(body, 10 + header.length);
  return out;
}
