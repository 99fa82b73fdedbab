/**
 * meridian's DRS scan of the synthetic tree (make-drs-tree.ts), the same tree
 * `find ROOT -name '*.nc'` lists. Usage: drs-scan.ts ROOT. Prints JSON: seconds
 * of a full scan (median of 3, after one warm-up), files kept, problems.
 */
import { drs } from "@meridian/io";

const root = process.argv[2];
const times: number[] = [];
let files = 0, problems = 0;
for (let r = 0; r < 4; r++) {
  const t = performance.now();
  const c = await drs.scan(root);
  if (r) times.push((performance.now() - t) / 1000);
  files = c.files.length;
  problems = c.problems.length;
}
console.log(JSON.stringify({ seconds: times.sort((a, b) => a - b)[1], files, problems }));
