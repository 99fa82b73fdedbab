/**
 * HDF5 and NetCDF-4 as a Backend. h5wasm runs in a worker thread (library.ts,
 * worker.ts): HDF5 aborts on some corrupt files, and an abort then ends the
 * worker, never the process; what was pending fails with a FormatError and the
 * next file gets a new worker. Values come back as transferred typed arrays.
 * Large reads are split by rows across a second thread (when the machine has
 * a second core): inflating deflated chunks is most of their time.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Backend, Decoding, VariableInfo } from "../../backend.ts";
import { decode, decodedDtype } from "../../cf.ts";
import { itemSize, viewAs, type NumericArray, type NumericDType } from "../../dtype.ts";
import { allocateBytes } from "../../kernels/simd.ts";
import type { Hyperslab } from "../../selection.ts";
import { FormatError, UnsupportedError } from "../../errors.ts";
import { FileSource, type ByteSource } from "../../source.ts";
import type { Description } from "./library.ts";
import type { Request } from "./worker.ts";

type Reply = { id: number; ok?: unknown; problem?: { kind: string; detail: string; offset?: number } };
type Distributive<T> = T extends unknown ? Omit<T, "id"> : never;

/** One worker thread running h5wasm; replaced when it dies. */
class Hdf5Thread {
  // Its own heap limit: a corrupt file that makes HDF5 build enormous arrays ends the worker, not the process.
  // No inherited flags (such as `--import tsx`): the entry point loads h5wasm before tsx.
  private worker = new Worker(new URL("./worker-entry.mjs", import.meta.url), { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 1024 } });
  private pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; file: string }>();
  private nextId = 1;
  dead = false;

  constructor() {
    starts++;
    this.worker.on("message", (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (!this.pending.size) this.worker.unref();
      p?.resolve(r);
    });
    this.worker.on("error", (e) => this.die(e.message));
    this.worker.on("exit", (code) => this.die(`exit code ${code}`));
    this.worker.unref(); // idle, it keeps no process alive (after the listeners: adding one refs the port again)
  }

  /** Everything pending fails with a typed error; the next file gets a new worker. */
  private die(why: string) {
    if (this.dead) return;
    this.dead = true;
    threads = threads.map((t) => (t === this ? undefined : t));
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

/** The reading threads: the first opens and describes files; reads of many rows are shared by all. */
let threads: (Hdf5Thread | undefined)[] = [];
let threadCount = Math.min(2, availableParallelism());
let starts = 0;
let deadline = 10;
/** Reads smaller than this stay on one thread. */
const SPLIT_BYTES = 8 * 2 ** 20;

const threadAt = (i: number) => (threads[i] ??= new Hdf5Thread());

/** Seconds HDF5 may take over a request before it is taken to be stuck on a corrupt file (default 10; reads add a second per 32 MiB). */
export function setHdf5Timeout(seconds: number) {
  if (!(seconds > 0)) throw new RangeError(`the HDF5 timeout must be positive, got ${seconds}`);
  deadline = seconds;
}

/** How many threads may share a large HDF5 read (default 2, or 1 on a single core; 1 where processes already fill the cores, as cluster engines do). */
export function setHdf5Threads(n: number) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`HDF5 reading threads must be a positive integer, got ${n}`);
  threadCount = n;
}

/** How many HDF5 worker threads this process has started. */
export const hdf5WorkerStarts = () => starts;

/** A worker's problem as our typed error. */
function check(file: string, r: Reply): unknown {
  if (!r.problem) return r.ok;
  if (r.problem.kind === "UnsupportedError") throw new UnsupportedError(r.problem.detail, file);
  throw new FormatError(file, r.problem.offset, r.problem.detail);
}

export async function openHdf5(source: ByteSource): Promise<Backend> {
  if (!(source instanceof FileSource)) throw new UnsupportedError("HDF5 files can only be read from a file on disk", source.name);
  const path = source.path;
  const worker = threadAt(0);
  const d = check(source.name, await worker.request(source.name, { op: "open", path })) as Description & { file: number };
  for (const v of d.variables) {
    if (d.format === "hdf5" && v.dtype !== "string" && v.dtype !== "char") v.decoding = cfWithoutDefaultFill(v);
  }
  // This file's id in each thread that has it open: the first opened it, the others attach when they first help.
  const ids = new Map<Hdf5Thread, Promise<number>>([[worker, Promise.resolve(d.file)]]);
  const idIn = (t: Hdf5Thread) => {
    let id = ids.get(t);
    if (!id) ids.set(t, (id = t.request(source.name, { op: "attach", path }).then((r) => check(source.name, r) as number)));
    return id;
  };
  const readOn = async (t: Hdf5Thread, info: VariableInfo, slab: Hyperslab) => {
    // The deadline grows by a second for every 32 MiB to read (h5wasm decodes at well over 100 MB/s).
    const seconds = deadline + (slab.count.reduce((a, b) => a * b, 1) * 8) / 2 ** 25;
    const variable = { name: info.name, dtype: info.dtype };
    return check(source.name, await t.request(source.name, { op: "read", file: await idIn(t), variable, slab }, seconds)) as NumericArray | string[];
  };
  // A file with large variables: the helpers start (and open it) now, ready for its first large read.
  if (threadCount > 1 && d.variables.some((v) => v.dtype !== "string" && v.dtype !== "char" && v.shape.reduce((a, b) => a * b, 1) * itemSize(v.dtype) >= 2 * SPLIT_BYTES)) {
    for (let k = 1; k < threadCount; k++) idIn(threadAt(k)).catch(() => undefined);
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
    read: async (info, slab) => {
      const n = slab.count.reduce((a, b) => a * b, 1);
      const numeric = info.dtype !== "string" && info.dtype !== "char";
      const parts = Math.min(threadCount, slab.count[0] ?? 1);
      if (!numeric || parts < 2 || n * itemSize(info.dtype as NumericDType) < 2 * SPLIT_BYTES || worker.dead) return readOn(worker, info, slab);
      // Parts of about SPLIT_BYTES, taken in turn by each thread as it becomes free (a helper still starting takes fewer).
      const rowBytes = (n / slab.count[0]) * itemSize(info.dtype as NumericDType);
      const rowsPer = Math.max(1, Math.floor(SPLIT_BYTES / rowBytes));
      const slabs: Hyperslab[] = [];
      for (let first = 0; first < slab.count[0]; first += rowsPer) {
        slabs.push({ ...slab, start: [slab.start[0] + first * slab.step[0], ...slab.start.slice(1)], count: [Math.min(rowsPer, slab.count[0] - first), ...slab.count.slice(1)] });
      }
      const pieces: NumericArray[] = [];
      let next = 0;
      const work = async (t: Hdf5Thread) => {
        await idIn(t);
        while (next < slabs.length) {
          const k = next++;
          pieces[k] = (await readOn(t, info, slabs[k])) as NumericArray;
        }
      };
      await Promise.all(Array.from({ length: parts }, (_, k) => work(k === 0 ? worker : threadAt(k))));
      const out = viewAs(info.dtype as NumericDType, allocateBytes(n * itemSize(info.dtype as NumericDType)));
      let at = 0;
      for (const p of pieces) {
        (out as Float64Array).set(p as Float64Array, at);
        at += p.length;
      }
      return out;
    },
    close: async () => {
      await Promise.all([...ids].map(async ([t, id]) => {
        if (!t.dead) await t.request(source.name, { op: "close", file: await id.catch(() => -1) });
      }));
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
