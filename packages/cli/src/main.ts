import { Command } from "commander";

/**
 * Commands load their modules when they run, so that `meridian --help` or a
 * small command does not pay for ZeroMQ, arquero and every reader at start-up.
 */
const lazy = <M>(load: () => Promise<M>, name: keyof M) => async (...args: unknown[]): Promise<void> => {
  await ((await load())[name] as (...a: unknown[]) => unknown)(...args);
};
const cluster$ = () => import("./commands/cluster.ts");
const drs$ = () => import("./commands/drs.ts");

const program = new Command("meridian")
  .description("Climate and astronomy data analysis with parallel reductions")
  .version("0.1.0")
  .showHelpAfterError();

program.command("info")
  .description("summarise a NetCDF, HDF5 or FITS file (like ncdump -h)")
  .argument("<file>")
  .option("--json", "print {format, dims, unlimited, attrs, variables} as JSON")
  .action(lazy(() => import("./commands/info.ts"), "info"));

program.command("read")
  .description("read a variable (CF-decoded unless --raw) as JSON or .npy")
  .argument("<file>")
  .argument("<variable>")
  .option("--slice <slice>", 'numpy-style selection, e.g. "0:12,:,5"')
  .option("--raw", "values as stored: no masking, unpacking or string decoding")
  .option("--out <file>", "write to a .npy (numpy format) or .json file instead of stdout")
  .action(lazy(() => import("./commands/read.ts"), "read"));

/** --ssh, where a command joins a running cluster. */
const viaSsh = (c: Command) => c.option("--ssh <user@host>", "reach the cluster through ssh to its login node (its connection file read from there unless --connection)");

viaSsh(program.command("repl"))
  .description("an interactive session bound to a cluster: rc, lb, dv, open, catalog, reduce, pmf preloaded; .px, .engines, .status")
  .option("--engines <n>", "engines of the local cluster it starts (default: one per core)")
  .option("--connection <file>", "join a running cluster instead (its connection file)")
  .action(lazy(() => import("./commands/repl.ts"), "replCommand"));

program.command("demo")
  .description("the main job on the bundled sample data: a local cluster, the sample files, the CMIP catalogs, global-mean series, a bootstrap PMF; writes out/report.html")
  .option("--datasets <dir>", "folder of datasets to use")
  .option("--engines <n>", "engines of the local cluster (default: one per core)")
  .option("--out <dir>", "where report.html goes", "out")
  .action(lazy(() => import("./commands/demo.ts"), "demo"));

/** --profile, and --connection where a command reads or writes a connection file. */
const profileOptions = (c: Command, connection?: string) => {
  c.option("--profile <name>", "profile (its files: $MERIDIAN_HOME/profiles/<name>/)", "default");
  return connection ? c.option("--connection <file>", `connection file to ${connection} (default: the profile's)`) : c;
};
const listenOptions = (c: Command) => c
  .option("--ip <address>", "where to listen: an address, a network interface (ib0) or * for all (default 127.0.0.1; * with a launcher other than local); off loopback, connections are encrypted (CurveZMQ, keys made at start)")
  .option("--location <address>", "the address engines and clients connect to (default: the --ip address; for *, this host's first external IPv4)")
  .option("--curve", "encrypt with CurveZMQ on loopback too");

listenOptions(profileOptions(program.command("controller")
  .description("run a cluster controller in the foreground; engines join with `meridian engine`"), "write"))
  .option("--client-port <port>", "port for clients (default: any free)")
  .option("--engine-port <port>", "port for engines (default: any free)")
  .action(lazy(cluster$, "controller"));

profileOptions(program.command("engine")
  .description("run an engine in the foreground, joining the controller of a connection file"), "read")
  .option("--wait <seconds>", "wait this long for the connection file to appear (a shared filesystem may be slow to show it)", "10")
  .option("--timeout <seconds>", "give up when no controller has welcomed the engine within this time", "60")
  .action(lazy(cluster$, "engine"));

const cluster = program.command("cluster").description("a local cluster in the background: start, stop, status");
listenOptions(profileOptions(cluster.command("start")
  .description("start a controller and engines in the background")
  .option("--engines <n>", "engines to start", "2")
  .option("--launcher <name>", "where the engines run: local, ssh (--hosts), mpiexec, slurm, pbs, sge or lsf (a batch job, cancelled on stop)", "local")
  .option("--template <file>", "the batch job script's template instead of the default ({engines}, {engine_command}, {connection}, {dir}, {job_name})")
  .option("--hosts <hosts>", "with --launcher ssh: the hosts, comma-separated, used in turn")))
  .action(lazy(cluster$, "clusterStart"));
profileOptions(cluster.command("stop").description("stop the profile's cluster")).action(lazy(cluster$, "clusterStop"));
viaSsh(profileOptions(cluster.command("status").description("engines, their load, queue, tasks done and failed, tasks/s"), "read"))
  .option("--json", "as JSON")
  .action(lazy(cluster$, "clusterStatus"));

/** Where a command's tasks run: here (the default), on a local cluster started for it, or on a running one. */
const whereToRun = (c: Command) => viaSsh(c
  .option("--engines <n>", "start a local cluster of n engines for this run")
  .option("--connection <file>", "run on the cluster of this connection file"));

whereToRun(program.command("reduce"))
  .description("CDO-style operators over files: e.g. meridian reduce yearmonmean,fldmean tas_*.nc --var tas --out out.nc")
  .argument("<ops>", "operators in the order they apply, comma-separated (yearmonmean,fldmean; enspctl,90)")
  .argument("[files...]", "the files of one series (any order of reference dates); for ens* operators, of several members")
  .requiredOption("--var <name>", "the variable to reduce")
  .option("--out <file>", "write the result: .nc (CF NetCDF classic), .csv (one row per point) or .json")
  .option("--area <file>", "cell areas (areacella) for field statistics")
  .option("--cdo-compat", "field statistics with CDO's cell areas (great-circle cells), to match CDO")
  .option("--min-valid <fraction>", "a result is missing unless this fraction of its inputs is valid")
  .option("--catalog <root-or-csv>", "reduce every dataset a DRS tree or catalog holds (with --where)")
  .option("--where <tests>", "with --catalog: facet tests, e.g. experiment=historical,frequency=mon")
  .option("--by <facets>", "with --catalog: group datasets (members averaged) by these facets", "model")
  .option("--ensemble <stats>", "with --catalog: statistics across groups per year (or month): mean,std,min,max,median,p10,p90", "mean,std")
  .action(lazy(() => import("./commands/reduce.ts"), "reduceCommand"));

whereToRun(program.command("pmf"))
  .description("positive matrix factorisation of samples × species: meridian pmf --conc C.csv --unc U.csv --factors 6 --out DIR")
  .requiredOption("--conc <file>", "concentrations: CSV or TSV, samples as rows (a date column first, optional), species as columns")
  .option("--unc <file>", "uncertainties, the same shape")
  .option("--mdl <file>", "instead of --unc: species, a row of detection limits and a row of error fractions in %")
  .requiredOption("--factors <k>", "number of factors")
  .option("--runs <n>", "random starts; the best by Q(robust) is kept", "20")
  .option("--seed <s>", "random seed: the same seed, the same result", "42")
  .option("--no-robust", "minimise Q(true) instead of down-weighting outliers (|r/u| > 4)")
  .option("--method <m>", "als (alternating least squares) or mu (ESAT's multiplicative updates)", "als")
  .option("--bootstrap <n>", "block-bootstrap replicates (EPA PMF suggests at least 100)")
  .option("--block <rows>", "bootstrap block length (default: Politis & White's optimal length)")
  .option("--disp", "DISP: each profile element's range where Q rises by 4, 8, 16, 32")
  .option("--strong <species>", "species to keep strong, whatever their S/N")
  .option("--weak <species>", "species to make weak (uncertainty ×3)")
  .option("--bad <species>", "species to leave out")
  .requiredOption("--out <dir>", "where profiles.csv, contributions.csv, summary.json, bootstrap.csv, disp.csv and the plots go")
  .action(lazy(() => import("./commands/pmf.ts"), "pmfCommand"));

const drs = program.command("drs").description("catalogs of CMIP5/CMIP6 trees in the Data Reference Syntax");
const scanOptions = (c: Command) => c
  .option("--project <p>", "layouts to try: cmip5, cmip6 or auto", "auto")
  .option("--template <dir|file>", 'your own layout, ESMValCore style: "{institute}/{dataset}/{exp}|{short_name}_{mip}_{dataset}_{exp}_{ensemble}*.nc"')
  .option("--versions <policy>", "latest (follow latest links, else newest per dataset), newest-per-file, or all", "latest")
  .option("--check", "open each file's header and compare its global attributes with the path");
scanOptions(drs.command("scan")
  .description("scan a tree: files, datasets, versions, problems; --out writes an intake-esm ESM collection (.csv + .json)")
  .argument("<root>")
  .option("--out <catalog>", "write catalog.csv and catalog.json"))
  .action(lazy(drs$, "drsScan"));
scanOptions(drs.command("query")
  .description("files of a catalog or tree that match, as CSV (or --json)")
  .argument("<catalog-or-root>")
  .option("--where <tests>", "facet=value pairs: lists a|b, wildcards rcp*, regular expressions /^MPI/, e.g. model=HadGEM2-ES,variable=tas|pr")
  .option("--time <from-to>", "files overlapping these dates, e.g. 1850-1900")
  .option("--require-all-on <facets>", "keep only groups (e.g. model) that have every value of --of")
  .option("--of <facets>", "facets whose --where values must all be present in each group (e.g. variable)")
  .option("--json", "as JSON"))
  .action(lazy(drs$, "drsQuery"));
scanOptions(drs.command("problems")
  .description("what in a tree does not fit: unknown facets, bad names, broken links, version conflicts, gaps, overlaps")
  .argument("<root>")
  .option("--json", "as JSON"))
  .action(lazy(drs$, "drsProblems"));

/** Our typed errors (by class name: importing the classes would load the packages). */
function isUserError(e: unknown): boolean {
  for (let p = e ? Object.getPrototypeOf(e) : null; p; p = Object.getPrototypeOf(p)) if (p.constructor?.name === "MeridianError" || p.constructor?.name === "ClusterError") return true;
  return false;
}

// Output piped to a reader that stops early (`| head`): stop quietly, as other shell tools do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
  process.exit(0);
});

try {
  await program.parseAsync();
} catch (e) {
  if (isUserError(e)) {
    process.stderr.write(`meridian: ${(e as Error).message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`meridian: internal error: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 2;
  }
}
