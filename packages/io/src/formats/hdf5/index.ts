/**
 * HDF5 and NetCDF-4 as a Backend. h5wasm runs in a worker thread (library.ts,
 * worker.ts): HDF5 aborts on some corrupt files, and an abort then ends the
 * worker, never the process; what was pending fails with a FormatError and the
 * next file gets a new worker. Values come back as transferred typed arrays.
 */
import { Worker } from "node:worker_threads";
import type { Backend, Decoding, VariableInfo } from "../../backend.ts";
import { decode, decodedDtype } from "../../cf.ts";
import type { NumericArray, NumericDType } from "../../dtype.ts";
import { FormatError, UnsupportedError } from "../../errors.ts";
import { FileSource, type ByteSource } from "../../source.ts";
import type { Description } from "./library.ts";
import type { Request } from "./worker.ts";

type Reply = { id: number; ok?: unknown; problem?: { kind: string; detail: string; offset?: number } };
type Distributive<T> = T extends unknown ? Omit<T, "id"> : never;

/** One worker thread running h5wasm; replaced when it dies. */
class Hdf5Thread {
  // Its own heap limit: a corrupt file that makes HDF5 build enormous arrays ends the worker, not the process.
  private worker = new Worker(new URL("./worker-entry.mjs", import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 1024 } });
  private pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; file: string }>();
  private nextId = 1;
  dead = false;

  constructor() {
    starts++;
    this.worker.unref();
    this.worker.on("message", (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (!this.pending.size) this.worker.unref();
      p?.resolve(r);
    });
    this.worker.on("error", (e) => this.die(e.message));
    this.worker.on("exit", (code) => this.die(`exit code ${code}`));
  }

  /** Everything pending fails with a typed error; the next file gets a new worker. */
  private die(why: string) {
    if (this.dead) return;
    this.dead = true;
    if (thread === this) thread = undefined;
    for (const p of this.pending.values()) p.reject(new FormatError(p.file, undefined, `HDF5 library stopped while reading this file (${why}); the file is probably corrupt`));
    this.pending.clear();
  }

  /** Sends a request; with no answer after `seconds`, HDF5 is stuck on a corrupt file and the worker is stopped. */
  request(file: string, req: Distributive<Request>, seconds = deadline): Promise<Reply> {
    if (this.dead) return Promise.reject(new FormatError(file, undefined, "HDF5 library stopped earlier while reading a corrupt file; open this file again"));
    const id = this.nextId++;
    this.worker.ref();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.die(`no answer after ${Math.round(seconds)} s`);
        void this.worker.terminate();
      }, seconds * 1000);
      timer.unref(); // the worker keeps the process alive while it works
      const settle = <T>(f: (x: T) => void) => (x: T) => { clearTimeout(timer); f(x); };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject), file });
      this.worker.postMessage({ ...req, id });
    });
  }
}

let thread: Hdf5Thread | undefined;
let starts = 0;
let deadline = 10;

/** Seconds HDF5 may take over a request before it is taken to be stuck on a corrupt file (default 10; reads add a second per 32 MiB). */
export function setHdf5Timeout(seconds: number) {
  if (!(seconds > 0)) throw new RangeError(`the HDF5 timeout must be positive, got ${seconds}`);
  deadline = seconds;
}

/** How many HDF5 worker threads this process has started (each takes a second or two). */
export const hdf5WorkerStarts = () => starts;

/** A worker's problem as our typed error. */
function check(file: string, r: Reply): unknown {
  if (!r.problem) return r.ok;
  if (r.problem.kind === "UnsupportedError") throw new UnsupportedError(r.problem.detail, file);
  throw new FormatError(file, r.problem.offset, r.problem.detail);
}

export async function openHdf5(source: ByteSource): Promise<Backend> {
  if (!(source instanceof FileSource)) throw new UnsupportedError("HDF5 files can only be read from a file on disk", source.name);
  const worker = (thread ??= new Hdf5Thread());
  const d = check(source.name, await worker.request(source.name, { op: "open", path: source.path })) as Description & { file: number };
  for (const v of d.variables) {
    if (d.format === "hdf5" && v.dtype !== "string" && v.dtype !== "char") v.decoding = cfWithoutDefaultFill(v);
  }
  return {
    format: d.format,
    variant: d.variant,
    source,
    dims: d.dims,
    unlimited: d.unlimited,
    attributes: d.attributes,
    variables: d.variables,
    unsupported: new Map(d.unsupported),
    // The deadline grows by a second for every 32 MiB to read (h5wasm decodes at well over 100 MB/s).
    read: async (info, slab) => {
      const seconds = deadline + (slab.count.reduce((a, b) => a * b, 1) * 8) / 2 ** 25;
      return check(source.name, await worker.request(source.name, { op: "read", file: d.file, variable: info.name, slab }, seconds)) as NumericArray | string[];
    },
    close: async () => {
      if (!worker.dead) await worker.request(source.name, { op: "close", file: d.file });
    },
  };
}

/** CF decoding by the attributes a plain HDF5 dataset carries, without netCDF's default fill values. */
function cfWithoutDefaultFill(info: VariableInfo): Decoding {
  const dtype = info.dtype as NumericDType;
  return {
    dtype: decodedDtype(dtype, info.attributes),
    decode: (raw, shape) => decode(raw, dtype, info.attributes, shape, { defaultFill: false }),
  };
}
