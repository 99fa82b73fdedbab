/**
 * References: how a dataset crosses a process boundary. A reference is a small
 * JSON object naming the file (absolute path), the variable and selection; the
 * receiving process reopens the file through its own cache of open datasets. The
 * file's size and modification time travel along, so a process never silently
 * reads a file that changed after the reference was made.
 */
import { resolve } from "node:path";
import { stat } from "node:fs/promises";
import type { Format } from "./backend.ts";
import type { Dataset, ReadOptions } from "./dataset.ts";
import { IOError, ioError, RefError } from "./errors.ts";
import type { NDArray } from "./ndarray.ts";
import { open } from "./open.ts";
import type { Selection } from "./selection.ts";

export interface DatasetRef {
  kind: "meridian.dataset";
  version: 1;
  path: string;
  format: Format;
  variable?: string;
  selection?: Selection;
  size: number;
  mtimeMs: number;
}

export function makeRef(ds: Dataset, variable?: string, selection?: Selection): DatasetRef {
  const identity = ds._backend.source.identity;
  if (!identity) throw new IOError(ds.path, "an in-memory dataset has no reference; only files can be reopened elsewhere");
  const ref: DatasetRef = { kind: "meridian.dataset", version: 1, path: resolve(ds.path), format: ds.format, size: identity.size, mtimeMs: identity.mtimeMs };
  if (variable !== undefined) ref.variable = variable;
  if (selection !== undefined) ref.selection = JSON.parse(JSON.stringify(selection));
  return ref;
}

export function isRef(x: unknown): x is DatasetRef {
  return typeof x === "object" && x !== null && (x as DatasetRef).kind === "meridian.dataset" && typeof (x as DatasetRef).path === "string";
}

/** Reopens a referenced dataset, through this process's cache of open datasets. */
export async function openRef(ref: DatasetRef): Promise<Dataset> {
  if (!isRef(ref)) throw new RefError(`not a dataset reference: ${JSON.stringify(ref)?.slice(0, 200)}`);
  let st;
  try {
    st = await stat(ref.path);
  } catch (err) {
    throw ioError(ref.path, err);
  }
  if (st.size !== ref.size || st.mtimeMs !== ref.mtimeMs) {
    throw new IOError(ref.path, `file changed since the reference was made (size ${ref.size} -> ${st.size}, mtime ${new Date(ref.mtimeMs).toISOString()} -> ${st.mtime.toISOString()})`, "ESTALE");
  }
  return open(ref.path);
}

/** Reads the referenced variable and selection (the dataset stays cached for the next read). */
export async function readRef(ref: DatasetRef, options?: ReadOptions): Promise<NDArray> {
  if (ref.variable === undefined) throw new RefError("the reference names no variable", ref.path);
  const ds = await openRef(ref);
  try {
    return await ds.variable(ref.variable).read(ref.selection, options);
  } finally {
    await ds.close();
  }
}
