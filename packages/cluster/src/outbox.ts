/**
 * ZeroMQ allows one pending send per socket: every send goes through the
 * socket's outbox, in order. A send that fails (a ROUTER's peer is gone) is
 * reported to `onError` and the next goes on.
 */
import type { Dealer, Router } from "zeromq";

export class Outbox {
  private queue: Buffer[][] = [];
  private busy = false;

  constructor(private readonly socket: Dealer | Router, private readonly onError: (e: Error, frames: Buffer[]) => void = () => {}) {}

  send(frames: Buffer[]) {
    this.queue.push(frames);
    if (!this.busy) void this.pump();
  }

  /** Messages waiting to go. */
  get length() { return this.queue.length; }

  private async pump() {
    this.busy = true;
    while (this.queue.length) {
      const frames = this.queue.shift()!;
      try {
        await this.socket.send(frames);
      } catch (e) {
        if (this.socket.closed) { this.queue = []; break; }
        this.onError(e as Error, frames);
      }
    }
    this.busy = false;
  }
}
