/**
 * Samples-by-species tables as EPA PMF and ESAT ship them: CSV or TSV, maybe
 * a preamble of notes before the header, Windows line ends, blank (or
 * delimiter-only) lines at the end, and a first column of sample labels
 * (dates) or none. Missing values are empty, NA, NaN or -999.
 */
import { readFile } from "node:fs/promises";
import { PmfError } from "./errors.ts";

export interface Table {
  /** Where it came from, named in errors. */
  source: string;
  /** Species (the header, without the label column's). */
  columns: string[];
  /** One label per sample (dates as written), or "1", "2", ... without a label column. */
  rows: string[];
  /** [rows, columns], NaN where missing. */
  values: Float64Array;
}

const MISSING = new Set(["", "na", "nan", "n/a", "-999", "-999.0", "-999.00"]);

const isNumber = (s: string) => s.trim() !== "" && Number.isFinite(Number(s));
const isValue = (s: string) => isNumber(s) || MISSING.has(s.trim().toLowerCase());

/** Parses a table's text; `source` names it in errors. */
export function parseTable(text: string, source: string): Table {
  const lines = text.split(/\r?\n|\r/);
  const delimiter = lines.some((l) => l.includes("\t")) ? "\t" : lines.some((l) => l.includes(",")) ? "," : ";";
  const fields = (l: string) => l.split(delimiter).map((f) => f.trim().replace(/^"(.*)"$/, "$1"));
  const blank = (l: string) => fields(l).every((f) => f === "");
  // the header: the last line before the first line of values (two fields or more, mostly numbers)
  const first = lines.findIndex((l) => {
    const f = fields(l);
    return f.length >= 2 && f.filter(isNumber).length >= Math.max(1, (f.length - 1) / 2);
  });
  if (first < 1) throw new PmfError(first === 0 ? "no header line before the first line of values" : "no line of values (numbers separated by commas or tabs)", source);
  let h = first - 1;
  while (h > 0 && blank(lines[h])) h--;
  const header = fields(lines[h]);
  const sample = fields(lines[first]);
  // a label column: named Date/Time/Sample, or text in the first line of values, or one field more than the header names
  const labelled = /^(date|time|sample|datetime|id)/i.test(header[0]) || !isValue(sample[0]) || header.length === sample.length - 1;
  const columns = labelled && header.length === sample.length ? header.slice(1) : header;
  if (columns.some((c) => c === "")) throw new PmfError(`line ${h + 1}: a species column has no name`, source);
  const rows: string[] = [];
  const values: number[] = [];
  for (let i = first; i < lines.length; i++) {
    if (blank(lines[i])) continue;
    const f = fields(lines[i]);
    const cells = labelled ? f.slice(1) : f;
    // trailing empty fields (delimiter-only padding) are not values
    while (cells.length > columns.length && cells[cells.length - 1] === "") cells.pop();
    if (cells.length !== columns.length) throw new PmfError(`line ${i + 1}: ${cells.length} values, but the header names ${columns.length} species`, source);
    cells.forEach((c, j) => {
      if (!isValue(c)) throw new PmfError(`line ${i + 1}, column ${columns[j]}: "${c}" is not a number (nor empty, NA, NaN or -999 for missing)`, source);
      values.push(MISSING.has(c.trim().toLowerCase()) ? NaN : Number(c));
    });
    rows.push(labelled ? f[0] : String(rows.length + 1));
  }
  return { source, columns, rows, values: Float64Array.from(values) };
}

/** A table read from a file (errors name it). */
export const readTable = async (path: string): Promise<Table> => parseTable(await readFile(path, "utf8"), path);
