/**
 * Dataflow on a real cluster: the calibration loop over the bundled FITS
 * images, written as sequential code, gives the serial answer in parallel,
 * keeps values where they were computed, and survives an engine killed in
 * the middle of the graph.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, functional, schedule, type Client, type GraphStats } from "@meridian/cluster";
import { open, type DatasetRef } from "@meridian/io";
import { dataflowHeld } from "../packages/cluster/src/dataflow-store.ts";
import * as tasks from "./calibration-tasks.ts";

const FITS = fileURLToPath(new URL("../datasets/fits/", import.meta.url));
const measureBias = functional(tasks.measureBias), measureFlat = functional(tasks.measureFlat), calibrate = functional(tasks.calibrate);
const summariseNight = functional(tasks.summariseNight), smoothFlat = functional(tasks.smoothFlat);

let images: DatasetRef[];
beforeAll(async () => {
  images = [];
  for (const [file, names] of [["astropy/o4sp040b0_raw.fits", ["SCI_1", "SCI_2"]], ["astropy/test0.fits", ["SCI_1", "SCI_2", "SCI_3", "SCI_4"]], ["astropy/m13.fits", ["PRIMARY"]], ["astropy/m13_rice.fits", ["COMPRESSED_IMAGE"]]] as const) {
    const ds = await open(join(FITS, file));
    for (const name of names) images.push(ds.variable(name).ref());
    await ds.close();
  }
});

/** The pipeline as a user writes it: a plain loop, with a data-dependent branch. */
const pipeline = (delayMs = 0) => async () => {
  const out = [];
  for (const raw of images) {
    const bias = measureBias(raw, { delayMs });
    const flat = measureFlat(raw, { delayMs });
    if ((await bias) < -1e30) continue; // (awaiting a value: control flow may depend on it)
    out.push(calibrate(raw, bias, flat, { delayMs }));
  }
  return out;
};

describe("dataflow: functional and schedule", () => {
  let cluster: Cluster, client: Client;
  beforeAll(async () => {
    cluster = await Cluster.start({ engines: 2 });
    client = await cluster.connect();
    await client.waitForEngines(2);
  });
  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("runs the calibration loop in parallel with the serial answer; calibrate runs where its inputs are", async () => {
    const serial = await schedule(pipeline());
    expect(serial.length).toBe(images.length);
    expect(serial.every((r) => Number.isFinite(r.mean) && r.std > 0)).toBe(true);
    let stats: GraphStats | undefined;
    const parallel = await schedule(pipeline(), { client, onDone: (s) => (stats = s) });
    expect(parallel).toEqual(serial);
    expect(stats!.nodes).toBe(3 * images.length);
    expect(stats!.placements.size).toBe(2); // both engines worked
    // only inputs computed elsewhere travel: at most one of (bias, flat) per image
    expect(stats!.transfers).toBeLessThanOrEqual(images.length);
    expect(stats!.recoveries).toBe(0);
  }, 60_000);

  it("takes Refs inside arrays and objects as inputs, at any depth, and gives them back resolved", async () => {
    const night = async () => {
      const frames = [], biases = [];
      for (const raw of images) {
        const bias = measureBias(raw);
        biases.push(bias);
        frames.push(calibrate(raw, bias, measureFlat(raw)));
      }
      const summary = summariseNight(frames, { biases });
      const firstTwo = summariseNight(frames.slice(0, 2)), kept = frames.slice();
      frames.length = 2; // changed after the calls: they take the arrays as they were
      return { summary, firstTwo, frames: kept };
    };
    const serial = await schedule(night);
    expect(serial.summary.frames).toBe(images.length);
    expect(serial.firstTwo.frames).toBe(2);
    expect(serial.summary.biasRange).toEqual([Math.min(...serial.frames.map((f) => f.bias)), Math.max(...serial.frames.map((f) => f.bias))]);
    let stats: GraphStats | undefined;
    expect(await schedule(night, { client, onDone: (s) => (stats = s) })).toEqual(serial);
    expect(stats!.nodes).toBe(3 * images.length + 2);
    expect(stats!.recoveries).toBe(0);
  }, 60_000);

  it("frees each value on its engine once every node taking it is computed, not at the end", async () => {
    // two images' flats, each smoothed 30 times: two chains of 31 nodes
    const chain = async () => images.slice(0, 2).map((raw) => {
      let flat = measureFlat(raw);
      for (let k = 0; k < 30; k++) flat = smoothFlat(flat, { delayMs: 10 });
      return flat;
    });
    const serial = await schedule(chain);
    let stats: GraphStats | undefined, done = false;
    const run = schedule(chain, { client, onDone: (s) => (stats = s) }).finally(() => (done = true));
    const held: number[] = []; // the most values an engine holds, polled while the chain runs
    while (!done) {
      held.push(Math.max(...(await client.direct().apply(dataflowHeld))));
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(await run).toEqual(serial);
    expect(held.length).toBeGreaterThan(5);
    expect(Math.max(...held)).toBeGreaterThan(0);
    expect(Math.max(...held)).toBeLessThanOrEqual(6); // (up to 62 without freeing)
    expect(stats!.freed).toBe(62); // every value, the results once fetched
  }, 60_000);

  it("computes again what an engine took with it when killed mid-graph, and still gives the serial answer", async () => {
    const serial = await schedule(pipeline());
    const before = (await client.status()).engines;
    let stats: GraphStats | undefined;
    const run = schedule(pipeline(150), { client, onDone: (s) => (stats = s) });
    // some nodes done on the engine to kill (its values are needed later), some running
    for (let t = 0; t < 200 && ((await client.status()).engines.find((e) => e.pid === before[1].pid)?.done ?? 0) < before[1].done + 2; t++) await new Promise((r) => setTimeout(r, 25));
    process.kill(before[1].pid, "SIGKILL");
    expect(await run).toEqual(serial);
    expect(stats!.recoveries).toBeGreaterThanOrEqual(1);
    const after = (await client.status()).engines;
    expect(after.map((e) => e.pid)).not.toContain(before[1].pid);
  }, 90_000);

  it("without a cluster, Refs are computed here and awaiting one gives its value", async () => {
    const b = measureBias(images[0]);
    expect(await b).toBe(await tasks.measureBias(images[0]));
  });
});
