/** The worker thread that runs h5wasm (see library.ts): requests in, results or problems out. */
import { parentPort } from "node:worker_threads";
import type { Hyperslab } from "../../selection.ts";
import type { VariableInfo } from "../../backend.ts";
import { attachFile, closeFile, datasetOf, openFile, Problem, readValues, type Attached } from "./library.ts";

export type Request =
  | { id: number; op: "open"; path: string }
  | { id: number; op: "attach"; path: string }
  | { id: number; op: "read"; file: number; variable: Pick<VariableInfo, "name" | "dtype">; slab: Hyperslab }
  | { id: number; op: "close"; file: number };

const files = new Map<number, Attached>();
let nextFile = 1;

parentPort!.on("message", async (req: Request) => {
  try {
    if (req.op === "open") {
      const f = await openFile(req.path);
      const id = nextFile++;
      files.set(id, f);
      const { format, variant, dims, unlimited, attributes, variables, unsupported } = f;
      parentPort!.postMessage({ id: req.id, ok: { file: id, format, variant, dims, unlimited, attributes, variables, unsupported } });
    } else if (req.op === "attach") {
      const id = nextFile++;
      files.set(id, await attachFile(req.path));
      parentPort!.postMessage({ id: req.id, ok: id });
    } else if (req.op === "read") {
      const f = files.get(req.file)!;
      const values = readValues(datasetOf(f, req.variable.name), req.variable, req.slab);
      parentPort!.postMessage({ id: req.id, ok: values }, ArrayBuffer.isView(values) ? [values.buffer as ArrayBuffer] : []);
    } else {
      const f = files.get(req.file);
      if (f) closeFile(f);
      files.delete(req.file);
      parentPort!.postMessage({ id: req.id, ok: true });
    }
  } catch (e) {
    const problem = e instanceof Problem ? { kind: e.kind, detail: e.detail, offset: e.offset } : { kind: "FormatError", detail: `HDF5 library failed: ${(e as Error)?.message ?? e}` };
    parentPort!.postMessage({ id: req.id, problem });
  }
});
