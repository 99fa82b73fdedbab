/**
 * The cluster with real processes and real ZeroMQ sockets on 127.0.0.1: a
 * controller and engines started by Cluster.start, tasks from a TypeScript
 * module, and the same task run serially for the expected values.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { resolveAddress } from "./address.ts";
import { Client } from "./client.ts";
import { Cluster, type ClusterOptions } from "./cluster.ts";
import { awaitConnection, writeConnection } from "./connection.ts";
import { Engine } from "./engine.ts";
import { CancelledError, EngineDiedError, RemoteError, TaskTimeoutError } from "./errors.ts";
import { double, fail, flaky, killEngine, noop, sleep, spin, square, whereAmI } from "./fixtures/tasks.ts";
import { isAlive } from "./processes.ts";
import { packValue, Signer, unpackValue } from "./protocol.ts";

const until = async (what: string, ok: () => boolean | Promise<boolean>, seconds = 10) => {
  const end = Date.now() + seconds * 1000;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe("a cluster of 2 engines", () => {
  let cluster: Cluster;
  let client: Client;
  beforeAll(async () => {
    cluster = await Cluster.start({ engines: 2 });
    client = await cluster.connect();
  });
  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("runs a task from a TypeScript module as it runs serially", async () => {
    const lb = client.loadBalanced();
    expect(await lb.apply(square, 12)).toBe(await square(12));
    const items = Array.from({ length: 500 }, (_, i) => i - 250);
    const serial = await Promise.all(items.map((x) => square(x)));
    expect(await lb.map(square, items)).toEqual(serial);
    expect(await lb.map(square, items, { chunkSize: 7 })).toEqual(serial);
    // Both engines took part.
    const where = await lb.map(whereAmI, Array.from({ length: 200 }, () => null));
    expect(new Set(where.map((w) => w.engine))).toEqual(new Set([0, 1]));
  });

  it("streams results with imap and reports progress", async () => {
    const lb = client.loadBalanced();
    const seen: number[] = [];
    const progress: number[] = [];
    for await (const { index, value } of lb.imap(square, [3, 1, 4, 1, 5, 9, 2, 6], { onProgress: (done) => progress.push(done) })) {
      expect(value).toBe([3, 1, 4, 1, 5, 9, 2, 6][index] ** 2);
      seen.push(index);
    }
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(progress.at(-1)).toBe(8);
    const ordered: number[] = [];
    for await (const { index } of lb.imap(sleep, [0.05, 0.001, 0.02], { ordered: true })) ordered.push(index);
    expect(ordered).toEqual([0, 1, 2]);
  });

  it("sends typed arrays as frames, both ways", async () => {
    const a = Float64Array.from({ length: 100_000 }, (_, i) => i / 3);
    const b = await client.loadBalanced().apply(double, a);
    expect(b).toBeInstanceOf(Float64Array);
    expect(b.length).toBe(a.length);
    expect(b[99_999]).toBe(2 * a[99_999]);
  });

  it("sends large arrays in frames of at most 8 MiB (heartbeats count frames), whole again on arrival", async () => {
    const big = Float32Array.from({ length: 5_000_001 }, (_, i) => i);
    const frames = packValue({ big, small: new Int16Array([1, 2]), empty: new Float64Array(0) });
    expect(frames.slice(1).map((f) => f.byteLength)).toEqual([8 << 20, 8 << 20, 20_000_004 - (16 << 20), 4, 0]);
    const back = unpackValue(frames) as { big: Float32Array; small: Int16Array; empty: Float64Array };
    expect(back.big).toEqual(big);
    expect(Array.from(back.small)).toEqual([1, 2]);
    expect(back.empty.length).toBe(0);
    const doubled = await client.loadBalanced().apply(double, Float64Array.from(big)); // 40 MB each way
    expect(doubled[5_000_000]).toBe(10_000_000);
  });

  it("returns a task's exception as a RemoteError with its type, message, stack and engine", async () => {
    const err = await client.loadBalanced().apply(fail, "out of range").then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.remoteType).toBe("RangeError");
    expect(err.remoteMessage).toBe("out of range");
    expect(err.remoteStack).toMatch(/at fail \(.*fixtures\/tasks\.ts:\d+/);
    expect([0, 1]).toContain(err.engine);
    // map stops at the first error
    await expect(client.loadBalanced().map(fail, ["a", "b"])).rejects.toThrow(RemoteError);
  });

  it("retries a failing task when asked", async () => {
    // flaky fails once per engine process, then succeeds.
    const lb = client.loadBalanced({ retries: 2 });
    const runs = await Promise.all([lb.apply(flaky, 1), lb.apply(flaky, 1)]);
    expect(runs.every((r) => r >= 2)).toBe(true);
    await expect(client.loadBalanced().apply(flaky, 1000)).rejects.toThrow(/flaky run/);
  });

  it("times out and cancels running and queued tasks", async () => {
    const lb = client.loadBalanced();
    const started = Date.now();
    await expect(client.loadBalanced({ timeout: 0.2 }).apply(sleep, 30)).rejects.toThrow(TaskTimeoutError);
    expect(Date.now() - started).toBeLessThan(3000);
    const running = lb.apply(sleep, 30, "late");
    const queued = Array.from({ length: 6 }, () => lb.apply(sleep, 30));
    await new Promise((r) => setTimeout(r, 100));
    running.cancel();
    queued.forEach((f) => f.cancel());
    await expect(running).rejects.toThrow(CancelledError);
    for (const f of queued) await expect(f).rejects.toThrow(CancelledError);
    // The engines are free again (sleep listens to its abort signal).
    expect(await lb.map(square, [1, 2, 3])).toEqual([1, 4, 9]);
  });

  it("interrupts a task that computes without looking at its abort signal (its engine is replaced)", async () => {
    const lb = client.loadBalanced();
    const before = (await client.status()).engineDeaths;
    const busy = lb.apply(spin, 60);
    await until("the task to start", async () => (await client.status()).running > 0);
    const started = Date.now();
    busy.cancel();
    await expect(busy).rejects.toThrow(CancelledError);
    // the cluster kills the stuck engine after the grace period, and starts another
    await until("the stuck engine to be killed", async () => (await client.status()).engineDeaths > before, 10);
    expect(Date.now() - started).toBeLessThan(5000);
    await until("2 engines again", async () => (await client.engines()).length === 2, 20);
    expect(await lb.map(square, [5, 6])).toEqual([25, 36]);
  });

  it("direct view: execute, push, pull, apply on every engine, scatter and gather", async () => {
    const dv = client.direct();
    const ids = await client.engines();
    await dv.push({ base: 10, label: "x" });
    expect(await dv.pull("base")).toEqual(ids.map(() => 10));
    const ran = await dv.execute("const y = base * 2; console.log('y is', y); y + 1");
    expect(ran.map((r) => r.engine)).toEqual(ids);
    expect(ran.every((r) => r.value === 21 && r.output === "y is 20")).toBe(true);
    expect((await dv.apply(whereAmI)).map((w) => w.engine)).toEqual(ids);
    const data = Float64Array.from({ length: 1001 }, (_, i) => i);
    await dv.scatter("part", data);
    const lengths = await dv.execute("part.length");
    expect(lengths.reduce((a, r) => a + (r.value as number), 0)).toBe(1001);
    expect(await dv.gather("part")).toEqual(data);
    await expect(dv.pull("nothing")).rejects.toThrow(/nothing is not defined on engine/);
    // one engine only
    expect((await client.direct(ids[1]).apply(whereAmI))[0].engine).toBe(ids[1]);
  });

  it("runs plain functions sent as source, and explains a free variable", async () => {
    const lb = client.loadBalanced();
    expect(await lb.apply((a: number, b: number) => a * b + 1, 6, 7)).toBe(43);
    const factor = 3;
    const err = await lb.apply((x: number) => x * factor, 2).then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toMatch(/factor is not defined/);
    expect(err.message).toMatch(/sent as source.*Pass factor as an argument, push it first/);
    // with the name pushed, the same function works
    await client.direct().push({ factor });
    expect(await lb.apply((x: number) => x * factor, 2)).toBe(6);
  });

  it("drops unsigned, forged and replayed messages, and keeps working", async () => {
    const before = (await client.status()).dropped;
    const raw = new Dealer({ linger: 0 });
    raw.connect(`tcp://127.0.0.1:${cluster.info.clientPort}`);
    const good = new Signer(Buffer.from(cluster.info.key, "hex"));
    const forger = new Signer(Buffer.alloc(32, 7));
    const submit = (s: Signer) => s.seal({ t: "submit", i: 1, op: "call", f: { m: square.task.module, n: "square" } }, packValue([5]));
    await raw.send([Buffer.from("garbage")]);
    await raw.send([Buffer.alloc(32), Buffer.from("not msgpack")]);
    await raw.send(submit(forger));
    const signed = submit(good);
    await raw.send(signed);
    await raw.send(signed); // the same again: a replay
    // Exactly one result comes back, for the one good message.
    const [, head] = await raw.receive();
    expect(head.byteLength).toBeGreaterThan(0);
    await until("the drop counts", async () => {
      const d = (await client.status()).dropped;
      return d.unsigned > before.unsigned && d.forged >= before.forged + 2 && d.replayed > before.replayed;
    });
    const more = await Promise.race([raw.receive().then(() => "another result"), new Promise((r) => setTimeout(() => r("none"), 300))]);
    expect(more).toBe("none");
    raw.close();
    expect(await client.loadBalanced().apply(square, 3)).toBe(9);
  });
});

/** Runs `fn` with a new cluster, a client, and a watcher (a second client, for status while the first is busy); stops them all after. */
async function withCluster(options: ClusterOptions, fn: (c: { cluster: Cluster; client: Client; watcher: Client }) => Promise<void>) {
  const cluster = await Cluster.start(options);
  const client = await cluster.connect();
  const watcher = await cluster.connect();
  try {
    await fn({ cluster, client, watcher });
  } finally {
    watcher.close();
    client.close();
    await cluster.stop();
  }
}

describe("engines that die", () => {
  it("re-dispatches the tasks of killed engines: every result once, equal to the serial run", async () => {
    // the watcher has its own connection: the client's is busy with 10,000 tasks
    await withCluster({ engines: 3 }, async ({ client, watcher }) => {
      const items = Array.from({ length: 10_000 }, (_, i) => i);
      const lb = client.loadBalanced();
      const seen = new Uint8Array(items.length);
      const killed = new Set<number>();
      const killer = setInterval(async () => {
        const engines = (await watcher.status()).engines.filter((e) => !killed.has(e.pid));
        if (engines.length < 2 || killed.size >= 4) return;
        killed.add(engines[0].pid);
        process.kill(engines[0].pid, "SIGKILL");
      }, 150);
      try {
        for await (const { index, value } of lb.imap(spin, items.map(() => 0.0001))) {
          seen[index]++;
          expect(value, "spin's loop count").toBeGreaterThan(0);
        }
      } finally {
        clearInterval(killer);
      }
      expect(killed.size, "engines killed during the map").toBeGreaterThan(0);
      expect(seen.every((n) => n === 1)).toBe(true);
      const squares = await lb.map(square, items);
      expect(squares).toEqual(items.map((x) => x * x));
      const status = await client.status();
      expect(status.engineDeaths).toBeGreaterThanOrEqual(killed.size);
      // the supervisor restarted them
      await until("3 engines again", async () => (await client.engines()).length === 3);
    });
  });

  it("fails a task that keeps killing engines with EngineDiedError, and goes on", async () => {
    await withCluster({ engines: 2 }, async ({ client }) => {
      const lb = client.loadBalanced();
      await expect(lb.apply(killEngine)).rejects.toThrow(EngineDiedError);
      await until("2 engines again", async () => (await client.engines()).length === 2, 20);
      expect(await lb.apply(square, 4)).toBe(16);
    });
  });

  it("takes a hung engine (SIGSTOP) for dead within a second and runs its task elsewhere", async () => {
    await withCluster({ engines: 2 }, async ({ client, watcher }) => {
      let stopped: number | undefined;
      try {
        const lb = client.loadBalanced();
        const result = lb.apply(sleep, 1, "finished");
        await until("the task to start", async () => (await watcher.status()).running > 0);
        stopped = (await watcher.status()).engines.find((e) => e.load > 0)!.pid;
        const t = Date.now();
        process.kill(stopped, "SIGSTOP");
        await until("the hung engine to be dropped", async () => !(await watcher.status()).engines.some((e) => e.pid === stopped), 5);
        const detected = Date.now() - t;
        expect(detected).toBeLessThan(2000); // heartbeat timeout 0.5 s, plus polling on a busy machine
        expect(await result).toBe("finished");
      } finally {
        if (stopped) process.kill(stopped, "SIGKILL");
      }
    });
  });

  it("takes back an engine that was taken for dead while idle, once it answers again", async () => {
    await withCluster({ engines: 2 }, async ({ client, watcher }) => {
      const pid = (await watcher.status()).engines[0].pid;
      try {
        process.kill(pid, "SIGSTOP");
        await until("the stalled engine to be dropped", async () => !(await watcher.status()).engines.some((e) => e.pid === pid), 5);
        // it has nothing to send: it must notice, from its connection, that it was cut off
        process.kill(pid, "SIGCONT");
        await until("the woken engine to register again", async () => (await watcher.status()).engines.some((e) => e.pid === pid), 10);
        const id = (await watcher.status()).engines.find((e) => e.pid === pid)!.id;
        expect(await client.direct(id).apply(whereAmI)).toEqual([expect.objectContaining({ pid })]);
      } finally {
        process.kill(pid, "SIGCONT");
      }
    });
  });

  it("leaves no process behind: at stop, and when the parent is killed", async () => {
    const cluster = await Cluster.start({ engines: 2 });
    const client = await cluster.connect();
    const pids = [cluster.pid, ...(await client.status()).engines.map((e) => e.pid)];
    client.close();
    await cluster.stop();
    await until("the cluster's processes to end", () => pids.every((p) => !isAlive(p)));

    // A parent that starts a cluster, prints its pids, and is then SIGKILLed.
    const script = `
      import { Cluster } from ${JSON.stringify(new URL("./cluster.ts", import.meta.url).href)};
      const c = await Cluster.start({ engines: 2 });
      const client = await c.connect();
      const s = await client.status();
      console.log(JSON.stringify([c.pid, ...s.engines.map((e) => e.pid)]));
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const line = await new Promise<string>((resolve) => parent.stdout.once("data", (d) => resolve(String(d))));
      const orphans = JSON.parse(line) as number[];
      expect(orphans.every(isAlive)).toBe(true);
      parent.kill("SIGKILL");
      await until("the orphaned cluster to end", () => orphans.every((p) => !isAlive(p)), 15);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});

describe("the connection file", () => {
  it("an engine waits for one that appears late, or is half written, and gives up after its time naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meridian-conn-")), file = join(dir, "connection.json");
    try {
      const info = { version: 1 as const, ip: "127.0.0.1", clientPort: 1, enginePort: 2, key: "00".repeat(32), pid: 0, created: "" };
      setTimeout(() => writeFileSync(file, "{\"ip\": \"127."), 200); // half written, as a reader may see on NFS
      setTimeout(() => writeConnection(file, info), 600);
      expect(await awaitConnection(file, 5)).toEqual(info);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readdirSync(dir)).toEqual(["connection.json"]); // (written whole: no temporary file left)
      await expect(awaitConnection(join(dir, "none.json"), 0.3)).rejects.toThrow(/cannot read the connection file .*none\.json: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("no controller", () => {
  it("an engine or a client with nobody to answer fails after its timeout, with where it looked", async () => {
    const info = { version: 1 as const, ip: "127.0.0.1", clientPort: 9, enginePort: 9, key: "00".repeat(32), pid: 0, created: "" };
    await expect(Engine.start(info, { timeout: 0.5 })).rejects.toThrow(/no controller welcomed this engine at tcp:\/\/127\.0\.0\.1:9 within 0\.5 s/);
    await expect(Client.connect(info, { timeout: 0.5 })).rejects.toThrow(/no controller answered at tcp:\/\/127\.0\.0\.1:9 within 0\.5 s/);
  });
});

describe("CurveZMQ", () => {
  it("encrypts the connections; a client without the controller's public key gets nothing", async () => {
    const cluster = await Cluster.start({ engines: 1, curve: true });
    try {
      expect(cluster.info.curve).toMatch(/^.{40}$/);
      const client = await cluster.connect();
      expect(await client.loadBalanced().apply(square, 11)).toBe(121);
      client.close();
      const { curve: _, ...plain } = cluster.info;
      await expect(Client.connect(plain, { timeout: 1 })).rejects.toThrow(/no controller answered/);
    } finally {
      await cluster.stop();
    }
  });

  it("is on by default off loopback, with keys made at start, and cannot be turned off there", async () => {
    // every interface, handed out as 127.0.0.1 (whatever network the test machine has)
    const cluster = await Cluster.start({ engines: 1, ip: "*", location: "127.0.0.1" });
    try {
      expect(cluster.info).toMatchObject({ bind: "0.0.0.0", ip: "127.0.0.1", curve: expect.stringMatching(/^.{40}$/), heartbeat: 3 });
      const client = await cluster.connect();
      expect(await client.loadBalanced().apply(square, 12)).toBe(144);
      client.close();
    } finally {
      await cluster.stop();
    }
    await expect(Cluster.start({ engines: 0, ip: "0.0.0.0", curve: false })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without encryption: CurveZMQ is required off loopback/);
  });
});

describe("listen addresses", () => {
  it("an IP, an interface's name, or every interface; the location handed out", () => {
    expect(resolveAddress()).toEqual({ bind: "127.0.0.1", location: "127.0.0.1" });
    expect(resolveAddress("lo")).toEqual({ bind: "127.0.0.1", location: "127.0.0.1" });
    expect(resolveAddress("*", "login1.example.org")).toEqual({ bind: "0.0.0.0", location: "login1.example.org" });
    const external = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === "IPv4" && !a.internal).map((a) => a!.address);
    if (external.length) expect(external).toContain(resolveAddress("*").location);
    else expect(() => resolveAddress("*")).toThrow(/no external IPv4 address to give engines: name one with --location/);
    expect(() => resolveAddress("nosuch0")).toThrow(/--ip nosuch0: not an address, and no network interface of that name has an IPv4 address \(interfaces: .*lo 127\.0\.0\.1/);
  });
});
