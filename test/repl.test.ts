/**
 * `meridian repl` driven as a user drives it: through a pseudo-terminal
 * (util-linux's `script`), a real local cluster, keys typed in turn.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { reduce } from "@meridian/reduce";

const BIN = fileURLToPath(new URL("../packages/cli/bin/meridian.js", import.meta.url));
const DATASETS = fileURLToPath(new URL("../datasets/", import.meta.url));
const home = mkdtempSync(join(tmpdir(), "meridian-repl-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A REPL in a pseudo-terminal: what it printed so far (escape codes removed), keys to type, a wait for text. */
class Session {
  private raw = "";
  readonly child: ChildProcessWithoutNullStreams;
  constructor(args: string[]) {
    this.child = spawn("script", ["-q", "-e", "-c", [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" "), "/dev/null"], {
      env: { ...process.env, MERIDIAN_HOME: home, TERM: "xterm", NO_COLOR: "1" },
    });
    this.child.stdout.on("data", (d) => (this.raw += d));
  }
  get text() {
    return this.raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
  }
  type(keys: string) {
    this.child.stdin.write(keys);
  }
  async waitFor(test: RegExp | ((text: string) => boolean), ms = 60_000): Promise<string> {
    const ok = typeof test === "function" ? test : (t: string) => test.test(t);
    for (const t0 = Date.now(); Date.now() - t0 < ms; await new Promise((r) => setTimeout(r, 50))) if (ok(this.text)) return this.text;
    throw new Error(`waited ${ms} ms for ${test}; the session printed:\n${this.text}`);
  }
  /** Types a line and waits for its output to end at a fresh prompt. */
  async run(line: string, ms?: number): Promise<string> {
    const from = this.text.length;
    this.type(`${line}\r`);
    const output = (t: string) => {
      const at = t.indexOf(line, from);
      return at < 0 ? undefined : t.slice(at + line.length);
    };
    const text = await this.waitFor((t) => /\nmeridian> $/.test(output(t) ?? ""), ms);
    return output(text)!.replace(/\nmeridian> $/, "");
  }
}

describe("meridian repl", () => {
  it("starts a cluster, runs .px, .engines, .status, a reduction, a chain of Refs and PMF; Ctrl-C stops a long call; history is kept", async () => {
    const s = new Session(["repl", "--engines", "2"]);
    try {
      await s.waitFor(/meridian REPL: 2 engines \(0, 1\)[\s\S]*meridian> $/);
      // code on every engine, with what each printed
      const px = await s.run(".px console.log('hello', 1 + 1); 6 * 7");
      expect(px).toMatch(/\[engine 0\]\nhello 2\n42\n\[engine 1\]\nhello 2\n42/);
      expect(await s.run(".engines")).toMatch(/engine 0 .* pid \d+ .*\nengine 1 .* pid \d+/);
      expect(await s.run(".status")).toMatch(/controller pid \d+ on .*\n2 engines, 0 queued, 0 running/);
      // a reduction on the cluster, with top-level await: the serial numbers
      const files = ["tas_Amon_GEN-A_historical_r1i1p1_185001-185912.nc", "tas_Amon_GEN-A_historical_r1i1p1_186001-186912.nc"].map((f) => join(DATASETS, "netcdf/reduce/noleap", f));
      const serial = await reduce("yearmonmean,fldmean", files, { variable: "tas" });
      const out = await s.run(`const r = await reduce("yearmonmean,fldmean", ${JSON.stringify(files)}, { variable: "tas" }); Array.from(r.field.data).map((v) => v.toFixed(6)).join(" ")`);
      expect(out).toContain(Array.from(serial.field.data, (v) => v.toFixed(6)).join(" "));
      // a chain of Refs: the calibration of one image, as a graph on the cluster
      const image = join(DATASETS, "fits/astropy/test0.fits");
      const chain = await s.run(`const t = await import(${JSON.stringify(new URL("./calibration-tasks.ts", import.meta.url).href)}); ` +
        `const raw = (await open(${JSON.stringify(image)})).variable("SCI_1").ref(); ` +
        `const [bias, flat, cal] = [functional(t.measureBias), functional(t.measureFlat), functional(t.calibrate)]; ` +
        `const c = await schedule(async () => cal(raw, bias(raw), flat(raw))); JSON.stringify([c.bias, c.mean])`);
      const { open } = await import("@meridian/io");
      const raw = (await open(image)).variable("SCI_1").ref();
      const tasks = await import("./calibration-tasks.ts");
      const expected = await tasks.calibrate(raw, await tasks.measureBias(raw), await tasks.measureFlat(raw));
      expect(chain).toContain(`'${JSON.stringify([expected.bias, expected.mean])}'`);
      // a long call: Ctrl-C stops it, the prompt comes back, and the engines are freed
      s.type("const bs = await pmf.bootstrap(...(() => { const p = pmf.prepare(pmf.parseTable(require('fs').readFileSync(" +
        JSON.stringify(join(DATASETS, "pmf/esat/data/Dataset-StLouis-con.csv")) + ", 'utf8')), { unc: pmf.parseTable(require('fs').readFileSync(" +
        JSON.stringify(join(DATASETS, "pmf/esat/data/Dataset-StLouis-unc.csv")) + ", 'utf8')) }); globalThis.p = p; return [p.x, p.u, p.samples.length, p.species.length]; })(), " +
        "pmf.solve(p.x, p.u, p.samples.length, p.species.length, { factors: 3 }), { replicates: 100000 })\r");
      await s.waitFor(/bootstrap: \[[#.]+\] \d+\/100000/);
      s.type("\x03");
      await s.waitFor(/Script execution was interrupted[\s\S]*\nmeridian> $/, 20_000);
      let status = "";
      for (let tries = 0; tries < 50 && !/0 queued, 0 running/.test(status); tries++) (status = await s.run(".status")), await new Promise((r) => setTimeout(r, 100));
      expect(status).toMatch(/0 queued, 0 running/);
      // the session goes on
      expect(await s.run("1 + 1")).toMatch(/^\n2$/);
      s.type(".exit\r");
      const code = await new Promise((resolve) => s.child.on("exit", resolve));
      expect(code).toBe(0);
      expect(readFileSync(join(home, "repl_history"), "utf8")).toContain(".px console.log('hello', 1 + 1); 6 * 7");
    } finally {
      s.child.kill();
    }
  }, 120_000);
});

describe("meridian repl --connection", () => {
  it("joins a running cluster, and leaves it running when it exits", async () => {
    const env = { ...process.env, MERIDIAN_HOME: home };
    const start = spawnSync(process.execPath, [BIN, "cluster", "start", "--engines", "1", "--profile", "repl-join"], { env, encoding: "utf8", timeout: 60_000 });
    expect(start.status).toBe(0);
    const connection = join(home, "profiles", "repl-join", "connection.json");
    try {
      const s = new Session(["repl", "--connection", connection]);
      try {
        await s.waitFor(/meridian REPL: 1 engines \(0\)[\s\S]*meridian> $/);
        expect(s.text).not.toMatch(/starting a local cluster/);
        expect(await s.run(".engines")).toMatch(/^\nengine 0 .* pid \d+/);
        expect(await s.run("await lb.apply((a) => a * 2, 21)")).toMatch(/^\n42$/);
        s.type(".exit\r");
        expect(await new Promise((resolve) => s.child.on("exit", resolve))).toBe(0);
      } finally {
        s.child.kill();
      }
      const status = spawnSync(process.execPath, [BIN, "cluster", "status", "--profile", "repl-join"], { env, encoding: "utf8", timeout: 30_000 });
      expect(status.stdout).toMatch(/1 engines; queue 0; running 0; done 1/);
    } finally {
      spawnSync(process.execPath, [BIN, "cluster", "stop", "--profile", "repl-join"], { env, timeout: 30_000 });
    }
  }, 120_000);
});
