import { Command } from "commander";
import { MeridianError } from "@meridian/io";
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

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof MeridianError) {
    process.stderr.write(`meridian: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`meridian: internal error: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 2;
  }
}
