/**
 * Typed errors of @meridian/io. Every error names the file it is about; format
 * errors also give the byte offset and what was expected there, so a user can
 * tell a corrupt file from a bug.
 */

export class MeridianError extends Error {
  override name = "MeridianError";
  /** The file (or source name) the error is about, when there is one. */
  readonly file?: string;
  constructor(message: string, file?: string, options?: ErrorOptions) {
    super(file ? `${file}: ${message}` : message, options);
    this.file = file;
  }
}

/** The bytes of a file do not follow its format (corrupt, truncated, lying header). */
export class FormatError extends MeridianError {
  override name = "FormatError";
  readonly offset?: number;
  constructor(file: string, offset: number | undefined, message: string, options?: ErrorOptions) {
    super(offset === undefined ? message : `at byte ${offset}: ${message}`, file, options);
    this.offset = offset;
  }
}

/** A valid file using a feature this reader does not (yet) decode. */
export class UnsupportedError extends MeridianError {
  override name = "UnsupportedError";
}

/** A variable, dimension or attribute that is not in the dataset. */
export class NotFoundError extends MeridianError {
  override name = "NotFoundError";
}

/** A selection that does not fit the variable's shape. */
export class SelectionError extends MeridianError {
  override name = "SelectionError";
}

/** Something that is not a dataset reference was given as one. */
export class RefError extends MeridianError {
  override name = "RefError";
}

/** Use of a dataset after close(). */
export class ClosedError extends MeridianError {
  override name = "ClosedError";
}

/** The file could not be opened or read at the operating-system level. */
export class IOError extends MeridianError {
  override name = "IOError";
  readonly code?: string;
  constructor(file: string, message: string, code?: string, options?: ErrorOptions) {
    super(message, file, options);
    this.code = code;
  }
}

/** Wraps an OS error (ENOENT, EACCES, EISDIR...) as an IOError naming the file. */
export function ioError(file: string, err: unknown): IOError {
  const e = err as NodeJS.ErrnoException;
  const what: Record<string, string> = {
    ENOENT: "no such file",
    EACCES: "permission denied",
    EISDIR: "is a directory, not a file",
    EMFILE: "too many open files",
  };
  const message = (e.code && what[e.code]) || e.message || String(err);
  return new IOError(file, message, e.code, { cause: err });
}

/** Names close to `name` among `candidates`, for "did you mean" hints. */
export function closeNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const lower = name.toLowerCase();
  const scored: [number, string][] = [];
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d <= Math.max(2, Math.floor(name.length / 3)) || c.toLowerCase().includes(lower)) scored.push([d, c]);
  }
  return scored.sort((a, b) => a[0] - b[0]).slice(0, max).map(([, c]) => c);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** A DRS tree or catalog that cannot be scanned or read, or a query that does not parse. */
export class DrsError extends MeridianError {
  override name = "DrsError";
}
