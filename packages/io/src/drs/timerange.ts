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
const RANGE = /^\d{4,14}-\d{4,14}(-clim)?$/;

/*
 * A scan checks every file's range, so what follows reads the text in place
 * and allocates nothing; parseTimeRange() builds the object for the API.
 */

/** The digits of each date of a valid range ("185001-200512" → 6), else 0: two dates of one even length, in order. */
export function rangeDigits(text: string): number {
  if (!RANGE.test(text)) return 0;
  const n = text.indexOf("-");
  if (n % 2 || (text.length !== 2 * n + 1 && text.length !== 2 * n + 6)) return 0;
  return compareKeys(text, 0, n, LOW, text, n + 1, n, LOW) <= 0 ? n : 0;
}

export function parseTimeRange(text: string): TimeRange | undefined {
  const n = rangeDigits(text);
  if (!n) return undefined;
  const start = text.slice(0, n), end = text.slice(n + 1, 2 * n + 1);
  return { text, start, end, clim: text.length > 2 * n + 1, from: start + LOW.slice(n), to: end + HIGH.slice(n) };
}

/** Compares two dates as 14-digit keys: the `na` digits at a[i] padded from `padA`, and the same of b. */
function compareKeys(a: string, i: number, na: number, padA: string, b: string, j: number, nb: number, padB: string): number {
  for (let k = 0; k < 14; k++) {
    const x = k < na ? a.charCodeAt(i + k) : padA.charCodeAt(k);
    const y = k < nb ? b.charCodeAt(j + k) : padB.charCodeAt(k);
    if (x !== y) return x - y;
  }
  return 0;
}

/** Ranges (valid texts) in order of their start keys. */
export function compareStarts(a: string, b: string): number {
  return compareKeys(a, 0, a.indexOf("-"), LOW, b, 0, b.indexOf("-"), LOW);
}

/** The number written at text[i, i + n). */
function digits(text: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) v = v * 10 + text.charCodeAt(k) - 48;
  return v;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether `next` (same precision, yyyy to yyyyMMdd) is a label that follows
 * `end`, in a Gregorian, no-leap or 360-day calendar (so that a gap is a gap
 * in all). `end` and `next` are dates in range texts at `i` and `j`.
 */
function follows(a: string, i: number, b: string, j: number, n: number): boolean {
  const y = digits(a, i, 4), y2 = digits(b, j, 4);
  if (n === 4) return y2 === y + 1;
  const mo = digits(a, i + 4, 2), mo2 = digits(b, j + 4, 2);
  const nextMonth = mo === 12 ? y2 === y + 1 && mo2 === 1 : y2 === y && mo2 === mo + 1;
  if (n === 6) return nextMonth;
  const d = digits(a, i + 6, 2), d2 = digits(b, j + 6, 2);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = DAYS[mo - 1];
  // the month's last day: Gregorian, no-leap, or 360-day (30 every month)
  if (nextMonth && d2 === 1 && (d === days + (mo === 2 && leap ? 1 : 0) || d === days || d === 30)) return true;
  return d < 31 && y2 === y && mo2 === mo && d2 === d + 1;
}

/** How two ranges (valid texts, sorted by start) follow each other. */
export function continuity(a: string, b: string): "contiguous" | "gap" | "overlap" | "duplicate" {
  if (a === b) return "duplicate";
  const n = a.indexOf("-"), m = b.indexOf("-");
  if (compareKeys(b, 0, m, LOW, a, n + 1, n, HIGH) <= 0) return "overlap";
  if (n !== m || n > 8) return "contiguous"; // mixed or sub-daily precision: no gap claimed
  return follows(a, n + 1, b, 0, n) ? "contiguous" : "gap";
}
