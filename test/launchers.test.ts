/**
 * The launchers against fake batch systems: sbatch/srun/scancel, PBS and SGE
 * qsub/qdel, bsub/bkill, mpiexec and ssh as scripts placed first on PATH,
 * which record their arguments and run the job (or command) here. Each
 * launcher starts a real cluster through `meridian cluster start`, its
 * engines register and compute, and `meridian cluster stop` cancels the job.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Client } from "@meridian/cluster";
import { BIN } from "../packages/cli/src/run.test-util.ts";

const root = mkdtempSync(join(tmpdir(), "meridian-launchers-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Fake commands for one test: each logs "name args" to calls.log; jobs run in their own process group. */
function fakes(dir: string, jobLine: string) {
  mkdirSync(dir, { recursive: true });
  const log = join(dir, "calls.log");
  const script = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/bash\necho "${name} $*" >> ${log}\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  // a job: the script (a file, or stdin for bsub) run in the background in its own session
  const start = (file: string) => `export SLURM_NTASKS=$(grep -oE -- '--ntasks=[0-9]+' ${file} | cut -d= -f2)\nsetsid bash ${file} > ${dir}/job.out 2>&1 < /dev/null &\necho $! > ${dir}/job.pid`;
  const cancel = `kill -TERM -- -$(cat ${dir}/job.pid) 2>/dev/null; exit 0`;
  script("sbatch", `${start('"$1"')}\necho "Submitted batch job 4242"`);
  script("srun", `for i in $(seq "$SLURM_NTASKS"); do "$@" & done; wait`);
  script("scancel", cancel);
  script("qsub", `${start('"$1"')}\necho "${jobLine}"`);
  script("qdel", cancel);
  script("bsub", `cat > ${dir}/job.sh\n${start(`${dir}/job.sh`)}\necho "Job <4245> is submitted to queue <normal>."`);
  script("bkill", cancel);
  script("mpiexec", `n=$2; shift 2; for i in $(seq "$n"); do "$@" & done; wait`);
  script("ssh", `shift 2; host=$1; shift; exec bash -c "$*"`);
  return { log, calls: () => (existsSync(log) ? readFileSync(log, "utf8") : "") };
}

const meridian = (args: string[], env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8", timeout: 90_000 });

async function engines(connection: string, n: number): Promise<Client> {
  const client = await Client.connect(connection);
  await client.waitForEngines(n, 60);
  return client;
}

const cases: [launcher: string, extra: string[], jobLine: string, submit: RegExp, cancel?: RegExp][] = [
  ["slurm", [], "", /^sbatch .*engines\.slurm\.sh$/m, /^scancel 4242$/m],
  ["pbs", [], "4243.fakepbs", /^qsub .*engines\.pbs\.sh$/m, /^qdel 4243\.fakepbs$/m],
  ["sge", [], 'Your job 4244 ("meridian-engines") has been submitted', /^qsub .*engines\.sge\.sh$/m, /^qdel 4244$/m],
  ["lsf", [], "", /^bsub $/m, /^bkill 4245$/m],
  ["mpiexec", [], "", /^mpiexec -n 2 .*engine-main\.ts --connection /m],
  // the two ssh sessions start together, so their lines may come in either order
  ["ssh", ["--hosts", "node1,node2"], "", /^(?=[\s\S]*^ssh -o BatchMode=yes node1 )(?=[\s\S]*^ssh -o BatchMode=yes node2 )/m],
];

describe("cluster launchers", () => {
  for (const [launcher, extra, jobLine, submit, cancel] of cases) {
    it(`${launcher}: the engines register and compute; stop ends them${cancel ? " and cancels the job" : ""}`, async () => {
      const dir = join(root, launcher), fake = fakes(join(dir, "bin"), jobLine);
      const env = { ...process.env, MERIDIAN_HOME: join(dir, "home"), PATH: `${join(dir, "bin")}:${process.env.PATH}` };
      const profile = join(dir, "home/profiles/default");
      let pids: number[] = [];
      // The engines run here. mpiexec: listening on every interface (the default with a launcher), handed out as
      // 127.0.0.1; the others: on loopback, which the launcher warns engines elsewhere cannot reach.
      const where = launcher === "mpiexec" ? ["--location", "127.0.0.1"] : ["--ip", "127.0.0.1"];
      const started = meridian(["cluster", "start", "--engines", "2", "--launcher", launcher, ...where, ...extra], env);
      expect(started.stderr).toBe(launcher === "mpiexec" ? "" : "meridian: warning: the controller is at 127.0.0.1, which engines on other hosts cannot reach: give --ip (an address, an interface or *)\n");
      if (launcher === "mpiexec") expect(JSON.parse(readFileSync(join(profile, "connection.json"), "utf8"))).toMatchObject({ bind: "0.0.0.0", ip: "127.0.0.1", curve: expect.any(String) });
      expect(started.status).toBe(0);
      expect(started.stdout).toMatch(/^cluster started: controller pid \d+, 2 engines/);
      try {
        expect(fake.calls()).toMatch(submit);
        if (["slurm", "pbs", "sge", "lsf"].includes(launcher)) {
          const script = readFileSync(join(profile, `engines.${launcher}.sh`), "utf8");
          expect(script).toMatch({ slurm: /#SBATCH --ntasks=2\n[\s\S]*\nsrun .*engine-main\.ts --connection /, pbs: /#PBS -l select=2/, sge: /#\$ -pe smp 2/, lsf: /#BSUB -n 2/ }[launcher]!);
          expect(JSON.parse(readFileSync(join(profile, "launcher.json"), "utf8"))).toMatchObject({ launcher, jobId: expect.any(String) });
        }
        const client = await engines(join(profile, "connection.json"), 2);
        try {
          expect(await client.loadBalanced().map((x: number) => x * x, [1, 2, 3, 4])).toEqual([1, 4, 9, 16]);
          pids = (await client.status()).engines.map((e) => e.pid);
        } finally {
          client.close();
        }
      } finally {
        const stopped = meridian(["cluster", "stop"], env);
        expect(stopped.status).toBe(0);
      }
      if (cancel) expect(fake.calls()).toMatch(cancel);
      // the engines are gone
      expect(pids.length).toBe(2);
      const alive = () => pids.filter((pid) => spawnSync("kill", ["-0", String(pid)]).status === 0);
      for (let t = 0; t < 50 && alive().length; t++) await new Promise((r) => setTimeout(r, 100));
      expect(alive()).toEqual([]);
    }, 120_000);
  }

  it("a template of the user's, and errors that name what is wrong", () => {
    const dir = join(root, "template"), fake = fakes(join(dir, "bin"), "");
    const env = { ...process.env, MERIDIAN_HOME: join(dir, "home"), PATH: `${join(dir, "bin")}:${process.env.PATH}` };
    writeFileSync(join(dir, "my.sh"), "#!/bin/bash\n#SBATCH --ntasks={engines}\n#SBATCH --partition=short\nsrun {engine_command} --nonsense {walltime}\n");
    const bad = meridian(["cluster", "start", "--engines", "2", "--launcher", "slurm", "--template", join(dir, "my.sh")], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/my\.sh: unknown placeholder \{walltime\} \(known: \{engines\}, \{engine_command\}, \{connection\}, \{dir\}, \{job_name\}\)/);
    expect(fake.calls()).toBe(""); // nothing submitted
    const unknown = meridian(["cluster", "start", "--launcher", "condor"], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/unknown launcher "condor": use one of local, ssh, mpiexec, slurm, pbs, sge, lsf/);
    const noHosts = meridian(["cluster", "start", "--launcher", "ssh"], env);
    expect(noHosts.status).toBe(1);
    expect(noHosts.stderr).toMatch(/the ssh launcher needs --hosts/);
    const env2 = { ...env, PATH: "/usr/bin:/bin" }; // no sbatch anywhere
    const missing = meridian(["cluster", "start", "--launcher", "slurm"], env2);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/sbatch: not found on PATH/);
  }, 120_000);
});
