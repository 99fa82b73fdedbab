import { toAttrs, type Attribute } from "./attribute.ts";
import type { Backend, Format, PaddedValues, VariableInfo } from "./backend.ts";
import { decode, decodedDtype } from "./cf.ts";
import { isFloat, itemSize, type DType, type NumericArray } from "./dtype.ts";
import { allocateBytes } from "./kernels/simd.ts";
import { ClosedError, closeNames, NotFoundError, SelectionError, UnsupportedError } from "./errors.ts";
import { sizeOf, type Attrs, type NDArray } from "./ndarray.ts";
import { makeRef, type DatasetRef } from "./ref.ts";
import { resolveSelection, type Hyperslab, type Selection } from "./selection.ts";

export interface ReadOptions {
  /** Skip CF decoding: values exactly as stored. */
  raw?: boolean;
}

export interface BlockOptions extends ReadOptions {
  /** Iterate over this part of the variable only. */
  selection?: Selection;
  /** With no block sizes given, blocks of about this many bytes (default 64 MiB). */
  blockBytes?: number;
  /**
   * Read every block into the same buffer: no allocation per block, so faster,
   * and memory stays at one block. A block's data is then valid only until the
   * next block is asked for: copy what you keep. Given a buffer (8-byte
   * aligned, at least a block's bytes as stored), blocks are read into it.
   */
  reuse?: boolean | Uint8Array;
}

/** One block of `Variable.blocks()`: the data and where it starts in the variable. */
export interface Block extends NDArray {
  /** Index in the variable of the block's first element, one per dimension of the variable. */
  start: number[];
}

/** Reads larger than this must go through blocks() (and JS typed arrays top out near here anyway). */
export const MAX_READ_BYTES = 2 ** 32;
/** Block size chosen by blocks() when the caller names no dimension. */
export const DEFAULT_BLOCK_BYTES = 64 * 1024 * 1024;

/** An open dataset: metadata is here at once; data is read on demand. */
export class Dataset {
  readonly variables: Readonly<Record<string, Variable>>;
  readonly attrs: Attrs;
  private closed = false;

  constructor(private readonly backend: Backend, private readonly onClose: () => void) {
    const vars: Record<string, Variable> = {};
    for (const info of backend.variables) vars[info.name] = new Variable(this, info);
    this.variables = vars;
    this.attrs = toAttrs(backend.attributes);
  }

  /** The file path (or source name). */
  get path(): string { return this.backend.source.name; }
  get format(): Format { return this.backend.format; }
  get variant(): string { return this.backend.variant; }
  /** Dimension name to current size. */
  get dims(): Readonly<Record<string, number>> { return this.backend.dims; }
  /** Names of the unlimited (record) dimensions. */
  get unlimited(): readonly string[] { return this.backend.unlimited; }
  /** Global attributes with their on-disk types. */
  get attributes(): readonly Attribute[] { return this.backend.attributes; }
  /** Datasets in the file that cannot be read yet, with the reason (compound types, say). */
  get unsupported(): ReadonlyMap<string, string> { return this.backend.unsupported ?? new Map(); }

  /** Coordinate variables (CF §1.2: one-dimensional, named like their dimension), by dimension. */
  get coords(): Readonly<Record<string, Variable>> {
    return Object.fromEntries(Object.values(this.variables).filter((v) => v.dims.length === 1 && v.dims[0] === v.name).map((v) => [v.name, v]));
  }

  variable(name: string): Variable {
    const v = this.variables[name] ?? this.variables[name.replace(/^\//, "")];
    if (v) return v;
    const why = this.backend.unsupported?.get(name.replace(/^\//, ""));
    if (why) throw new UnsupportedError(`dataset ${name} ${why}`, this.path);
    const hint = closeNames(name, Object.keys(this.variables));
    throw new NotFoundError(`no variable "${name}"${hint.length ? `; did you mean ${hint.map((h) => `"${h}"`).join(", ")}?` : ""} (variables: ${Object.keys(this.variables).join(", ")})`, this.path);
  }

  /** A small JSON-serialisable reference that any process can reopen with openRef(). */
  ref(variable?: string, selection?: Selection): DatasetRef {
    if (variable !== undefined) this.variable(variable);
    return makeRef(this, variable, selection);
  }

  /** @internal */
  get _backend(): Backend {
    if (this.closed) throw new ClosedError("dataset is closed", this.path);
    return this.backend;
  }

  get isClosed() { return this.closed; }

  /** Releases this handle. Its file descriptor goes back to the shared pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  async [Symbol.asyncDispose]() { await this.close(); }
}

export class Variable {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  /** The on-disk type. */
  readonly dtype: VariableInfo["dtype"];
  readonly attrs: Attrs;

  constructor(readonly dataset: Dataset, private readonly info: VariableInfo) {
    this.name = info.name;
    this.dims = info.dims;
    this.shape = info.shape;
    this.dtype = info.dtype;
    this.attrs = toAttrs(info.attributes);
  }

  /** Attributes with their on-disk types. */
  get attributes(): readonly Attribute[] { return this.info.attributes; }
  /** The type read() returns with CF decoding on. */
  get decodedDtype(): DType { return this.info.decoding?.dtype ?? decodedDtype(this.dtype, this.info.attributes); }
  get size(): number { return sizeOf(this.shape); }

  /** Reads a selection (default: everything) into memory. */
  async read(selection?: Selection, options: ReadOptions = {}): Promise<NDArray> {
    const slab = resolveSelection(selection, this.dims, this.shape, `${this.dataset.path}: variable ${this.name}`);
    return this.readSlab(slab, options);
  }

  /**
   * Iterates over the variable in blocks of at most `sizes[dim]` along each named
   * dimension (whole along the others), holding one block in memory at a time.
   * With no sizes, blocks of about 64 MiB (`blockBytes`), split along the
   * leading dimensions.
   */
  async *blocks(sizes: Record<string, number> = {}, options: BlockOptions = {}): AsyncGenerator<Block> {
    const where = `${this.dataset.path}: variable ${this.name}`;
    const slab = resolveSelection(options.selection, this.dims, this.shape, where);
    const step = this.dims.map((_, d) => slab.count[d] || 1);
    for (const [dim, size] of Object.entries(sizes)) {
      const d = this.dims.indexOf(dim);
      if (d < 0) throw new SelectionError(`no dimension "${dim}" to block along; dims are (${this.dims.join(", ")})`, where);
      if (!Number.isInteger(size) || size < 1) throw new SelectionError(`block size for ${dim} must be a positive integer, got ${size}`, where);
      step[d] = Math.min(size, step[d]);
    }
    if (Object.keys(sizes).length === 0) {
      // Split the leading dims, outermost first, until a block fits the budget.
      const budget = Math.max(1, Math.floor((options.blockBytes ?? DEFAULT_BLOCK_BYTES) / bytesPerValue(this.dtype)));
      for (let d = 0; d < this.dims.length; d++) {
        const inner = sizeOf(step.slice(d + 1));
        step[d] = Math.max(1, Math.min(step[d], Math.floor(budget / inner)));
        if (step[d] * inner <= budget) break;
      }
    }
    if (sizeOf(slab.count) === 0) return;
    // With reuse, every block is read into the same buffer.
    const bytes = sizeOf(step) * bytesPerValue(this.dtype);
    const given = options.reuse instanceof Uint8Array ? options.reuse : undefined;
    if (given && (given.byteLength < bytes || given.byteOffset % 8)) throw new SelectionError(`the buffer given to read blocks into holds ${given.byteLength} bytes at offset ${given.byteOffset}; a block takes ${bytes}, 8-byte aligned`, where);
    const into = this.dtype === "string" ? undefined : given ?? (options.reuse ? allocateBytes(bytes) : undefined);
    for (const sub of blockSlabs(slab, step)) {
      yield { ...this.present(await this.readRaw(sub, into), sub, options), start: sub.start };
    }
  }

  /** A reference to this variable (and a selection of it) for openRef()/readRef(). */
  ref(selection?: Selection): DatasetRef {
    return this.dataset.ref(this.name, selection);
  }

  private async readSlab(slab: Hyperslab, options: ReadOptions): Promise<NDArray> {
    return this.present(await this.readRaw(slab), slab, options);
  }

  private readRaw(slab: Hyperslab, into?: Uint8Array): Promise<NumericArray | string[] | PaddedValues> {
    const backend = this.dataset._backend;
    const n = sizeOf(slab.count);
    const bytes = n * bytesPerValue(this.dtype);
    if (bytes > MAX_READ_BYTES) {
      const where = `${this.dataset.path}: variable ${this.name}`;
      throw new SelectionError(`selection of ${n} values (${(bytes / 2 ** 30).toFixed(1)} GiB) is too large to read at once; use blocks()`, where);
    }
    return backend.read(this.info, slab, into);
  }

  /** Raw values as the caller asked for them: CF-decoded unless raw, dropped dims removed; padding masked. */
  private present(read: NumericArray | string[] | PaddedValues, slab: Hyperslab, { raw = false }: ReadOptions): NDArray {
    const keptDims = this.dims.filter((_, d) => slab.keep[d]);
    const keptShape = slab.count.filter((_, d) => slab.keep[d]);
    const attrs = this.attrs;
    const padded = "absent" in read ? read.absent : undefined;
    const values = "absent" in read ? read.values : read;
    if (raw || this.dtype === "string") {
      const out: NDArray = { data: values, shape: keptShape, dims: keptDims, dtype: this.dtype, attrs };
      if (padded) out.mask = padded;
      return out;
    }
    const decoded = this.info.decoding
      ? this.info.decoding.decode(values as NumericArray, slab.count)
      : decode(values as NumericArray, this.dtype, this.info.attributes, slab.count);
    if (this.dtype === "char") {
      // Strings run along the last dimension, which the result loses (with its padding).
      const lead = slab.keep.slice(0, -1);
      return { data: decoded.data, shape: decoded.shape.filter((_, d) => lead[d]), dims: this.dims.slice(0, -1).filter((_, d) => lead[d]), dtype: "string", attrs };
    }
    const out: NDArray = { data: decoded.data, shape: keptShape, dims: keptDims, dtype: decoded.dtype, attrs };
    const mask = padded && decoded.mask ? padded.map((a, i) => a | decoded.mask![i]) : padded ?? decoded.mask;
    if (mask) out.mask = mask;
    if (padded && isFloat(decoded.dtype)) padded.forEach((a, i) => { if (a) (decoded.data as Float64Array)[i] = NaN; });
    return out;
  }
}

/** The sub-slabs of `slab` in blocks of `step` elements per dim, in row-major order. */
function* blockSlabs(slab: Hyperslab, step: number[]): Generator<Hyperslab> {
  const nd = step.length;
  const k = new Array<number>(nd).fill(0); // block position, in elements of the selection
  for (;;) {
    yield {
      start: k.map((p, d) => slab.start[d] + p * slab.step[d]),
      count: k.map((p, d) => Math.min(step[d], slab.count[d] - p)),
      step: slab.step,
      keep: slab.keep,
    };
    let d = nd - 1;
    while (d >= 0 && (k[d] += step[d]) >= slab.count[d]) k[d--] = 0;
    if (d < 0) return;
  }
}

/** Bytes one value takes in memory (a string counts as a pointer's worth). */
const bytesPerValue = (dtype: VariableInfo["dtype"]) => (dtype === "string" ? 8 : itemSize(dtype));
