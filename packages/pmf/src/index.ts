export { parseTable, readTable, type Table } from "./table.ts";
export { prepare, detectionLimits, uncertaintyOf, signalToNoise, suggestCategory, type Category, type PmfData, type PrepareOptions } from "./inputs.ts";
export { solve, pickBest, qOf, qParts, qExpected, type Method, type SolveOptions, type Solution } from "./solver.ts";
export { Random } from "./random.ts";
export { PmfError } from "./errors.ts";
export { pmfPieces, baseRuns, bootstrap, displacement, type RunSpec, type BaseOptions, type BootstrapOptions, type DisplacementOptions } from "./tasks.ts";
export { DQ_MAX, displaceElement, summariseDisplacement, type DisplacementSummary, type ElementDisplacement } from "./disp.ts";
export { assignment, correlations, blockLength, optimalBlock, percentile, percentOfSpecies, percentOfSolution, factorTotals, resampleRows, replicate, summarise, type BootstrapSummary, type ElementStats, type Replicate } from "./bootstrap.ts";
