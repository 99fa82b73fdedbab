/**
 * Laptop, login node and batch nodes, simulated with two network namespaces
 * made by the test: "login" and "compute", joined by a veth pair; this
 * namespace (the laptop) has no route to either. On the login node,
 * `meridian cluster start --launcher slurm` listens on every interface and
 * hands out its external address (CurveZMQ, as off loopback), and submits
 * the engines' job to a fake sbatch, which runs it on the compute node. The laptop reaches
 * the controller only through `--ssh` (a fake ssh that carries connections
 * into the login namespace, as ssh's port forwarding): the connection file is
 * read over it, the client port tunnelled, and a reduction runs on the
 * compute node's engines with the answer computed here. Stop cancels the job.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, ClusterError, type ConnectionInfo } from "@meridian/cluster";
import { accepts } from "../packages/cluster/src/ports.ts";
import { BIN } from "../packages/cli/src/run.test-util.ts";
import { link, type Link } from "./netns-util.ts";

const made = link(`meridian-login-${process.pid}`, `meridian-compute-${process.pid}`);
const skipped = typeof made === "string" ? made : undefined;
if (skipped) console.warn(`login-node tests skipped: ${skipped}`);
const net = made as Link;

const DATA = fileURLToPath(new URL("../datasets/", import.meta.url));
const series = ["185001-185912", "186001-186912"].map((t) => `${DATA}netcdf/reduce/noleap/tas_Amon_GEN-A_historical_r1i1p1_${t}.nc`);

describe.skipIf(skipped !== undefined)("laptop → login node → batch nodes", () => {
  const root = mkdtempSync(join(tmpdir(), "meridian-login-"));
  const bin = join(root, "bin"), loginHome = join(root, "login-home"), laptopHome = join(root, "laptop-home");
  const sshLog = join(root, "ssh.log"), batchLog = join(root, "batch.log");
  const [login, compute] = net.namespaces ?? [];
  // the login node's user: HOME there, no MERIDIAN_HOME (so ~/.meridian, where the laptop's ssh looks)
  const { MERIDIAN_HOME: _, ...base } = process.env;
  const path = `${bin}:${process.env.PATH}`;
  const loginEnv = { ...base, HOME: loginHome, PATH: path };
  const laptopEnv = { ...base, MERIDIAN_HOME: laptopHome, PATH: path, FAKE_SSH_LOG: sshLog, FAKE_SSH_NETNS: login, FAKE_SSH_HOME: loginHome };
  const onLogin = (...args: string[]) => spawnSync("ip", ["netns", "exec", login, process.execPath, BIN, ...args], { env: loginEnv, encoding: "utf8", timeout: 90_000 });
  const onLaptop = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env: laptopEnv, encoding: "utf8", timeout: 120_000 });
  const connection = join(loginHome, ".meridian/profiles/default/connection.json");
  let started: SpawnSyncReturns<string>;

  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    const script = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    // Slurm on the login node: the job runs on the compute node, srun starts its tasks there
    script("sbatch", `echo "sbatch $*" >> ${batchLog}\nexport SLURM_NTASKS=$(grep -oE -- '--ntasks=[0-9]+' "$1" | cut -d= -f2)\nip netns exec ${compute} setsid bash "$1" > ${root}/job.out 2>&1 < /dev/null &\necho $! > ${root}/job.pid\necho "Submitted batch job 777"`);
    script("srun", `for i in $(seq "$SLURM_NTASKS"); do "$@" & done; wait`);
    script("scancel", `echo "scancel $*" >> ${batchLog}\nkill -TERM -- -$(cat ${root}/job.pid) 2>/dev/null; exit 0`);
    script("ssh", `exec ${process.execPath} ${fileURLToPath(new URL("./fixtures/fake-ssh.mjs", import.meta.url))} "$@"`);
    // no --ip: for engines elsewhere, every interface, handed out as the login node's external address (its one link)
    started = onLogin("cluster", "start", "--launcher", "slurm", "--engines", "2");
    Object.assign(process.env, { PATH: path, FAKE_SSH_LOG: sshLog, FAKE_SSH_NETNS: login, FAKE_SSH_HOME: loginHome }); // for Client.connect here
  });
  afterAll(() => {
    process.env.PATH = base.PATH;
    onLogin("cluster", "stop");
    net.remove(); // (and whatever is left in the namespaces)
    rmSync(root, { recursive: true, force: true });
  });

  it("the controller listens where compute nodes reach it, encrypted, and submits the engines' job", () => {
    expect(started.stderr).toBe("");
    expect(started.stdout).toMatch(new RegExp(`^cluster started: controller pid \\d+, 2 engines through slurm .*, at ${net.ip[0].replace(/\./g, "\\.")} \\(CurveZMQ\\)`));
    const info: ConnectionInfo = JSON.parse(readFileSync(connection, "utf8"));
    expect(info).toMatchObject({ ip: net.ip[0], bind: "0.0.0.0", curve: expect.stringMatching(/^.{40}$/), heartbeat: 3 });
    expect(statSync(connection).mode & 0o777).toBe(0o600);
    expect(readFileSync(batchLog, "utf8")).toMatch(/^sbatch .*engines\.slurm\.sh$/m);
  });

  it("the laptop cannot reach the controller without the tunnel", async () => {
    const info: ConnectionInfo = JSON.parse(readFileSync(connection, "utf8"));
    await expect(Client.connect(info, { timeout: 2 })).rejects.toThrow(ClusterError);
  });

  it("through --ssh: the connection file read on the login node, the client port tunnelled, the engines on the compute node", async () => {
    const client = await Client.connect(undefined, { ssh: "me@login" });
    let tunnelPort: number;
    try {
      await client.waitForEngines(2, 60);
      expect(await client.loadBalanced().map((x: number) => x * 3, [1, 2, 3, 4])).toEqual([3, 6, 9, 12]);
      const info: ConnectionInfo = JSON.parse(readFileSync(connection, "utf8"));
      const log = readFileSync(sshLog, "utf8");
      expect(log).toMatch(/^ssh -o BatchMode=yes -o ExitOnForwardFailure=yes -o ServerAliveInterval=15 me@login cat '\.meridian\/profiles\/default\/connection\.json'$/m);
      const tunnel = new RegExp(`^ssh -N -o BatchMode=yes -o ExitOnForwardFailure=yes -o ServerAliveInterval=15 -L 127\\.0\\.0\\.1:(\\d+):${info.ip.replace(/\./g, "\\.")}:${info.clientPort} me@login$`, "m").exec(log);
      expect(tunnel).not.toBeNull();
      tunnelPort = Number(tunnel![1]);
    } finally {
      client.close();
    }
    // the tunnel ends with the client
    for (let t = 0; t < 50 && (await accepts(tunnelPort)); t++) await new Promise((r) => setTimeout(r, 100));
    expect(await accepts(tunnelPort)).toBe(false);
  }, 90_000);

  it("the CLI from the laptop: status, and a reduction on the batch nodes with the answer computed here", () => {
    const status = () => {
      const r = onLaptop("cluster", "status", "--ssh", "me@login", "--json");
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const before = status();
    expect(before.engines).toHaveLength(2);
    const here = onLaptop("reduce", "yearmonmean,fldmean", ...series, "--var", "tas");
    const there = onLaptop("reduce", "yearmonmean,fldmean", ...series, "--var", "tas", "--ssh", "me@login");
    expect(there.status, there.stderr).toBe(0);
    expect(there.stdout.split("\n").length).toBeGreaterThan(20);
    expect(there.stdout).toBe(here.stdout);
    expect(status().done).toBeGreaterThan(before.done); // (it ran there)
  }, 120_000);

  it("stop on the login node cancels the job, and its engines end", async () => {
    const client = await Client.connect(undefined, { ssh: "me@login" });
    const pids = (await client.status()).engines.map((e) => e.pid);
    client.close();
    expect(pids).toHaveLength(2);
    const stopped = onLogin("cluster", "stop");
    expect(stopped.status, stopped.stderr).toBe(0);
    expect(readFileSync(batchLog, "utf8")).toMatch(/^scancel 777$/m);
    const alive = () => pids.filter((pid) => spawnSync("kill", ["-0", String(pid)]).status === 0);
    for (let t = 0; t < 50 && alive().length; t++) await new Promise((r) => setTimeout(r, 100));
    expect(alive()).toEqual([]);
  }, 60_000);
});
