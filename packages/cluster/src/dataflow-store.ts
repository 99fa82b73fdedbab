/**
 * The engine side of dataflow (dataflow.ts): a task of the graph runs here
 * and its value stays here, in this process's store, until a task elsewhere
 * or the client asks for it. Values are keyed by the graph's id and the
 * node's number.
 */
import { task, taskContext, type TaskRef } from "./task.ts";

const store = new Map<string, unknown>();

/** Where a Ref was in a node's arguments: indices and keys from the argument list down. */
export type Path = (string | number)[];

/** A node to run: its arguments with holes where Refs were, and the inputs brought from elsewhere. */
export interface NodeSpec {
  id: string;
  fn: TaskRef;
  args: unknown[];
  holes: [Path, string][];
  brought: [string, unknown][];
}

/** Thrown when a node's value is not (or no longer) on this engine. */
export class MissingValueError extends Error {
  override name = "MissingValueError";
}

export const dataflowRun = task(import.meta.url, async function dataflowRun(spec: NodeSpec): Promise<{ engine: number }> {
  for (const [ref, value] of spec.brought) store.set(ref, value); // now held here too
  const args = spec.args;
  for (const [path, ref] of spec.holes) {
    if (!store.has(ref)) throw new MissingValueError(`dataflow value ${ref} is not on engine ${taskContext().engine}`);
    let at: any = args;
    for (const key of path.slice(0, -1)) at = at[key];
    at[path[path.length - 1]] = store.get(ref);
  }
  const module = await import(spec.fn.module);
  const fn = module[spec.fn.name];
  if (typeof fn !== "function") throw new TypeError(`${spec.fn.module} exports no function ${spec.fn.name}`);
  store.set(spec.id, await fn(...args));
  return { engine: taskContext().engine };
});

export const dataflowGet = task(import.meta.url, async function dataflowGet(id: string): Promise<unknown> {
  if (!store.has(id)) throw new MissingValueError(`dataflow value ${id} is not on engine ${taskContext().engine}`);
  return store.get(id);
});

/** Forgets values that no node will need any more. */
export const dataflowForget = task(import.meta.url, async function dataflowForget(ids: string[]): Promise<number> {
  let n = 0;
  for (const id of ids) if (store.delete(id)) n++;
  return n;
});

/** How many dataflow values this engine holds. */
export const dataflowHeld = task(import.meta.url, async function dataflowHeld(): Promise<number> {
  return store.size;
});

/** Forgets the values of a graph (every id starting with `graph:`). */
export const dataflowDrop = task(import.meta.url, async function dataflowDrop(graph: string): Promise<number> {
  let n = 0;
  for (const id of store.keys()) if (id.startsWith(`${graph}:`)) store.delete(id), n++;
  return n;
});
