/**
 * Tasks: module-exported functions that can run anywhere. `task(import.meta.url,
 * fn)` marks one; calling it runs it here, in this process. A view sends only
 * `{module, name}` and the arguments, and an engine imports the module (once)
 * to find the export of that name. This module imports no ZeroMQ, so readers
 * and reductions can define tasks without depending on the transport.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface TaskRef {
  /** The module's URL (`import.meta.url` where the task is defined). */
  module: string;
  /** The export's name, which is the function's name. */
  name: string;
}

export type Task<A extends unknown[] = any[], R = unknown> = ((...args: A) => Promise<Awaited<R>>) & { readonly task: TaskRef };

/** Makes `fn`, exported from the module at `moduleUrl` under its own name, a task. */
export function task<A extends unknown[], R>(moduleUrl: string, fn: (...args: A) => R): Task<A, R> {
  const name = fn.name;
  if (!name) throw new TypeError("task(): give the function a name, the name it is exported under (export const f = task(import.meta.url, async function f() {...}))");
  if (!/^(file|data|https?):/.test(moduleUrl)) throw new TypeError(`task(): the first argument must be import.meta.url, got ${JSON.stringify(moduleUrl)}`);
  const run = async (...args: A) => fn(...args);
  Object.defineProperty(run, "name", { value: name });
  Object.defineProperty(run, "task", { value: Object.freeze({ module: moduleUrl, name }), enumerable: true });
  return run as Task<A, R>;
}

export const isTask = (f: unknown): f is Task => typeof f === "function" && typeof (f as Task).task?.module === "string";

/** What a running task can know of where it runs. */
export interface TaskContext {
  /** Aborted when the task is cancelled or times out: long tasks should check it or pass it on. */
  signal: AbortSignal;
  /** The engine's id, or -1 when the task runs in-process. */
  engine: number;
}

const storage = new AsyncLocalStorage<TaskContext>();
const serial: TaskContext = { signal: new AbortController().signal, engine: -1 };

/** The context of the task running now (in-process: a signal that never aborts, engine -1). */
export const taskContext = (): TaskContext => storage.getStore() ?? serial;

/** Runs `fn` with `context` as its task context (engines do this around every task). */
export const withTaskContext = <T>(context: TaskContext, fn: () => T): T => storage.run(context, fn);
