export { scan, type ScanOptions } from "./scan.ts";
export { Catalog, COLUMNS, parseCSV, type CatalogFile, type DrsDataset, type Problem, type VersionPolicy, type Where } from "./catalog.ts";
export { TEMPLATES, userTemplate, type DrsTemplate } from "./templates.ts";
export { parseTimeRange, type TimeRange } from "./timerange.ts";
export { checkFiles } from "./check.ts";
export { DrsError } from "../errors.ts";
