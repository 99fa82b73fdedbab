/**
 * `meridian reduce OPS FILES... --var tas`: a chain of CDO-style operators over
 * the files of one series (or of several members, for ens* operators), in
 * this process, on a local cluster started for it (--engines N) or on a
 * running one (--connection FILE).
 */
import { basename } from "node:path";
import { Client, Cluster, type LoadBalancedView } from "@meridian/cluster";
import { writeFile } from "node:fs/promises";
import { archiveCSV, cdoCommand, parseChain, reduce, reduceArchive, ReduceError, type ArchiveResult, type Field } from "@meridian/reduce";
import { load, parseWhere } from "./drs.ts";
import { isoDate, writeResult } from "@meridian/reduce/output";
import { interruptible } from "../progress.ts";

export interface ReduceFlags {
  var: string;
  out?: string;
  engines?: string;
  connection?: string;
  ssh?: string;
  area?: string;
  cdoCompat?: boolean;
  minValid?: string;
  catalog?: string;
  where?: string;
  by?: string;
  ensemble?: string;
}

/** An ensemble member's token in a CMIP filename (r1i1p1, r1i1p1f2, s1960-r1i1p1f1). */
const MEMBER = /_((?:s\d{4}-)?r\d+i\d+p\d+(?:f\d+)?)[_.]/;

/** Files grouped by member (in order of first appearance); without member tokens, each file is a member. */
export function membersOf(files: string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const f of files) {
    const key = MEMBER.exec(basename(f))?.[1] ?? f;
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  }
  return [...groups.values()];
}

/** Runs `work` with a load-balanced view (a new local cluster, a running one) or none (in this process). */
export async function withView<T>(flags: { engines?: string; connection?: string; ssh?: string }, work: (view?: LoadBalancedView) => Promise<T>): Promise<T> {
  if (flags.connection || flags.ssh) {
    const client = await Client.connect(flags.connection, { ssh: flags.ssh });
    try {
      return await work(client.loadBalanced());
    } finally {
      client.close();
    }
  }
  const engines = Number(flags.engines ?? 0);
  if (!engines) return work();
  const cluster = await Cluster.start({ engines });
  const client = await cluster.connect();
  try {
    await client.waitForEngines(engines);
    return await work(client.loadBalanced());
  } finally {
    client.close();
    await cluster.stop();
  }
}

/** "tas (time=20, lat=1, lon=1)" */
const shapeOf = (f: Field) => `${f.variable} (time=${f.time.length}${f.dims.map((d, i) => `, ${d}=${f.shape[i]}`).join("")})`;

/** A result on stdout: one line per step for a scalar series, else its shape and a few values. */
export function printField(f: Field) {
  const cells = f.data.length / Math.max(1, f.time.length);
  console.log(`${shapeOf(f)} ${f.attrs.units ?? ""}; cell_methods: ${f.cellMethods.join(" ")}`);
  for (const n of f.notes) console.log(`  ${n}`);
  for (let t = 0; t < f.time.length; t++) {
    const values = Array.from(f.data.subarray(t * cells, t * cells + Math.min(cells, 6)), (v) => (v === v ? v.toPrecision(8) : "_"));
    console.log(`${isoDate(f.axis.dateOf(f.time[t]))}  ${values.join(" ")}${cells > 6 ? ` … (${cells} values)` : ""}`);
  }
}

/** The options both forms of the command share. */
const common = (flags: ReduceFlags) => ({ variable: flags.var, area: flags.area, cdoCompat: flags.cdoCompat, minValid: flags.minValid ? Number(flags.minValid) : undefined });

export async function reduceCommand(ops: string, files: string[], flags: ReduceFlags): Promise<void> {
  if (flags.catalog) return reduceCatalog(ops, flags);
  if (!files.length) throw new ReduceError("give the files to reduce, or --catalog ROOT --where …");
  const chain = parseChain(ops);
  const inputs = chain[0].kind === "ensemble" ? membersOf(files) : [files];
  const command = `meridian reduce ${ops} ${files.join(" ")} --var ${flags.var} (as cdo ${cdoCommand(chain)})`;
  const output = flags.out ? { path: flags.out, provenance: { command, files } } : undefined;
  const result = await interruptible(ops, (signal, onProgress) => withView(flags, (view) => reduce(chain, inputs, { ...common(flags), view, output, signal, onProgress })));
  if (!flags.out) return printField(result.field);
  console.log(`wrote ${flags.out}: ${shapeOf(result.field)} from ${files.length} file(s) in ${result.pieces} piece(s)`);
}

/** `--catalog ROOT --where … --by model --ensemble mean,std,p10,p90`: every dataset, then statistics across groups. */
async function reduceCatalog(ops: string, flags: ReduceFlags): Promise<void> {
  const chain = parseChain(ops);
  const where = parseWhere(flags.where); // (the variable is picked per dataset: CMIP5 names it variable, CMIP6 variable_id)
  const catalog = (await load(flags.catalog!)).query(where);
  const by = (flags.by ?? "model").split(",").map((s) => s.trim()).filter(Boolean);
  const ensemble = flags.ensemble ? flags.ensemble.split(",").map((s) => s.trim()) : undefined;
  const r = await interruptible(`${ops} over ${catalog.files.length} files, datasets`, (signal, onProgress) =>
    withView(flags, (view) => reduceArchive(chain, catalog, { ...common(flags), by, ensemble, view, signal, onProgress })));
  if (!flags.out) return printArchive(r, by);
  if (/\.json$/i.test(flags.out)) await writeFile(flags.out, JSON.stringify(archiveJSON(r), null, 1) + "\n");
  else if (/\.csv$/i.test(flags.out)) await writeFile(flags.out, archiveCSV(r, by));
  else throw new ReduceError("write archive statistics to a .csv or .json file", flags.out);
  console.log(`wrote ${flags.out}: ${r.groups.length} group(s) by ${by.join(",")}, ${r.labels.length} time labels`);
}

const archiveJSON = (r: ArchiveResult) => ({
  units: r.units, cell_methods: r.cellMethods, notes: r.notes, labels: r.labels, counts: r.counts,
  groups: r.groups.map((g) => ({ ...g.key, members: g.members, datasets: g.datasets, labels: g.labels, values: Array.from(g.values, (v) => (v === v ? v : null)) })),
  ensemble: Object.fromEntries(Object.entries(r.ensemble).map(([k, v]) => [k, Array.from(v, (x) => (x === x ? x : null))])),
});

/** Groups as rows, labels as columns (first value of each step when there are several cells). */
function printArchive(r: ArchiveResult, by: string[]) {
  console.log(`${r.groups.length} group(s) by ${by.join(",")}; ${r.cellMethods}${r.units ? ` [${r.units}]` : ""}`);
  for (const n of r.notes) console.log(`  ${n}`);
  const fmt = (v: number | undefined) => (v === undefined || v !== v ? "_" : v.toFixed(3));
  const show = r.labels.length > 12 ? [...r.labels.slice(0, 6), "…", ...r.labels.slice(-5)] : r.labels;
  console.log(["", ...show].join("\t"));
  for (const g of r.groups) console.log([`${by.map((k) => g.key[k]).join("/")} (${g.members.length})`, ...show.map((l) => (l === "…" ? "…" : fmt(g.values[g.labels.indexOf(l) * r.cells])))].join("\t"));
  for (const [n, v] of Object.entries(r.ensemble)) console.log([`ensemble ${n}`, ...show.map((l) => (l === "…" ? "…" : fmt(v[r.labels.indexOf(l) * r.cells])))].join("\t"));
}
