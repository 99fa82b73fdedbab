/**
 * How cluster processes are started: Node with tsx (engines import task modules
 * written in TypeScript), found from this package so any working directory
 * works; with an IPC channel, so that a child ends when its parent does.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const TSX = import.meta.resolve("tsx");

/** Starts one of this package's entry points (`engine-main.ts`, `cluster-main.ts`) as a child process. */
export function startProcess(entry: string, args: string[], options: { detached?: boolean; logFd?: number; quiet?: boolean } = {}): ChildProcess {
  const file = fileURLToPath(new URL(entry, import.meta.url));
  // Output to a log file, or this process's own (its stdout left out when quiet).
  const stdio = options.logFd !== undefined ? (["ignore", options.logFd, options.logFd, "ipc"] as const) : (["ignore", options.quiet ? "ignore" : "inherit", "inherit", "ipc"] as const);
  // MERIDIAN_NODE_ARGS: more Node flags for cluster processes (a heap size, --cpu-prof).
  const extra = process.env.MERIDIAN_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  return fork(file, args, { execArgv: ["--import", TSX, ...extra], stdio: [...stdio], detached: options.detached });
}

/** In a child: exits when the parent goes (its IPC channel closes), also when the parent was killed. */
export function exitWithParent(cleanup: () => Promise<void> | void) {
  if (!process.send) return;
  process.on("disconnect", async () => {
    await cleanup();
    process.exit(0);
  });
}

/** Whether a process exists (signal 0 tests without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
