/**
 * ZeroMQ allows one pending send per socket, and each send costs a turn of the
 * event loop: every message goes through the socket's outbox, and what piles
 * up while a send is in flight leaves together, as one batch message per
 * destination (no timer: batching happens only under load). A failed send (a
 * ROUTER's peer is gone) is reported to `onError` and the next goes on.
 *
 * A batch is two frames, `[BATCH, packed]`: ZeroMQ's cost is per frame, so the
 * messages' frames are packed into one, each message as its frame count then
 * each frame's length and bytes (uint32 big-endian). Messages with a frame
 * over 64 KiB are sent alone, never copied, between the batches of the small
 * ones before and after them: each destination gets its messages in the
 * order they were sealed. Each message keeps its own signature.
 */
import type { Dealer, Router } from "zeromq";

const BATCH = Buffer.from("B");
/** Most messages in one batch, and the largest frame a batch takes. */
const MAX_BATCH = 1024;
const SMALL = 65536;

const small = (m: Buffer[]) => m.every((f) => f.byteLength <= SMALL);

/** Messages (each a list of frames) packed into one frame. */
function pack(messages: Buffer[][]): Buffer {
  let size = 0;
  for (const m of messages) {
    size += 4;
    for (const f of m) size += 4 + f.byteLength;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const m of messages) {
    at = out.writeUInt32BE(m.length, at);
    for (const f of m) {
      at = out.writeUInt32BE(f.byteLength, at);
      at += f.copy(out, at);
    }
  }
  return out;
}

export class Outbox {
  private queue: Buffer[][] = [];
  private busy = false;
  private idle: (() => void)[] = [];

  /** `routed`: a ROUTER's messages start with the destination's routing frame, kept in front of a batch. */
  constructor(private readonly socket: Dealer | Router, private readonly routed = false, private readonly onError: (e: Error, frames: Buffer[]) => void = () => {}) {}

  send(frames: Buffer[]) {
    this.queue.push(frames);
    if (!this.busy) void this.pump();
  }

  /** Several messages at once: they leave together. */
  sendMany(messages: Buffer[][]) {
    if (!messages.length) return;
    this.queue.push(...messages);
    if (!this.busy) void this.pump();
  }

  private async pump() {
    this.busy = true;
    while (this.queue.length && !this.socket.closed) {
      // The common case when not loaded: one message, as it is.
      if (this.queue.length === 1) await this.deliver(this.queue.pop()!);
      else for (const frames of this.batches(this.queue.splice(0, MAX_BATCH))) await this.deliver(frames);
    }
    if (this.socket.closed) this.queue = [];
    this.busy = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Resolves when every message given so far has been handed to ZeroMQ. */
  drained(): Promise<void> {
    return this.busy || this.queue.length ? new Promise((resolve) => this.idle.push(resolve)) : Promise.resolve();
  }

  /** Messages grouped by destination, the small ones of each packed into one batch. */
  private *batches(waiting: Buffer[][]): Generator<Buffer[]> {
    const groups = new Map<string, Buffer[][]>();
    for (const m of waiting) {
      const to = this.routed ? m[0].toString("latin1") : "";
      let g = groups.get(to);
      if (!g) groups.set(to, (g = []));
      g.push(this.routed ? m.slice(1) : m);
    }
    for (const [to, messages] of groups) {
      // in the order they were sealed: a receiver drops a sequence number lower than one it has seen as a replay
      const head = this.routed ? [Buffer.from(to, "latin1")] : [];
      let run: Buffer[][] = [];
      const flush = () => {
        const out = run.length === 1 ? [...head, ...run[0]] : [...head, BATCH, pack(run)];
        run = [];
        return out;
      };
      for (const m of messages) {
        if (small(m)) run.push(m);
        else {
          if (run.length) yield flush();
          yield [...head, ...m];
        }
      }
      if (run.length) yield flush();
    }
  }

  private async deliver(frames: Buffer[]) {
    try {
      await this.socket.send(frames);
    } catch (e) {
      if (!this.socket.closed) this.onError(e as Error, frames);
    }
  }
}

/** The messages in received frames (after any routing frame): one, or those of a batch (views of it, not copies). */
export function unbatch(frames: Buffer[]): Buffer[][] {
  if (frames.length !== 2 || frames[0].byteLength !== 1 || frames[0][0] !== BATCH[0]) return [frames];
  const p = frames[1];
  const out: Buffer[][] = [];
  let at = 0;
  while (at + 4 <= p.byteLength) {
    const n = p.readUInt32BE(at);
    at += 4;
    const m: Buffer[] = [];
    for (let k = 0; k < n; k++) {
      if (at + 4 > p.byteLength) return out; // malformed: the rest is dropped
      const len = p.readUInt32BE(at);
      at += 4;
      if (at + len > p.byteLength) return out;
      m.push(p.subarray(at, at + len));
      at += len;
    }
    out.push(m);
  }
  return out;
}
