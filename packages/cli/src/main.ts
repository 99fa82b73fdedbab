import { Command } from "commander";
import { MeridianError } from "@meridian/io";
import { ClusterError } from "@meridian/cluster";
import { clusterStart, clusterStatus, clusterStop, controller, engine } from "./commands/cluster.ts";
import { demo } from "./commands/demo.ts";
import { info } from "./commands/info.ts";
import { read } from "./commands/read.ts";

const program = new Command("meridian")
  .description("Climate and astronomy data analysis with parallel reductions")
  .version("0.1.0")
  .showHelpAfterError();

program.command("info")
  .description("summarise a NetCDF, HDF5 or FITS file (like ncdump -h)")
  .argument("<file>")
  .option("--json", "print {format, dims, unlimited, attrs, variables} as JSON")
  .action(info);

program.command("read")
  .description("read a variable (CF-decoded unless --raw) as JSON or .npy")
  .argument("<file>")
  .argument("<variable>")
  .option("--slice <slice>", 'numpy-style selection, e.g. "0:12,:,5"')
  .option("--raw", "values as stored: no masking, unpacking or string decoding")
  .option("--out <file>", "write to a .npy (numpy format) or .json file instead of stdout")
  .action(read);

program.command("demo")
  .description("the main job on the bundled sample data")
  .option("--datasets <dir>", "folder of datasets to use")
  .action(demo);

program.command("controller")
  .description("run a cluster controller in the foreground; engines join with `meridian engine`")
  .option("--profile <name>", "profile whose connection file to write", "default")
  .option("--connection <file>", "connection file to write (default: the profile's)")
  .option("--ip <address>", "address to listen on (others than loopback need --curve)", "127.0.0.1")
  .option("--client-port <port>", "port for clients (default: any free)")
  .option("--engine-port <port>", "port for engines (default: any free)")
  .option("--curve", "encrypt every connection with CurveZMQ")
  .action(controller);

program.command("engine")
  .description("run an engine in the foreground, joining the controller of a connection file")
  .option("--profile <name>", "profile whose connection file to read", "default")
  .option("--connection <file>", "connection file (default: the profile's)")
  .action(engine);

const cluster = program.command("cluster").description("a local cluster in the background: start, stop, status");
cluster.command("start")
  .description("start a controller and engines in the background")
  .option("--engines <n>", "engines to start", "2")
  .option("--profile <name>", "profile (its files: $MERIDIAN_HOME/profiles/<name>/)", "default")
  .option("--ip <address>", "address to listen on (others than loopback need --curve)")
  .option("--curve", "encrypt every connection with CurveZMQ")
  .action(clusterStart);
cluster.command("stop")
  .description("stop the profile's cluster")
  .option("--profile <name>", "profile", "default")
  .action(clusterStop);
cluster.command("status")
  .description("engines, their load, queue, tasks done and failed, tasks/s")
  .option("--profile <name>", "profile", "default")
  .option("--json", "as JSON")
  .action(clusterStatus);

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof MeridianError || e instanceof ClusterError) {
    process.stderr.write(`meridian: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`meridian: internal error: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 2;
  }
}
