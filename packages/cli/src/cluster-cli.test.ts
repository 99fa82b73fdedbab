/**
 * The cluster from the shell, as real processes: `meridian cluster start|status|stop`
 * in a temporary MERIDIAN_HOME, and `meridian controller` + `meridian engine` in
 * the foreground; the same task runs through them as it runs serially.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, runMeridian } from "./run.test-util.ts";
import { Client } from "@meridian/cluster";
import { square } from "../../cluster/src/fixtures/tasks.ts";

const home = mkdtempSync(join(tmpdir(), "meridian-home-"));
const env = { ...process.env, MERIDIAN_HOME: home };
const meridian = (...args: string[]) => runMeridian(args, { env });
afterAll(() => {
  meridian("cluster", "stop", "--profile", "t");
  rmSync(home, { recursive: true, force: true });
});

describe("meridian cluster", () => {
  it("start, status, a task from a client, stop", async () => {
    const started = meridian("cluster", "start", "--engines", "2", "--profile", "t");
    expect(started.stderr).toBe("");
    expect(started.status).toBe(0);
    expect(started.stdout).toMatch(/cluster started: controller pid \d+, 2 engines, at 127\.0\.0\.1\n/);
    const file = join(home, "profiles/t/connection.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(meridian("cluster", "start", "--profile", "t").stderr).toMatch(/already running/);

    const client = await Client.connect(file);
    try {
      expect(await client.loadBalanced().map(square, [1, 2, 3, 4])).toEqual(await Promise.all([1, 2, 3, 4].map((x) => square(x))));
    } finally {
      client.close();
    }
    const status = JSON.parse(meridian("cluster", "status", "--profile", "t", "--json").stdout);
    expect(status.engines).toHaveLength(2);
    expect(status.done).toBe(4);
    expect(meridian("cluster", "status", "--profile", "t").stdout).toMatch(/2 engines; queue 0; running 0; done 4; failed 0/);

    const stopped = meridian("cluster", "stop", "--profile", "t");
    expect(stopped.stdout).toMatch(/cluster stopped/);
    expect(existsSync(file)).toBe(false);
    for (const e of status.engines) expect(() => process.kill(e.pid, 0)).toThrow();
    const none = meridian("cluster", "status", "--profile", "t");
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/cannot read the connection file .*connection\.json: ENOENT; is a cluster running/);
  });

  it("a connection file that is not one is an error naming it", () => {
    const bad = join(home, "bad.json");
    writeFileSync(bad, "{ not json");
    // (--wait 0: an engine would otherwise try again for 10 s, as for a file still being written)
    const r = meridian("engine", "--connection", bad, "--wait", "0");
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`meridian: the connection file ${bad} is not JSON\n`);
    writeFileSync(bad, JSON.stringify({ ip: "127.0.0.1", clientPort: 1 }));
    expect(meridian("engine", "--connection", bad, "--wait", "0").stderr).toMatch(/the connection file .*bad\.json lacks "enginePort"/);
    for (const [flag, value] of [["--wait", "soon"], ["--timeout", "-1"]]) {
      const wrong = meridian("engine", "--connection", bad, flag, value);
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toBe(`meridian: ${flag} must be a number of seconds, got ${value}\n`);
    }
  });

  it("meridian controller and meridian engine in the foreground", async () => {
    const file = join(home, "fg.json");
    const ctl = spawn(process.execPath, [BIN, "controller", "--connection", file], { env, stdio: ["ignore", "pipe", "inherit"] });
    let eng: ReturnType<typeof spawn> | undefined;
    try {
      await new Promise<void>((resolve) => ctl.stdout.once("data", () => resolve()));
      eng = spawn(process.execPath, [BIN, "engine", "--connection", file], { env, stdio: ["ignore", "pipe", "inherit"] });
      const client = await Client.connect(file);
      try {
        await client.waitForEngines(1);
        expect(await client.loadBalanced().apply(square, 9)).toBe(81);
      } finally {
        client.close();
      }
      const exited = (p: ReturnType<typeof spawn>) => new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
      const engineExit = exited(eng);
      const controllerExit = exited(ctl);
      ctl.kill("SIGTERM"); // the controller tells its engines to stop
      expect(await controllerExit).toBe(0);
      expect(await engineExit).toBe(0);
    } finally {
      ctl.kill("SIGKILL");
      eng?.kill("SIGKILL");
    }
  });
});
