/**
 * The engine side of dataflow (dataflow.ts): a task of the graph runs here
 * and its value stays here, in this process's store, until a task elsewhere
 * or the client asks for it. Values are keyed by the graph's id and the
 * node's number.
 */
import { task, taskContext, type TaskRef } from "./task.ts";

const store = new Map<string, unknown>();

/** An argument: a plain value, or a node's value, here already or brought along (`value`) from elsewhere. */
export type Input = { plain: unknown } | { ref: string; value?: unknown; brought?: boolean };

/** Thrown when a node's value is not (or no longer) on this engine. */
export class MissingValueError extends Error {
  override name = "MissingValueError";
}

export const dataflowRun = task(import.meta.url, async function dataflowRun(spec: { id: string; fn: TaskRef; args: Input[] }): Promise<{ engine: number }> {
  const args = spec.args.map((a) => {
    if ("plain" in a) return a.plain;
    if (a.brought) store.set(a.ref, a.value); // now held here too
    if (!store.has(a.ref)) throw new MissingValueError(`dataflow value ${a.ref} is not on engine ${taskContext().engine}`);
    return store.get(a.ref);
  });
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

/** Forgets the values of a graph (every id starting with `graph:`). */
export const dataflowDrop = task(import.meta.url, async function dataflowDrop(graph: string): Promise<number> {
  let n = 0;
  for (const id of store.keys()) if (id.startsWith(`${graph}:`)) store.delete(id), n++;
  return n;
});
