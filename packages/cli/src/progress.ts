/** A live line on stderr when it is a terminal (nothing otherwise): `label: text`, at most ten updates a second. */
export const progress = (label: string) => {
  if (!process.stderr.isTTY) return { update: (_: string) => {}, done: () => {} };
  let last = 0;
  return {
    update(text: string) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      process.stderr.write(`\r${label}: ${text}\x1b[K`);
    },
    done: () => process.stderr.write("\r\x1b[K"),
  };
};

/** A bar for `done` of `total`. */
export const bar = (done: number, total: number, width = 24) => {
  const full = Math.round((done / Math.max(1, total)) * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}] ${done}/${total}`;
};

/** What says Ctrl-C: the process (a command), or a REPL (it reads the key itself). */
interface Interrupts {
  once(event: "SIGINT", listener: () => void): unknown;
  off(event: "SIGINT", listener: () => void): unknown;
}

/**
 * Runs long work with a progress bar on the terminal; Ctrl-C cancels it (the
 * tasks on a cluster too) and clears the bar at once.
 */
export async function interruptible<T>(label: string, work: (signal: AbortSignal, onProgress: (done: number, total: number) => void) => Promise<T>, interrupts: Interrupts = process): Promise<T> {
  const abort = new AbortController(), line = progress(label);
  const stop = () => {
    abort.abort(new Error("interrupted"));
    line.done();
  };
  interrupts.once("SIGINT", stop);
  try {
    return await work(abort.signal, (done, total) => abort.signal.aborted || line.update(bar(done, total)));
  } finally {
    line.done();
    interrupts.off("SIGINT", stop);
  }
}
