// The worker's entry point: plain JavaScript, so it runs in any Node process;
// it registers tsx to load the TypeScript worker, as bin/meridian.js does.
import { register } from "tsx/esm/api";

// h5wasm is 4 MB of JavaScript: loaded natively first, it takes 0.1 s; through
// tsx's transform it would take over a second.
await import("h5wasm/node");
register();
await import("./worker.ts");
