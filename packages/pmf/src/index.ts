export { parseTable, type Table } from "./table.ts";
export { prepare, detectionLimits, uncertaintyOf, signalToNoise, suggestCategory, type Category, type PmfData, type PrepareOptions } from "./inputs.ts";
export { solve, pickBest, qOf, qParts, qExpected, type Method, type SolveOptions, type Solution } from "./solver.ts";
export { Random } from "./random.ts";
export { PmfError } from "./errors.ts";
export { pmfRun, baseRuns, pmfReplicates, bootstrap, pmfDisplace, displacement, type RunSpec, type BaseOptions, type BootstrapOptions, type DisplacementOptions } from "./tasks.ts";
export { DQ_MAX, displaceElement, summariseDisplacement, type DisplacementSummary, type ElementDisplacement } from "./disp.ts";
export { assignment, correlations, blockLength, optimalBlock, percentile, percentOfSpecies, resampleRows, replicate, summarise, type BootstrapSummary, type ElementStats, type Replicate } from "./bootstrap.ts";
