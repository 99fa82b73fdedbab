export { reduce, type ReduceOptions, type Reduction } from "./reduce.ts";
export { parseChain, OPERATORS, cdoCommand, type Operator, type Stat, type Grouping } from "./operators.ts";
export { openSeries, type Series, type SeriesFile, type Coordinate } from "./series.ts";
export { apply, type Field } from "./evaluate.ts";
export { cellAreas, findGrid, EARTH_RADIUS, type AreaMethod } from "./field.ts";
export { groupSteps, type TimeGroups } from "./groups.ts";
export { ReduceError } from "./errors.ts";
export { reduceArchive, archiveCSV, type ArchiveOptions, type ArchiveResult, type GroupSeries } from "./archive.ts";
