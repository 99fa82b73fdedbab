export { parseTable, type Table } from "./table.ts";
export { prepare, detectionLimits, uncertaintyOf, signalToNoise, suggestCategory, type Category, type PmfData, type PrepareOptions } from "./inputs.ts";
export { solve, pickBest, qOf, qParts, qExpected, type SolveOptions, type Solution } from "./solver.ts";
export { Random } from "./random.ts";
export { PmfError } from "./errors.ts";
export { pmfRun, baseRuns, type RunSpec, type BaseOptions } from "./tasks.ts";
