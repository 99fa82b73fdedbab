/**
 * meridian's DRS scan of the synthetic tree (make-drs-tree.ts), the same tree
 * `find ROOT -name '*.nc'` lists. Usage: drs-scan.ts ROOT. Prints JSON: seconds
 * of a full scan (median of 3, after one warm-up), of a rescan of the unchanged
 * tree (reusing the records of directories whose mtime is the same; median of
 * 3), files kept, problems.
 */
import { drs } from "@meridian/io";

const root = process.argv[2];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = async (options: drs.ScanOptions) => {
  const t = performance.now();
  const c = await drs.scan(root, options);
  return { seconds: (performance.now() - t) / 1000, c };
};
await timed({ reuse: false }); // warm-up
const full: number[] = [], rescan: number[] = [];
let last;
for (let r = 0; r < 3; r++) full.push((last = await timed({ reuse: false })).seconds);
await timed({}); // remembers the directories
for (let r = 0; r < 3; r++) rescan.push((await timed({})).seconds);
console.log(JSON.stringify({ seconds: median(full), rescan: median(rescan), files: last!.c.files.length, problems: last!.c.problems.length }));
