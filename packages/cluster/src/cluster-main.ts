/**
 * A cluster process: the controller and a supervisor of local engines.
 *
 *   cluster-main.ts --engines N [--ip IP|INTERFACE|*] [--location ADDRESS] [--curve|--no-curve]
 *                   [--connection FILE] [--pid-file FILE] [--daemon]
 *                   [--launcher local|ssh|mpiexec|slurm|pbs|sge|lsf] [--template FILE] [--hosts a,b]
 *
 * Writes the connection file (mode 0600) and starts N engines: here,
 * restarting any that dies (at most 5 times a minute per engine), or through
 * a launcher (launchers.ts), which it stops with the cluster. With a parent (Cluster.start),
 * it reports readiness over IPC and ends when the parent ends; as a daemon
 * (`meridian cluster start`) it runs on after its parent, until SIGTERM.
 */
import type { ChildProcess } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { externalIPv4s, isLoopback } from "./address.ts";
import { writeConnection } from "./connection.ts";
import { Controller } from "./controller.ts";
import { launch, LAUNCHERS, type Launched, type LauncherName } from "./launchers.ts";
import { exitWithParent, startProcess } from "./processes.ts";

const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const count = Number(arg("--engines") ?? 2);
const file = arg("--connection") ?? join(tmpdir(), `meridian-${process.pid}.json`);
const pidFile = arg("--pid-file");
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

const launcher = (arg("--launcher") ?? "local") as LauncherName;

const fail = (message: string): never => {
  process.send?.({ error: message });
  console.error(message);
  process.exit(1);
};
if (!LAUNCHERS.includes(launcher)) fail(`unknown launcher "${launcher}": use one of ${LAUNCHERS.join(", ")}`);
let controller!: Controller;
try {
  const curve = process.argv.includes("--curve") ? true : process.argv.includes("--no-curve") ? false : undefined;
  // Engines started elsewhere must reach the controller: unless told otherwise, it listens on every interface.
  controller = await Controller.start({ ip: arg("--ip") ?? (launcher === "local" ? undefined : "*"), location: arg("--location"), curve });
} catch (e) {
  fail((e as Error).message);
}
writeConnection(file, controller.info);
const warnings: string[] = [];
const { ip, bind } = controller.info;
if (launcher !== "local" && launcher !== "mpiexec" && (isLoopback(ip) || isLoopback(bind ?? ip))) {
  warnings.push(`the controller is at ${isLoopback(ip) ? ip : bind}, which engines on other hosts cannot reach: give --ip (an address, an interface or *)`);
}
const external = externalIPv4s();
if (bind === "0.0.0.0" && !arg("--location") && external.length > 1) {
  warnings.push(`this host has several addresses (${external.map((a) => `${a.name} ${a.address}`).join(", ")}) and engines are given ${ip}: if they cannot reach it, name another with --ip or --location`);
}
for (const w of warnings) log(`warning: ${w}`);
if (pidFile) writeFileSync(pidFile, `${process.pid}\n`);
log(`controller pid ${process.pid} listening on ${controller.info.bind}, found at ${controller.info.ip}${controller.info.curve ? " (CurveZMQ)" : ""}, clients port ${controller.info.clientPort}, engines port ${controller.info.enginePort}; connection file ${file}`);

let stopping = false;
const slots: { child?: ChildProcess; restarts: number[] }[] = Array.from({ length: launcher === "local" ? count : 0 }, () => ({ restarts: [] }));
let launched: Launched | undefined;

function startEngine(k: number) {
  const slot = slots[k];
  const child = (slot.child = startProcess("./engine-main.ts", ["--connection", file]));
  child.on("exit", (code, signal) => {
    if (stopping) return;
    const now = Date.now();
    slot.restarts = slot.restarts.filter((t) => t > now - 60_000);
    if (slot.restarts.length >= 5) return log(`engine slot ${k} (pid ${child.pid}) exited (${signal ?? code}) 5 times in a minute: not restarted`);
    slot.restarts.push(now);
    log(`engine pid ${child.pid} exited (${signal ?? `code ${code}`}): restarting`);
    setTimeout(() => !stopping && startEngine(k), 100);
  });
}
for (let k = 0; k < slots.length; k++) startEngine(k);
if (launcher !== "local") {
  try {
    launched = launch(launcher, { engines: count, connection: file, dir: dirname(file), template: arg("--template"), hosts: arg("--hosts")?.split(",").filter(Boolean) });
    log(`engines: ${launched.description}`);
  } catch (e) {
    await controller.stop();
    fail((e as Error).message);
  }
}
// A task that ignores its abort signal keeps its engine busy: that engine is killed (and restarted).
controller.onEngineStuck = (e) => {
  if (e.host !== hostname() || !slots.some((s) => s.child?.pid === e.pid)) return;
  log(`engine ${e.id} (pid ${e.pid}) did not stop a cancelled task: killing it`);
  process.kill(e.pid, "SIGKILL");
};
controller.onEngineDied = (e) => !stopping && log(`engine ${e.id} (pid ${e.pid}) is gone; its tasks went back to the queue`);

async function stop() {
  if (stopping) return;
  stopping = true;
  log("stopping");
  await controller.stop();
  // (a job whose engines stopped may be over already: its cancel failing is no error)
  await launched?.stop().catch((e: Error) => log(`stopping the engines' launcher: ${e.message}`));
  // Engines were told to stop; any still there after 2 s is killed.
  await Promise.all(slots.map(({ child }) => child && child.exitCode === null && child.signalCode === null
    ? new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
        child.once("exit", () => (clearTimeout(timer), resolve()));
      })
    : undefined));
  if (pidFile) rmSync(pidFile, { force: true });
  if (!arg("--connection")) rmSync(file, { force: true });
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("message", (m: any) => m?.stop && stop());
if (!process.argv.includes("--daemon")) exitWithParent(stop);

// Ready when every engine has registered (a batch job may wait in its queue for hours: ready once submitted).
const started = Date.now();
while ((!launched || launched.immediate) && controller.engineIds().length < count) {
  if (Date.now() - started > 60_000) {
    process.send?.({ error: `only ${controller.engineIds().length} of ${count} engines registered within 60 s` });
    break;
  }
  await new Promise((r) => setTimeout(r, 20));
}
log(`${controller.engineIds().length} engines ready`);
process.send?.({ ready: true, info: controller.info, file, engines: controller.engineIds().length, warnings });
