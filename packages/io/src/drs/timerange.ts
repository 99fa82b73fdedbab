/**
 * The time range in a DRS filename: `N1-N2[-clim]`, N = yyyy[MM[dd[hh[mm[ss]]]]],
 * at the precision its frequency implies. Ranges compare as 14-digit keys:
 * the start padded with the first instant, the end with the last.
 */

export interface TimeRange {
  /** As written, e.g. "185001-200512". */
  text: string;
  start: string;
  end: string;
  clim: boolean;
  /** 14-digit keys: the start's first and the end's last instant. */
  from: string;
  to: string;
}

const LOW = "00000101000000", HIGH = "99991231235959";

export function parseTimeRange(text: string): TimeRange | undefined {
  const m = /^(\d{4,14})-(\d{4,14})(-clim)?$/.exec(text);
  if (!m || m[1].length !== m[2].length || m[1].length % 2) return undefined;
  const [start, end] = [m[1], m[2]];
  const from = start + LOW.slice(start.length), to = end + HIGH.slice(end.length);
  if (from > to) return undefined;
  return { text, start, end, clim: !!m[3], from, to };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The label that follows `end` at its precision, in a Gregorian, no-leap or 360-day calendar (so that a gap is a gap in all). */
export function successors(end: string): string[] {
  const y = Number(end.slice(0, 4)), mo = Number(end.slice(4, 6) || 0), d = Number(end.slice(6, 8) || 0);
  if (end.length === 4) return [pad(y + 1, 4)];
  if (end.length === 6) return [mo === 12 ? `${pad(y + 1, 4)}01` : `${pad(y, 4)}${pad(mo + 1)}`];
  if (end.length === 8) {
    const out = new Set<string>();
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
    // the month's last day: Gregorian, no-leap, or 360-day (30 every month)
    if (d === days + (mo === 2 && leap ? 1 : 0) || d === days || d === 30) out.add(mo === 12 ? `${pad(y + 1, 4)}0101` : `${pad(y, 4)}${pad(mo + 1)}01`);
    if (d < 31) out.add(`${pad(y, 4)}${pad(mo)}${pad(d + 1)}`);
    return [...out];
  }
  return []; // sub-daily: any later label is a successor (see continuity())
}

/** How two ranges, sorted by start, follow each other. */
export function continuity(a: TimeRange, b: TimeRange): "contiguous" | "gap" | "overlap" | "duplicate" {
  if (a.text === b.text) return "duplicate";
  if (b.from <= a.to) return "overlap";
  if (a.end.length !== b.start.length || a.end.length > 8) return "contiguous"; // mixed or sub-daily precision: no gap claimed
  return successors(a.end).includes(b.start) ? "contiguous" : "gap";
}
