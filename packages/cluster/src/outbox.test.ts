/**
 * The outbox over real ZeroMQ sockets on 127.0.0.1: under load it batches
 * small messages, and every message still arrives in the order it was
 * sealed, so the receiver's replay check drops none. (Large results sent
 * after small messages sealed later once hung reductions: the receiver took
 * them for replays.)
 */
import { describe, expect, it } from "vitest";
import { Dealer, Router } from "zeromq";
import { Outbox, unbatch } from "./outbox.ts";
import { newKey, Signer } from "./protocol.ts";

describe("the outbox", () => {
  it("keeps the order of sealing across batches and large messages, and the receiver drops nothing", async () => {
    const router = new Router(), dealer = new Dealer();
    try {
      await router.bind("tcp://127.0.0.1:*");
      dealer.connect(router.lastEndpoint!);
      const key = newKey(), sender = new Signer(key), receiver = new Signer(key);
      const out = new Outbox(dealer);
      const sizes = [10, 10, 200_000, 10, 300_000, 300_000, 10, 10, 10, 100_000, 10];
      // all at once, so that they pile up behind the first send and leave as batches
      for (const [n, size] of sizes.entries()) out.send(sender.seal({ t: "m", n }, [Buffer.alloc(size, n)]));
      const seen: number[] = [];
      let batches = 0;
      while (seen.length < sizes.length) {
        const [, ...frames] = await router.receive();
        const messages = unbatch(frames);
        if (messages.length > 1) batches++;
        for (const m of messages) {
          const opened = receiver.open(m);
          expect(opened, `message after ${seen.join(",")}`).toBeDefined();
          seen.push(opened!.header.n as number);
          expect(opened!.body[0].byteLength).toBe(sizes[opened!.header.n as number]);
        }
      }
      expect(seen).toEqual(sizes.map((_, n) => n));
      expect(receiver.dropped.replayed).toBe(0);
      expect(batches).toBeGreaterThanOrEqual(1); // (small ones did travel packed)
    } finally {
      dealer.close();
      router.close();
    }
  });
});
