/** The `meridian` command run as a user runs it, for the CLI tests. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../bin/meridian.js", import.meta.url));

/** Runs `meridian ...args` to its end; an error if it does not end by itself within `timeout` ms. */
export function runMeridian(args: string[], { env, timeout = 60_000 }: { env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env, timeout, maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`meridian ${args.join(" ")}: ${r.error.message} (it must end by itself)`);
  return r;
}
