/**
 * Where the engines of a cluster run, as ipcluster's launchers: `local`
 * (supervised children, cluster-main.ts), `ssh` (one ssh session per engine
 * over the listed hosts), `mpiexec` (one `mpiexec -n N`), or a batch job
 * (`slurm`, `pbs`, `sge`, `lsf`): a job script written from a template
 * (the default below, or the user's), submitted with the system's command,
 * its job id kept in the profile (launcher.json) and cancelled on stop.
 * Every engine runs `engineCommand`, which joins through the connection
 * file, so the file must be readable where the engines run (a shared home).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ClusterError } from "./errors.ts";

export const LAUNCHERS = ["local", "ssh", "mpiexec", "slurm", "pbs", "sge", "lsf"] as const;
export type LauncherName = (typeof LAUNCHERS)[number];

export interface LaunchSpec {
  engines: number;
  /** The connection file the engines read. */
  connection: string;
  /** Where the job script, its log and launcher.json go (the profile's folder). */
  dir: string;
  /** A job script template of the user's, instead of the default. */
  template?: string;
  /** ssh: the hosts, used in turn. */
  hosts?: string[];
}

export interface Launched {
  /** What was started, for the log ("slurm job 1234"). */
  description: string;
  /** Whether the engines are expected soon (false for a batch job, which may wait in a queue). */
  immediate: boolean;
  stop(): Promise<void>;
}

/** The command line of one engine: this Node, tsx, engine-main.ts and the connection file. */
export function engineCommand(connection: string): string[] {
  return [process.execPath, "--import", import.meta.resolve("tsx"), fileURLToPath(new URL("./engine-main.ts", import.meta.url)), "--connection", connection];
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

interface BatchSystem {
  submit: (script: string) => [string, string[], string?]; // command, arguments, stdin
  jobId: RegExp;
  cancel: string;
  template: string;
}

/** Each engine is one task of the job: started by srun (Slurm) or mpiexec (the others). */
const BATCH: Record<"slurm" | "pbs" | "sge" | "lsf", BatchSystem> = {
  slurm: {
    submit: (script) => ["sbatch", [script]],
    jobId: /Submitted batch job (\d+)/,
    cancel: "scancel",
    template: `#!/bin/bash
#SBATCH --job-name={job_name}
#SBATCH --ntasks={engines}
#SBATCH --output={dir}/engines-%j.log
srun {engine_command}
`,
  },
  pbs: {
    submit: (script) => ["qsub", [script]],
    jobId: /^(\S+)/,
    cancel: "qdel",
    template: `#!/bin/bash
#PBS -N {job_name}
#PBS -l select={engines}:ncpus=1
#PBS -j oe
#PBS -o {dir}/engines.log
mpiexec -n {engines} {engine_command}
`,
  },
  sge: {
    submit: (script) => ["qsub", [script]],
    jobId: /Your job (\d+)/,
    cancel: "qdel",
    template: `#!/bin/bash
#$ -N {job_name}
#$ -pe smp {engines}
#$ -j y
#$ -o {dir}/engines.log
mpiexec -n {engines} {engine_command}
`,
  },
  lsf: {
    submit: (script) => ["bsub", [], readFileSync(script, "utf8")],
    jobId: /Job <(\d+)>/,
    cancel: "bkill",
    template: `#!/bin/bash
#BSUB -J {job_name}
#BSUB -n {engines}
#BSUB -o {dir}/engines.log
mpiexec -n {engines} {engine_command}
`,
  },
};

/** A template with its {placeholders} filled; an unknown one is an error naming it. */
export function fillTemplate(template: string, values: Record<string, string | number>, where: string): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new ClusterError(`${where}: unknown placeholder {${name}} (known: ${Object.keys(values).map((k) => `{${k}}`).join(", ")})`);
    return String(values[name]);
  });
}

/** Runs a scheduler command to its end; its output, or an error naming the command and what it printed. */
function run(command: string, args: string[], input?: string): string {
  const r = spawnSync(command, args, { encoding: "utf8", input, timeout: 60_000 });
  if (r.error) throw new ClusterError(`${command}: ${(r.error as NodeJS.ErrnoException).code === "ENOENT" ? "not found on PATH" : r.error.message}`);
  if (r.status !== 0) throw new ClusterError(`${command} ${args.join(" ")} failed (status ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Starts the engines with a launcher other than `local` (which cluster-main.ts does itself). */
export function launch(name: Exclude<LauncherName, "local">, spec: LaunchSpec): Launched {
  const command = engineCommand(spec.connection).map(quote).join(" ");
  if (name === "mpiexec" || name === "ssh") {
    const children: ChildProcess[] = [];
    if (name === "mpiexec") children.push(spawn("mpiexec", ["-n", String(spec.engines), ...engineCommand(spec.connection)], { stdio: "inherit" }));
    else {
      if (!spec.hosts?.length) throw new ClusterError("the ssh launcher needs --hosts a,b,…");
      for (let k = 0; k < spec.engines; k++) children.push(spawn("ssh", ["-o", "BatchMode=yes", spec.hosts[k % spec.hosts.length], command], { stdio: "inherit" }));
    }
    for (const c of children) c.on("error", (e) => console.error(`${name}: ${e.message}`));
    return {
      description: name === "mpiexec" ? `mpiexec -n ${spec.engines}` : `${spec.engines} ssh sessions to ${spec.hosts!.join(", ")}`,
      immediate: true,
      stop: async () => {
        await Promise.all(children.map((c) => c.exitCode === null && c.signalCode === null
          ? new Promise<void>((resolve) => {
              const timer = setTimeout(() => c.kill("SIGKILL"), 5000);
              c.once("exit", () => (clearTimeout(timer), resolve()));
              c.kill("SIGTERM");
            })
          : undefined));
      },
    };
  }
  const system = BATCH[name];
  const templateFile = spec.template;
  const template = templateFile ? readFileSync(templateFile, "utf8") : system.template;
  const script = join(spec.dir, `engines.${name}.sh`);
  writeFileSync(script, fillTemplate(template, { engines: spec.engines, engine_command: command, connection: spec.connection, dir: spec.dir, job_name: "meridian-engines" }, templateFile ?? `the default ${name} template`), { mode: 0o700 });
  const [cmd, args, input] = system.submit(script);
  const out = run(cmd, args, input);
  const jobId = system.jobId.exec(out.trim())?.[1];
  if (!jobId) throw new ClusterError(`${cmd} gave no job id (expected ${system.jobId}): ${out.trim()}`);
  writeFileSync(join(spec.dir, "launcher.json"), JSON.stringify({ launcher: name, jobId, script, submitted: new Date().toISOString() }, null, 1) + "\n");
  return {
    description: `${name} job ${jobId} (${script})`,
    immediate: false,
    stop: async () => void run(system.cancel, [jobId]),
  };
}
