/**
 * ZeroMQ allows one pending send per socket, and each send costs a turn of the
 * event loop: every message goes through the socket's outbox, and what piles
 * up while a send is in flight leaves together, as one batch message per
 * destination (no timer: batching happens only under load). A failed send (a
 * ROUTER's peer is gone) is reported to `onError` and the next goes on.
 *
 * A batch is `[BATCH, counts, ...frames of each message]`, `counts` being the
 * frame count of each message as uint32; each message keeps its own signature.
 */
import type { Dealer, Router } from "zeromq";

const BATCH = Buffer.from("B");
/** Most messages in one batch. */
const MAX_BATCH = 1024;

export class Outbox {
  private queue: Buffer[][] = [];
  private busy = false;

  /** `routed`: a ROUTER's messages start with the destination's routing frame, kept in front of a batch. */
  constructor(private readonly socket: Dealer | Router, private readonly routed = false, private readonly onError: (e: Error, frames: Buffer[]) => void = () => {}) {}

  send(frames: Buffer[]) {
    this.queue.push(frames);
    if (!this.busy) void this.pump();
  }

  /** Messages waiting to go. */
  get length() { return this.queue.length; }

  private async pump() {
    this.busy = true;
    while (this.queue.length) {
      const waiting = this.queue.splice(0, MAX_BATCH);
      const groups = new Map<string, Buffer[][]>();
      for (const m of waiting) {
        const to = this.routed ? m[0].toString("latin1") : "";
        let g = groups.get(to);
        if (!g) groups.set(to, (g = []));
        g.push(this.routed ? m.slice(1) : m);
      }
      for (const [to, messages] of groups) {
        const head = this.routed ? [Buffer.from(to, "latin1")] : [];
        const frames = messages.length === 1 ? [...head, ...messages[0]] : [...head, BATCH, Buffer.from(Uint32Array.from(messages, (m) => m.length).buffer), ...messages.flat()];
        try {
          await this.socket.send(frames);
        } catch (e) {
          if (this.socket.closed) { this.queue = []; this.busy = false; return; }
          this.onError(e as Error, frames);
        }
      }
    }
    this.busy = false;
  }
}

/** The messages in received frames (after any routing frame): one, or those of a batch. */
export function unbatch(frames: Buffer[]): Buffer[][] {
  if (frames.length < 2 || frames[0].byteLength !== 1 || frames[0][0] !== BATCH[0]) return [frames];
  const c = frames[1];
  if (c.byteLength % 4) return [];
  const counts = new Uint32Array(Uint8Array.prototype.slice.call(c).buffer);
  const out: Buffer[][] = [];
  let at = 2;
  for (const n of counts) {
    if (n < 1 || at + n > frames.length) return out; // malformed: what it holds is dropped
    out.push(frames.slice(at, at + n));
    at += n;
  }
  return out;
}
