// The worker's entry point: plain JavaScript, so it runs in any Node process;
// it registers tsx to load the TypeScript worker, as bin/meridian.js does.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
