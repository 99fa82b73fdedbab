/**
 * meridian's cluster on the same measurements as cluster-peers.py: 2 engines on
 * 127.0.0.1; no-op map throughput (one task per item), the median and p99 of
 * single-task round trips, a 100 MB Float64Array to an engine and back, and the
 * time from SIGKILLing the engine running a 0.5 s task to its result from the
 * other engine. Usage: cluster-meridian.ts [TASKS]. Prints one line of JSON.
 */
import { Cluster } from "@meridian/cluster";
import { noop, sleep } from "../packages/cluster/src/fixtures/tasks.ts";

const tasks = Number(process.argv[2] ?? 10_000);
const cluster = await Cluster.start({ engines: 2 });
const client = await cluster.connect();
const watcher = await cluster.connect();
const lb = client.loadBalanced();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  await lb.map(noop, Array.from({ length: 200 }, (_, i) => i)); // warm-up
  let t = performance.now();
  const out = await lb.map(noop, Array.from({ length: tasks }, (_, i) => i));
  const tasksPerS = tasks / ((performance.now() - t) / 1000);
  if (out[tasks - 1] !== tasks - 1) throw new Error("map returned wrong values");

  const rtts: number[] = [];
  for (let i = 0; i < 1000; i++) {
    t = performance.now();
    await lb.apply(noop, i);
    rtts.push(performance.now() - t);
  }
  rtts.sort((a, b) => a - b);

  const big = new Float64Array(12_500_000).fill(1.5);
  const dv = client.direct((await client.engines())[0]);
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    t = performance.now();
    const [back] = await dv.apply(noop, big);
    times.push((performance.now() - t) / 1000);
    if ((back as Float64Array).length !== big.length || (back as Float64Array)[12_499_999] !== 1.5) throw new Error("the array came back wrong");
  }

  // SIGKILL the engine running a 0.5 s task; time to its result from the other engine.
  const pending = lb.apply(sleep, 0.5, "done");
  let victim: number | undefined;
  while (victim === undefined) {
    victim = (await watcher.status()).engines.find((e) => e.load > 0)?.pid;
    if (victim === undefined) await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 50));
  t = performance.now();
  process.kill(victim, "SIGKILL");
  if ((await pending) !== "done") throw new Error("wrong result after the kill");
  const killToResult = (performance.now() - t) / 1000;

  console.log(JSON.stringify({
    peer: "meridian", engines: 2, tasks, tasks_per_s: tasksPerS,
    rtt_ms_median: rtts[500], rtt_ms_p99: rtts[990],
    mb_per_s: 100 / median(times), kill_to_result_s: killToResult, kill_overhead_s: killToResult - 0.5,
  }));
} finally {
  watcher.close();
  client.close();
  await cluster.stop();
}
