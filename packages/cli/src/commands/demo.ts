/**
 * The main job (`npm start`): the whole toolkit on the bundled sample data.
 * A local cluster; every sample file opened and its main variable streamed;
 * the DRS trees catalogued; the global-mean annual series of each CMIP6
 * model with the multi-model mean; a bootstrap PMF of Baton Rouge; all in
 * one HTML report with inline plots.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Cluster, type LoadBalancedView } from "@meridian/cluster";
import { drs, MeridianError, open, type Variable } from "@meridian/io";
import { baseRuns, bootstrap, prepare, qExpected, readTable } from "@meridian/pmf";
import { reduceArchive } from "@meridian/reduce";
import { contributionPlot, factorName, profilePlot } from "../pmf-plots.ts";
import { svgOf, type TopLevelSpec } from "../plots.ts";
import { interruptible } from "../progress.ts";
import { figure, page, paragraph, table, type Section } from "../report.ts";

export const DATASETS = fileURLToPath(new URL("../../../../datasets", import.meta.url));

export interface DemoFlags {
  datasets?: string;
  out: string;
  engines?: string;
}

export async function demo(flags: DemoFlags): Promise<void> {
  const root = resolve(flags.datasets ?? DATASETS), out = resolve(flags.out);
  const engines = Number(flags.engines ?? availableParallelism());
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  const step = (n: number, what: string) => console.log(`[${n}/5] ${what} (${seconds()} s)`);

  step(1, `starting a local cluster of ${engines} engines`);
  const cluster = await Cluster.start({ engines });
  const sections: Section[] = [];
  try {
    const client = await cluster.connect();
    try {
      await client.waitForEngines(engines);
      const view = client.loadBalanced();
      step(2, `opening every sample file in ${root}`);
      sections.push(await filesSection(root));
      step(3, "cataloguing the CMIP trees (Data Reference Syntax)");
      const { section, catalogs } = await archiveSection(join(root, "cmip5-drs"));
      sections.push(section);
      step(4, `annual area-mean series of each model, and their mean, on ${engines} engines`);
      sections.push(await seriesSection(catalogs, view));
      step(5, `PMF of Baton Rouge: 20 restarts and a 100-replicate bootstrap, on ${engines} engines`);
      sections.push(await pmfSection(join(root, "pmf/esat/data"), view));
    } finally {
      client.close();
    }
  } finally {
    await cluster.stop();
  }
  await mkdir(out, { recursive: true });
  const report = join(out, "report.html");
  await writeFile(report, page("meridian: the main job on the sample data", `Run on ${new Date().toISOString().slice(0, 19)}Z with ${engines} engines in ${seconds()} s.`, sections));
  console.log(`done in ${seconds()} s: open ${report}`);
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== "fixtures") yield* walk(p);
    else if (e.isFile() && /\.(nc|nc4|h5|hdf5|fits|fit|fz)(\.gz)?$/i.test(e.name)) yield p;
  }
}

/** Every file opened; its largest numeric variable streamed in blocks for its range and mean. */
async function filesSection(root: string): Promise<Section> {
  const rows: (string | number | undefined)[][] = [];
  let skipped = 0;
  for await (const file of walk(root)) {
    const name = relative(root, file);
    let ds;
    try {
      ds = await open(file);
    } catch (e) {
      if (!(e instanceof MeridianError)) throw e;
      skipped++;
      rows.push([name, "refused", e.message.replace(`${file}: `, "")]);
      continue;
    }
    try {
      const main = Object.values(ds.variables).filter((v) => v.dtype !== "char" && v.dtype !== "string").sort((a, b) => b.size - a.size)[0];
      const s = main ? await summary(main).catch((e) => {
        if (!(e instanceof MeridianError)) throw e;
        return e.message.replace(`${file}: `, "");
      }) : undefined;
      const where = `${ds.format} ${ds.variant}`;
      if (typeof s === "string" || !s) rows.push([name, where, main?.name, s ?? "no numeric variable"]);
      else rows.push([name, where, `${main.name}(${main.dims.join(", ")})`, s.units, s.valid, s.missing, s.min, s.mean, s.max]);
    } finally {
      await ds.close();
    }
  }
  console.log(`      ${rows.length} files, ${skipped} refused with a clear error`);
  return {
    title: "Sample files",
    body: paragraph(`${rows.length} files opened (${skipped} refused, as they should be); the largest numeric variable of each read in blocks, with CF decoding.`) +
      table(["file", "format", "variable", "units", "valid", "missing", "min", "mean", "max"], rows),
  };
}

async function summary(v: Variable) {
  let valid = 0, sum = 0, min = Infinity, max = -Infinity, missing = 0;
  for await (const b of v.blocks()) {
    const d = b.data as ArrayLike<number | bigint>;
    for (let i = 0; i < d.length; i++) {
      const x = Number(d[i]);
      if (b.mask?.[i] || Number.isNaN(x)) {
        missing++;
        continue;
      }
      valid++;
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  return { units: typeof v.attrs.units === "string" ? v.attrs.units : "", valid, missing, min: valid ? min : NaN, mean: valid ? sum / valid : NaN, max: valid ? max : NaN };
}

/** Each DRS tree under `dir` scanned: files, datasets, models, problems. */
async function archiveSection(dir: string): Promise<{ section: Section; catalogs: Map<string, drs.Catalog> }> {
  const trees = ["ESMValTool_sample_data", "intake-esm"];
  const catalogs = new Map<string, drs.Catalog>();
  const rows = [];
  for (const tree of trees) {
    const catalog = await drs.scan(join(dir, tree), { versions: "latest" });
    catalogs.set(tree, catalog);
    // CMIP5 and CMIP6 name their facets differently
    const values = (cmip5: string, cmip6: string) => [...new Set([...catalog.unique(cmip5), ...catalog.unique(cmip6)])].sort();
    rows.push([tree, catalog.files.length, catalog.datasets().length, values("model", "source_id").length, values("variable", "variable_id").join(" "), catalog.problems.length]);
  }
  console.log(`      ${rows.map((r) => `${r[0]}: ${r[1]} files`).join(", ")}`);
  const problems = [...catalogs].flatMap(([tree, c]) => c.problems.map((p) => [tree, p.kind, p.path, p.message]));
  return {
    catalogs,
    section: {
      title: "CMIP archives",
      body: paragraph("Each tree scanned in the Data Reference Syntax (latest versions); what does not fit is reported, not dropped.") +
        table(["tree", "files", "datasets", "models", "variables", "problems"], rows) +
        (problems.length ? table(["tree", "problem", "path", "what"], problems) : ""),
    },
  };
}

/** The annual area-mean air temperature of each CMIP6 model, and the multi-model mean, per pressure level. */
async function seriesSection(catalogs: Map<string, drs.Catalog>, view: LoadBalancedView): Promise<Section> {
  const catalog = catalogs.get("ESMValTool_sample_data")!.query({ experiment_id: "historical", variable_id: "ta" });
  const r = await interruptible("yearmonmean,fldmean of each model", (signal, onProgress) =>
    reduceArchive("yearmonmean,fldmean", catalog, { variable: "ta", by: ["source_id"], ensemble: ["mean", "min", "max"], view, signal, onProgress }));
  const { levels, domain } = await gridOf(catalog, r.cells);
  const values: { year: string; level: string; series: string; value: number }[] = [];
  for (const g of r.groups) {
    g.labels.forEach((label, t) => {
      for (let c = 0; c < r.cells; c++) values.push({ year: label, level: levels[c], series: g.key.source_id, value: g.values[t * r.cells + c] });
    });
  }
  r.labels.forEach((label, t) => {
    for (let c = 0; c < r.cells; c++) values.push({ year: label, level: levels[c], series: "multi-model mean", value: r.ensemble.mean[t * r.cells + c] });
  });
  const spec = {
    data: { values: values.filter((v) => Number.isFinite(v.value)) },
    facet: { row: { field: "level", type: "nominal", title: null, header: { labelAngle: 0, labelAlign: "left", labelFontWeight: "bold" } } },
    spec: {
      width: 900, height: 180,
      mark: { type: "line", strokeWidth: 1.5 },
      encoding: {
        x: { field: "year", type: "temporal", timeUnit: "year", title: null },
        y: { field: "value", type: "quantitative", title: `ta (${r.units ?? ""})`, scale: { zero: false } },
        color: { field: "series", type: "nominal", title: null, scale: { range: ["#4c78a8", "#f58518", "#222222"] } },
        strokeDash: { condition: { test: "datum.series === 'multi-model mean'", value: [5, 3] }, value: [1, 0] },
      },
    },
    resolve: { scale: { y: "independent" } },
  } as TopLevelSpec;
  const last = r.labels.length - 1;
  console.log(`      ${r.groups.length} models, ${r.labels.length} years; multi-model mean ${r.labels[last]}: ${levels.map((l, c) => `${l} ${r.ensemble.mean[last * r.cells + c].toFixed(2)} ${r.units ?? ""}`).join(", ")}`);
  return {
    title: "Annual series of each model",
    body: paragraph(`yearmonmean,fldmean of ta (historical) for each model of the ESMValTool sample tree: annual means weighted by the days of each month, then the area-weighted mean over the files' grid (${domain}: the samples hold only a few cells near the pole, so this is the mean of that domain), members averaged; then the multi-model mean of each year, over the models present that year. ${r.cellMethods}.`) +
      figure(await svgOf(spec), `Annual mean air temperature over ${domain}, per pressure level: each model, and the multi-model mean (dashed).`) +
      table(["model", "members", "years", "datasets"], r.groups.map((g) => [g.key.source_id, g.members.join(" "), `${g.labels[0]}–${g.labels[g.labels.length - 1]}`, g.datasets.join(" ")])) +
      table(["year", "models", ...levels.flatMap((l) => [`${l}: mean`, `${l}: min`, `${l}: max`])], r.labels.map((label, t) => [label, r.counts[t], ...levels.flatMap((_, c) => [r.ensemble.mean[t * r.cells + c], r.ensemble.min[t * r.cells + c], r.ensemble.max[t * r.cells + c]])]), 5) +
      (r.notes.length ? paragraph(r.notes.join(" ")) : ""),
  };
}

/** The pressure levels of the series' cells ("850 hPa", else "cell N"), and the domain of the grid, read from the first file. */
async function gridOf(catalog: drs.Catalog, cells: number): Promise<{ levels: string[]; domain: string }> {
  const ds = await open(resolve(catalog.root, catalog.files[0].path));
  try {
    const plev = ds.variables.plev;
    const range = async (name: string) => {
      const v = ds.variables[name];
      if (!v) return "";
      const d = Array.from((await v.read()).data as Float64Array);
      return `${name} ${Math.min(...d).toFixed(1)}…${Math.max(...d).toFixed(1)}°`;
    };
    const domain = [await range("lat"), await range("lon")].filter(Boolean).join(", ");
    if (!plev || plev.size !== cells) return { levels: Array.from({ length: cells }, (_, c) => `cell ${c}`), domain };
    const hPa = plev.attrs.units === "Pa";
    const p = (await plev.read()).data as Float64Array;
    return { levels: Array.from(p, (v) => (hPa ? `${v / 100} hPa` : `${v} ${String(plev.attrs.units ?? "")}`.trim())), domain };
  } finally {
    await ds.close();
  }
}

/** Baton Rouge's VOCs: 4 factors, 20 restarts, 100 bootstrap replicates. */
async function pmfSection(dir: string, view: LoadBalancedView): Promise<Section> {
  const data = prepare(await readTable(join(dir, "Dataset-BatonRouge-con.csv")), { unc: await readTable(join(dir, "Dataset-BatonRouge-unc.csv")) });
  const n = data.samples.length, m = data.species.length, factors = 4;
  const { best } = await interruptible("PMF base case, 20 restarts", (signal, onProgress) => baseRuns(data.x, data.u, n, m, { factors, runs: 20, seed: 42, view, signal, onProgress }));
  const { summary: bs } = await interruptible("bootstrap, 100 replicates", (signal, onProgress) => bootstrap(data.x, data.u, n, m, best, { replicates: 100, view, signal, onProgress }));
  const qExp = qExpected(n, data.category.filter((c) => c === "strong").length, factors, m);
  console.log(`      Q(robust) ${best.qRobust.toFixed(1)}, Q(true) ${best.qTrue.toFixed(1)}, Q(expected) ${qExp}; factors mapped in ${bs.mapped.map((v) => `${(100 * v).toFixed(0)}%`).join(", ")} of the replicates`);
  const warnings = bs.unstable.map((c) => `${factorName(c)} was mapped in only ${(100 * bs.mapped[c]).toFixed(0)}% of the replicates (under 80%).`);
  return {
    title: "PMF: Baton Rouge VOCs",
    body: paragraph(`${n} samples × ${m} species (left out as bad by S/N: ${data.excluded.join(", ") || "none"}), ${factors} factors, robust mode, the best of 20 restarts by Q(robust); then a block bootstrap of 100 replicates (blocks of ${bs.block} samples, Politis–White), factors mapped one-to-one by contribution correlation.`) +
      table(["Q(true)", "Q(robust)", "Q(expected)", "iterations", "bootstrap Q(robust): median", "range"], [[best.qTrue, best.qRobust, qExp, best.iterations, bs.qRobust.p50, `${bs.qRobust.min.toFixed(0)} – ${bs.qRobust.max.toFixed(0)}`]]) +
      table(["factor", "mapped in", ...Array.from({ length: factors }, (_, e) => `to replicate ${factorName(e)}`), "unmapped"], bs.mappingTable.map((row, c) => [factorName(c), `${(100 * bs.mapped[c]).toFixed(0)}%`, ...row])) +
      warnings.map(paragraph).join("") +
      figure(await svgOf(profilePlot(data, best, bs, "concentration")), "Factor profiles: the base case, and the bootstrap 5–95% range.") +
      figure(await svgOf(profilePlot(data, best, bs, "percent")), "Each factor's share of every species.") +
      figure(await svgOf(contributionPlot(data, best)), "Factor contributions over time."),
  };
}

