/**
 * A synthetic CMIP5 tree in the ESGF layout for the DRS benchmark: empty files,
 * 10 institutes x 4 models x 5 experiments x 5 members x 20 variables x 10 files
 * = 200,000 files in 20,000 variable directories, two versions in a fifth of
 * the members and a `latest` link. Usage: make-drs-tree.ts DIR (kept if it exists).
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2];
if (!root) throw new Error("usage: make-drs-tree.ts DIR");
if (!existsSync(join(root, "cmip5"))) {
  const started = performance.now();
  let n = 0;
  for (let i = 0; i < 10; i++) for (let m = 0; m < 4; m++) for (const exp of ["historical", "rcp26", "rcp45", "rcp60", "rcp85"]) for (let r = 1; r <= 5; r++) {
    const model = `MODEL-${i}-${m}`;
    const ens = `cmip5/output1/INST-${i}/${model}/${exp}/mon/atmos/Amon/r${r}i1p1`;
    const versions = r === 1 ? ["v20110101", "v20120101"] : ["v20120101"];
    for (const [k, v] of versions.entries()) {
      // the older version holds half the variables
      for (let vi = 0; vi < (k === 0 && versions.length > 1 ? 10 : 20); vi++) {
        const dir = join(root, ens, v, `var${vi}`);
        mkdirSync(dir, { recursive: true });
        const files = versions.length > 1 && k === 0 ? 10 : 10;
        for (let f = 0; f < files; f++) {
          const y = 1850 + f * 25;
          writeFileSync(join(dir, `var${vi}_Amon_${model}_${exp}_r${r}i1p1_${y}01-${y + 24}12.nc`), "");
          n++;
        }
      }
    }
    if (versions.length > 1) symlinkSync("v20120101", join(root, ens, "latest"));
  }
  console.log(`made ${n} files in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
