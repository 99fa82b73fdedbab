import { readSync, type Stats } from "node:fs";
import { open as fsOpen, stat, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";
import { ClosedError, FormatError, IOError, ioError } from "./errors.ts";

/**
 * Where a dataset's bytes come from. One method that matters: read exactly
 * `length` bytes at `position`. A format reader never sees more than this, so a
 * new backend (memory, object store) is one small class.
 */
export interface ByteSource {
  /** Shown in errors: the file path, or a name for in-memory data. */
  readonly name: string;
  readonly size: number;
  /** Reads exactly `length` bytes at `position` into `into[offset..]`; a read past the end is a FormatError. */
  read(position: number, length: number, into?: Uint8Array, offset?: number): Promise<Uint8Array>;
  /** Reads consecutive bytes at `position` into `buffers`, filling each in turn (a vectored read). */
  readv(position: number, buffers: Uint8Array[]): Promise<void>;
  /**
   * Many small reads, [position, length, offset in `into`] each, done one
   * after the other without leaving the thread: for thousands of tiny reads (a
   * record variable has one value per record) a thread-pool round trip each
   * costs more than the reads.
   */
  readSmall?(reads: number[][], into: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** The file on disk these bytes are (or came from): what references record and caches check. */
  readonly identity?: FileIdentity;
}

const totalLength = (buffers: Uint8Array[]) => buffers.reduce((n, b) => n + b.byteLength, 0);

/** The largest single read the OS accepts (fs.read's length is a signed 32-bit int). */
const MAX_READ = 1 << 30;

function pastEnd(source: ByteSource, position: number, length: number): FormatError {
  return new FormatError(source.name, position, `file is truncated: expected ${length} bytes here but the file ends at byte ${source.size}`);
}

export class MemorySource implements ByteSource {
  private closed = false;
  /** `identity`: of the file the bytes came from (a decompressed file), so that references to it work. */
  constructor(readonly name: string, private readonly bytes: Uint8Array, readonly identity?: FileIdentity) {}
  get size() { return this.bytes.byteLength; }
  async read(position: number, length: number, into?: Uint8Array, offset = 0): Promise<Uint8Array> {
    if (this.closed) throw new ClosedError("dataset is closed", this.name);
    if (position + length > this.bytes.byteLength) throw pastEnd(this, position, length);
    const out = into ?? new Uint8Array(length);
    out.set(this.bytes.subarray(position, position + length), offset);
    return out;
  }
  async readv(position: number, buffers: Uint8Array[]): Promise<void> {
    if (this.closed) throw new ClosedError("dataset is closed", this.name);
    const length = totalLength(buffers);
    if (position + length > this.bytes.byteLength) throw pastEnd(this, position, length);
    for (const b of buffers) {
      b.set(this.bytes.subarray(position, position + b.byteLength));
      position += b.byteLength;
    }
  }
  async close() { this.closed = true; }
}

/** Identity of a file on disk, to notice when it changes under an open handle. */
export interface FileIdentity { dev: number; ino: number; size: number; mtimeMs: number }

export const sameFile = (a: FileIdentity, b: FileIdentity) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

/**
 * A file read with positional reads. Its descriptor is borrowed from a
 * process-wide pool that keeps at most `maxOpenFiles` descriptors open and closes
 * the least recently used idle one when it needs another; a file whose
 * descriptor was closed reopens on its next read, after checking it is still the
 * same file.
 */
export class FileSource implements ByteSource {
  handle?: FileHandle;
  busy = 0;
  closed = false;
  private constructor(readonly name: string, readonly identity: FileIdentity) {}

  /** Opens a file; `st`, when the caller has already stat()ed it, saves doing so again. */
  static async open(path: string, st?: Stats): Promise<FileSource> {
    const abs = resolve(path);
    try {
      st ??= await stat(abs);
    } catch (err) {
      throw ioError(path, err);
    }
    if (st.isDirectory()) throw new IOError(path, "is a directory, not a file", "EISDIR");
    const source = new FileSource(abs, { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
    await pool.run(source, async () => {}); // open now, so permission errors show at open()
    return source;
  }

  get size() { return this.identity.size; }
  get path() { return this.name; }

  async read(position: number, length: number, into?: Uint8Array, offset = 0): Promise<Uint8Array> {
    if (this.closed) throw new ClosedError("dataset is closed", this.name);
    if (position < 0 || position + length > this.size) throw pastEnd(this, position, length);
    const out = into ?? new Uint8Array(length);
    await pool.run(this, async (fh) => {
      let done = 0;
      while (done < length) {
        const n = Math.min(MAX_READ, length - done);
        let got: number;
        try {
          ({ bytesRead: got } = await fh.read(out, offset + done, n, position + done));
        } catch (err) {
          throw ioError(this.name, err);
        }
        if (got === 0) throw new FormatError(this.name, position + done, `file is shorter than when it was opened (expected ${this.size} bytes)`);
        done += got;
      }
    });
    return out;
  }

  async readSmall(reads: number[][], into: Uint8Array): Promise<void> {
    if (this.closed) throw new ClosedError("dataset is closed", this.name);
    for (const [position, length] of reads) if (position < 0 || position + length > this.size) throw pastEnd(this, position, length);
    await pool.run(this, async (fh) => {
      for (const [position, length, offset] of reads) {
        let got: number;
        try {
          got = readSync(fh.fd, into, offset, length, position);
        } catch (err) {
          throw ioError(this.name, err);
        }
        if (got !== length) throw new FormatError(this.name, position + got, `file is shorter than when it was opened (expected ${this.size} bytes)`);
      }
    });
  }

  async readv(position: number, buffers: Uint8Array[]): Promise<void> {
    if (this.closed) throw new ClosedError("dataset is closed", this.name);
    const length = totalLength(buffers);
    if (position < 0 || position + length > this.size) throw pastEnd(this, position, length);
    await pool.run(this, async (fh) => {
      let got: number;
      try {
        ({ bytesRead: got } = await fh.readv(buffers, position));
      } catch (err) {
        throw ioError(this.name, err);
      }
      // A short vectored read (rare): finish buffer by buffer.
      for (const b of buffers) {
        if (got >= b.byteLength) { got -= b.byteLength; position += b.byteLength; continue; }
        await this.read(position + got, b.byteLength - got, b, got);
        position += b.byteLength;
        got = 0;
      }
    });
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await pool.release(this);
  }
}

/**
 * The process-wide descriptor pool behind every FileSource. At most `maxOpen`
 * descriptors are open or opening at any time; a read that needs one when all
 * are busy waits for the next to become idle.
 */
class DescriptorPool {
  maxOpen = 64;
  /** Sources with an open descriptor, least recently used first (a Map keeps insertion order). */
  private open = new Map<FileSource, true>();
  private opening = new Map<FileSource, Promise<void>>();
  /** Descriptors being opened right now (they count against the limit). */
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  async run<T>(source: FileSource, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
    source.busy++;
    try {
      while (!source.handle) await (this.opening.get(source) ?? this.acquire(source));
      this.open.delete(source);
      this.open.set(source, true);
      return await fn(source.handle);
    } finally {
      source.busy--;
      if (source.busy === 0) this.waiters.shift()?.();
    }
  }

  private acquire(source: FileSource): Promise<void> {
    const p = (async () => {
      while (this.open.size + this.inFlight >= this.maxOpen) {
        if (!(await this.evictOne())) await new Promise<void>((wake) => this.waiters.push(wake));
      }
      this.inFlight++; // counted until it is in `open` (or failed)
      try {
        let fh: FileHandle;
        try {
          fh = await fsOpen(source.name, "r");
        } catch (err) {
          throw ioError(source.name, err);
        }
        if (!sameFile(await fh.stat(), source.identity)) {
          await fh.close();
          throw new IOError(source.name, "file changed on disk since it was opened; open it again", "ESTALE");
        }
        if (source.closed) { // closed while it was being opened
          await fh.close();
          throw new ClosedError("dataset is closed", source.name);
        }
        source.handle = fh;
        this.open.set(source, true);
      } finally {
        this.inFlight--;
      }
    })().finally(() => {
      this.opening.delete(source);
      this.waiters.shift()?.(); // a failed open frees its slot too
    });
    this.opening.set(source, p);
    return p;
  }

  /** Closes the least recently used idle descriptor; false when every one is busy. */
  private async evictOne(): Promise<boolean> {
    for (const s of this.open.keys()) {
      if (s.busy > 0) continue;
      await this.release(s);
      return true;
    }
    return false;
  }

  async release(source: FileSource) {
    this.open.delete(source);
    const fh = source.handle;
    source.handle = undefined;
    await fh?.close();
    this.waiters.shift()?.();
  }

  get openCount() { return this.open.size; }
}

const pool = new DescriptorPool();

/** Caps the number of file descriptors meridian keeps open at once (default 64). */
export function setMaxOpenFiles(n: number) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`max open files must be a positive integer, got ${n}`);
  pool.maxOpen = n;
}

/** How many descriptors are open now (for tests and status displays). */
export const openFileCount = () => pool.openCount;
