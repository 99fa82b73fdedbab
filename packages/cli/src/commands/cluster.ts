/**
 * The cluster from the shell: `meridian controller`, `meridian engine`, and
 * `meridian cluster start|stop|status`, which keep a profile's files in
 * `$MERIDIAN_HOME/profiles/<profile>/` (default ~/.meridian): connection.json
 * (mode 0600), cluster.pid and cluster.log.
 */
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { awaitConnection, Client, ClusterError, Controller, Engine, profileDir, writeConnection, type ClusterStatus } from "@meridian/cluster";
import { isAlive, startProcess } from "@meridian/cluster/processes";

interface ProfileOptions { profile?: string; connection?: string }
interface ListenOptions { ip?: string; location?: string; curve?: boolean }

const files = (o: ProfileOptions) => {
  const dir = profileDir(o.profile);
  return { dir, connection: o.connection ?? join(dir, "connection.json"), pid: join(dir, "cluster.pid"), log: join(dir, "cluster.log") };
};

const runningPid = (pidFile: string): number | undefined => {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8"));
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
};

/** `meridian controller`: a controller in the foreground (engines join with `meridian engine`). */
export async function controller(o: ProfileOptions & ListenOptions & { clientPort?: string; enginePort?: string }) {
  const c = await Controller.start({ ip: o.ip, location: o.location, clientPort: o.clientPort ? Number(o.clientPort) : undefined, enginePort: o.enginePort ? Number(o.enginePort) : undefined, curve: o.curve || undefined });
  const f = files(o);
  writeConnection(f.connection, c.info);
  console.log(`controller listening on ${c.info.bind}, found at ${c.info.ip}${c.info.curve ? " (CurveZMQ)" : ""} (clients ${c.info.clientPort}, engines ${c.info.enginePort}); connection file ${f.connection}`);
  c.onEngineDied = (e) => console.log(`engine ${e.id} (pid ${e.pid} on ${e.host}) is gone`);
  await new Promise<void>((resolve) => {
    const stop = () => void c.stop().then(resolve);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

/** `meridian engine`: one engine in the foreground. */
export async function engine(o: ProfileOptions & { wait?: string; timeout?: string }) {
  const seconds = (flag: string, v: string) => {
    if (!(Number(v) >= 0)) throw new ClusterError(`--${flag} must be a number of seconds, got ${v}`);
    return Number(v);
  };
  const wait = seconds("wait", o.wait ?? "10"), timeout = seconds("timeout", o.timeout ?? "60");
  const e = await Engine.start(await awaitConnection(files(o).connection, wait), { timeout });
  console.log(`engine ${e.id} (pid ${process.pid}) registered`);
  const stop = () => void e.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await e.finished;
}

/** `meridian cluster start`: a controller and N engines in the background. */
export async function clusterStart(o: ProfileOptions & ListenOptions & { engines?: string; launcher?: string; template?: string; hosts?: string }) {
  const f = files(o);
  const running = runningPid(f.pid);
  if (running) throw new ClusterError(`a cluster of profile "${o.profile ?? "default"}" is already running (pid ${running}); meridian cluster stop first`);
  mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  const engines = Number(o.engines ?? 2);
  if (!Number.isInteger(engines) || engines < 0) throw new ClusterError(`--engines must be a whole number, got ${o.engines}`);
  const args = ["--engines", String(engines), "--connection", f.connection, "--pid-file", f.pid, "--daemon"];
  if (o.ip) args.push("--ip", o.ip);
  if (o.location) args.push("--location", o.location);
  if (o.curve) args.push("--curve");
  if (o.launcher) args.push("--launcher", o.launcher);
  if (o.template) args.push("--template", o.template);
  if (o.hosts) args.push("--hosts", o.hosts);
  const log = openSync(f.log, "a", 0o600);
  const child = startProcess("./cluster-main.ts", args, { detached: true, logFd: log });
  const ready = await new Promise<any>((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new ClusterError(`the cluster process exited (code ${code}); see ${f.log}`)));
  });
  if (!ready?.ready) throw new ClusterError(`the cluster did not start: ${ready?.error}; see ${f.log}`);
  child.disconnect();
  child.unref();
  const where = !o.launcher || o.launcher === "local" ? "" : ` through ${o.launcher} (${ready.engines} registered so far; meridian cluster status)`;
  console.log(`cluster started: controller pid ${child.pid}, ${engines} engines${where}, at ${ready.info.ip}${ready.info.curve ? " (CurveZMQ)" : ""}`);
  console.log(`connection file ${f.connection}; log ${f.log}`);
  for (const w of ready.warnings ?? []) console.error(`meridian: warning: ${w}`);
}

/** `meridian cluster stop`. */
export async function clusterStop(o: ProfileOptions) {
  const f = files(o);
  const pid = runningPid(f.pid);
  if (!pid) {
    rmSync(f.pid, { force: true });
    console.log(`no cluster of profile "${o.profile ?? "default"}" is running`);
    return;
  }
  process.kill(pid, "SIGTERM");
  const until = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  rmSync(f.pid, { force: true });
  rmSync(f.connection, { force: true });
  console.log(`cluster stopped (pid ${pid})`);
}

/** `meridian cluster status`. */
export async function clusterStatus(o: ProfileOptions & { json?: boolean; ssh?: string }) {
  // through ssh, the connection file is the login node's unless given
  const client = await Client.connect(o.ssh && !o.connection ? undefined : files(o).connection, { timeout: 5, ssh: o.ssh, profile: o.profile });
  let s: ClusterStatus;
  try {
    s = await client.status();
  } finally {
    client.close();
  }
  if (o.json) return void console.log(JSON.stringify(s, null, 2));
  console.log(`controller pid ${s.controller.pid} on ${s.controller.host}, up ${s.controller.uptime.toFixed(0)} s`);
  console.log(`${s.engines.length} engines; queue ${s.queue}; running ${s.running}; done ${s.done}; failed ${s.failed}; ${s.rate.toFixed(1)} tasks/s (last 10 s)`);
  for (const e of s.engines) console.log(`  engine ${e.id}  pid ${e.pid} on ${e.host}  load ${e.load}  done ${e.done}  failed ${e.failed}`);
  const d = s.dropped;
  if (d.unsigned + d.forged + d.replayed + d.malformed) console.log(`dropped messages: ${d.unsigned} unsigned, ${d.forged} forged, ${d.replayed} replayed, ${d.malformed} malformed`);
}
