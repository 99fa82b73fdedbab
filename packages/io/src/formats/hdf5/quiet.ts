/**
 * HDF5 reports problems by printing its error stack to stderr (through
 * `fs.writeSync(2, …)` in h5wasm's Node build) and returning -1. Every h5wasm
 * call is synchronous, so each runs with those writes captured; the caller
 * turns them into the message of a typed error instead.
 */
import fs from "node:fs";

export function quietly<T>(fn: () => T): { value?: T; error?: unknown; diagnostics: string } {
  const original = fs.writeSync;
  let diagnostics = "";
  (fs as { writeSync: unknown }).writeSync = function (fd: number, data: string | ArrayBufferView, ...rest: unknown[]): number {
    if (fd !== 2) return (original as (...a: unknown[]) => number).call(fs, fd, data, ...rest);
    if (typeof data === "string") {
      diagnostics += data;
      return Buffer.byteLength(data);
    }
    const offset = typeof rest[0] === "number" ? rest[0] : 0;
    const length = typeof rest[1] === "number" ? rest[1] : data.byteLength - offset;
    diagnostics += Buffer.from(data.buffer, data.byteOffset + offset, length).toString("utf8");
    return length;
  };
  try {
    return { value: fn(), diagnostics };
  } catch (error) {
    return { error, diagnostics };
  } finally {
    (fs as { writeSync: unknown }).writeSync = original;
  }
}

/** The gist of an HDF5 error stack: its distinct "minor" messages, innermost last. */
export function gist(diagnostics: string): string {
  const minors = [...diagnostics.matchAll(/minor: (.+)/g)].map((m) => m[1].trim());
  return [...new Set(minors)].join("; ");
}
