/** An engine process: `engine-main.ts --connection FILE` (the file waited for up to 10 s). */
import { awaitConnection } from "./connection.ts";
import { Engine } from "./engine.ts";
import { exitWithParent } from "./processes.ts";

const at = process.argv.indexOf("--connection");
const file = at > 0 ? process.argv[at + 1] : undefined;
if (!file) {
  console.error("usage: engine-main.ts --connection FILE");
  process.exit(2);
}
const engine = await Engine.start(await awaitConnection(file));
const stop = async () => {
  await engine.stop();
  process.exit(0);
};
exitWithParent(() => engine.stop());
void engine.finished.then(() => process.exit(0)); // the controller said stop
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
