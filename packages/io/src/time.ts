/**
 * CF time (CF §4.4): `<unit> since <reference date>` in one of the CF calendars.
 *
 * Every calendar maps a date to a day number and back; a time value is then
 * the reference's day number and second of day plus the value in seconds.
 * Years are astronomical inside (year 0 = 1 BC); in the standard and julian
 * calendars dates show no year 0 (1 BC is year -1), as cftime does; the
 * others, proleptic_gregorian included (ISO 8601), have a year 0.
 * `standard` is Julian before 1582-10-15 and Gregorian from then on; the ten
 * days between do not exist.
 */
import { MeridianError } from "./errors.ts";

/** CF time that cannot be decoded: an unknown calendar, units that do not parse, a date that does not exist. */
export class TimeError extends MeridianError {
  override name = "TimeError";
}

export type CalendarName = "standard" | "proleptic_gregorian" | "julian" | "noleap" | "all_leap" | "360_day" | "none";

const ALIASES: Record<string, CalendarName> = {
  standard: "standard", gregorian: "standard", proleptic_gregorian: "proleptic_gregorian", julian: "julian",
  noleap: "noleap", "365_day": "noleap", all_leap: "all_leap", "366_day": "all_leap", "360_day": "360_day", none: "none",
};

/** A date and time of day in some calendar. `second` may carry a fraction. */
export interface CFDate {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const gregorianLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const julianLeap = (y: number) => y % 4 === 0;
const floorDiv = (a: number, b: number) => Math.floor(a / b);

/** A CF calendar: its months, and dates to day numbers and back (astronomical years). */
export class Calendar {
  readonly name: CalendarName;
  /** Whether dates show a year 0 (else year 0 is shown as -1, as cftime does). */
  readonly hasYearZero: boolean;

  constructor(name: string | undefined, where?: string) {
    const key = (name ?? "standard").trim().toLowerCase();
    const found = ALIASES[key];
    if (!found) throw new TimeError(`unknown calendar "${name}" (CF calendars: ${Object.keys(ALIASES).join(", ")})`, where);
    this.name = found;
    this.hasYearZero = found !== "standard" && found !== "julian";
  }

  isLeap(year: number): boolean {
    switch (this.name) {
      case "noleap": case "360_day": case "none": return false;
      case "all_leap": return true;
      case "julian": return julianLeap(year);
      case "proleptic_gregorian": return gregorianLeap(year);
      default: return year < 1582 ? julianLeap(year) : gregorianLeap(year);
    }
  }

  daysInMonth(year: number, month: number): number {
    if (this.name === "360_day") return 30;
    if (this.name === "standard" && year === 1582 && month === 10) return 21; // 5–14 October never happened
    return month === 2 && this.isLeap(year) ? 29 : MONTH_DAYS[month - 1];
  }

  daysInYear(year: number): number {
    if (this.name === "360_day") return 360;
    if (this.name === "standard" && year === 1582) return 355;
    return this.isLeap(year) ? 366 : 365;
  }

  /** The day number of a date (astronomical year): consecutive days have consecutive numbers. */
  dayNumber(year: number, month: number, day: number): number {
    switch (this.name) {
      case "360_day": return year * 360 + (month - 1) * 30 + day - 1;
      case "noleap": return year * 365 + CUM_NOLEAP[month - 1] + day - 1;
      case "all_leap": return year * 366 + CUM_ALLLEAP[month - 1] + day - 1;
      case "none": return year * 365 + CUM_NOLEAP[month - 1] + day - 1;
      case "julian": return julianJdn(year, month, day);
      case "proleptic_gregorian": return gregorianJdn(year, month, day);
      default: {
        if (year > 1582 || (year === 1582 && (month > 10 || (month === 10 && day >= 15)))) return gregorianJdn(year, month, day);
        if (year === 1582 && month === 10 && day > 4) throw new TimeError(`${year}-10-${day} does not exist in the standard calendar (Julian until 1582-10-04, Gregorian from 1582-10-15)`);
        return julianJdn(year, month, day);
      }
    }
  }

  /** The date of a day number (astronomical year). */
  fromDayNumber(n: number): [number, number, number] {
    switch (this.name) {
      case "360_day": {
        const year = floorDiv(n, 360), r = n - year * 360;
        return [year, Math.floor(r / 30) + 1, (r % 30) + 1];
      }
      case "noleap": case "none": return fixedYear(n, 365, CUM_NOLEAP);
      case "all_leap": return fixedYear(n, 366, CUM_ALLLEAP);
      case "julian": return fromJulianJdn(n);
      case "proleptic_gregorian": return fromGregorianJdn(n);
      default: return n >= GREGORIAN_START ? fromGregorianJdn(n) : fromJulianJdn(n);
    }
  }

  /** A year as dates show it (no year 0 in the real-world calendars). */
  displayYear(year: number): number {
    return this.hasYearZero || year > 0 ? year : year - 1;
  }

  /** The astronomical year of a year as written. */
  astronomicalYear(year: number, where?: string): number {
    if (this.hasYearZero || year > 0) return year;
    if (year === 0) throw new TimeError(`year 0 does not exist in the ${this.name} calendar`, where);
    return year + 1;
  }
}

const cumulative = (days: number[]) => days.reduce<number[]>((acc, d, i) => (acc.push(i ? acc[i - 1] + days[i - 1] : 0), acc), []);
const CUM_NOLEAP = cumulative(MONTH_DAYS);
const CUM_ALLLEAP = cumulative(MONTH_DAYS.map((d, i) => (i === 1 ? 29 : d)));

function fixedYear(n: number, length: number, cum: number[]): [number, number, number] {
  const year = floorDiv(n, length);
  const r = n - year * length;
  let month = 12;
  while (cum[month - 1] > r) month--;
  return [year, month, r - cum[month - 1] + 1];
}

// Julian Day Numbers (Fliegel & Van Flandern, with floor division so that negative years work).
function gregorianJdn(y: number, m: number, d: number): number {
  const a = floorDiv(14 - m, 12), yy = y + 4800 - a, mm = m + 12 * a - 3;
  return d + floorDiv(153 * mm + 2, 5) + 365 * yy + floorDiv(yy, 4) - floorDiv(yy, 100) + floorDiv(yy, 400) - 32045;
}
function julianJdn(y: number, m: number, d: number): number {
  const a = floorDiv(14 - m, 12), yy = y + 4800 - a, mm = m + 12 * a - 3;
  return d + floorDiv(153 * mm + 2, 5) + 365 * yy + floorDiv(yy, 4) - 32083;
}
function fromGregorianJdn(j: number): [number, number, number] {
  const a = j + 32044, b = floorDiv(4 * a + 3, 146097), c = a - floorDiv(146097 * b, 4);
  const d = floorDiv(4 * c + 3, 1461), e = c - floorDiv(1461 * d, 4), m = floorDiv(5 * e + 2, 153);
  return [100 * b + d - 4800 + floorDiv(m, 10), m + 3 - 12 * floorDiv(m, 10), e - floorDiv(153 * m + 2, 5) + 1];
}
function fromJulianJdn(j: number): [number, number, number] {
  const c = j + 32082, d = floorDiv(4 * c + 3, 1461), e = c - floorDiv(1461 * d, 4), m = floorDiv(5 * e + 2, 153);
  return [d - 4800 + floorDiv(m, 10), m + 3 - 12 * floorDiv(m, 10), e - floorDiv(153 * m + 2, 5) + 1];
}
const GREGORIAN_START = gregorianJdn(1582, 10, 15);

const UNIT_SECONDS: Record<string, number> = {
  day: 86400, days: 86400, d: 86400,
  hour: 3600, hours: 3600, hr: 3600, hrs: 3600, h: 3600,
  minute: 60, minutes: 60, min: 60, mins: 60,
  second: 1, seconds: 1, sec: 1, secs: 1, s: 1,
};

/** Parsed `<unit> since <date>`. */
export interface TimeUnits {
  unit: "days" | "hours" | "minutes" | "seconds";
  /** Seconds per unit. */
  seconds: number;
  /** The reference date, as written (its year as written too). */
  reference: CFDate;
  /** The reference's time-zone offset in minutes (CF allows one; times are shifted to UTC). */
  offsetMinutes: number;
}

const UNITS = /^\s*([A-Za-z]+)\s+since\s+(-?\d{1,6})-(\d{1,2})-(\d{1,2})(?:[T\s]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?\s*$/i;

/** Parses CF time units. `months`/`years` are refused: UDUNITS makes them fixed lengths, not calendar months. */
export function parseTimeUnits(units: string, where?: string): TimeUnits {
  const m = UNITS.exec(units);
  if (!m) throw new TimeError(`time units "${units}" are not "<days|hours|minutes|seconds> since <yyyy-mm-dd[ hh:mm:ss]>"`, where);
  const word = m[1].toLowerCase();
  if (/^(months?|years?|common_years?)$/.test(word)) throw new TimeError(`time units "${units}": ${word} are fixed lengths in UDUNITS, not calendar ${word}; use days`, where);
  const seconds = UNIT_SECONDS[word];
  if (!seconds) throw new TimeError(`time units "${units}": unknown unit "${m[1]}" (days, hours, minutes or seconds)`, where);
  const unit = seconds === 86400 ? "days" : seconds === 3600 ? "hours" : seconds === 60 ? "minutes" : "seconds";
  const reference = { year: Number(m[2]), month: Number(m[3]), day: Number(m[4]), hour: Number(m[5] ?? 0), minute: Number(m[6] ?? 0), second: Number(m[7] ?? 0) };
  let offsetMinutes = 0;
  const zone = m[8]?.toUpperCase();
  if (zone && zone !== "Z" && zone !== "UTC") {
    const z = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
    offsetMinutes = (z[1] === "-" ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0));
  }
  return { unit, seconds, reference, offsetMinutes };
}

/**
 * A time axis's encoding: its units and calendar, and conversions between
 * values, dates and absolute seconds (seconds from 2000-01-01 in the
 * calendar, so that axes with different reference dates compare).
 */
export class TimeAxis {
  readonly calendar: Calendar;
  readonly units: TimeUnits;
  /** Absolute seconds of the reference date. */
  readonly origin: number;
  /** Absolute seconds count from 2000-01-01 of the calendar: near zero, they keep microseconds (from day 0 of the Julian period they would not). */
  private readonly epoch: number;

  constructor(units: string, calendar?: string, where?: string) {
    this.calendar = new Calendar(calendar, where);
    this.units = parseTimeUnits(units, where);
    this.epoch = this.calendar.dayNumber(2000, 1, 1);
    try {
      this.origin = this.secondsOf(this.units.reference) - this.units.offsetMinutes * 60;
    } catch (e) {
      throw new TimeError(`time units "${units}": ${(e as Error).message}`, where);
    }
  }

  /** The units string in the canonical form ("days since 1850-01-01 00:00:00"). */
  get unitsText(): string {
    const r = this.units.reference, p = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${this.units.unit} since ${r.year < 0 ? "-" + p(-r.year, 4) : p(r.year, 4)}-${p(r.month)}-${p(r.day)} ${p(r.hour)}:${p(r.minute)}:${p(Math.floor(r.second))}`;
  }

  /** Absolute seconds of a value on this axis. */
  seconds(value: number): number {
    return this.origin + value * this.units.seconds;
  }

  /** The value on this axis of absolute seconds (e.g. from another axis: re-basing). */
  value(seconds: number): number {
    return (seconds - this.origin) / this.units.seconds;
  }

  /** The date of absolute seconds, to the microsecond (as cftime), year as dates show it. */
  dateOf(seconds: number): CFDate {
    if (this.calendar.name === "none") throw new TimeError("calendar none: time values have no dates");
    const micro = Math.round(seconds * 1e6);
    const dayMicro = 86400e6;
    const day = Math.floor(micro / dayMicro);
    let rest = micro - day * dayMicro;
    const [y, month, d] = this.calendar.fromDayNumber(day + this.epoch);
    const hour = Math.floor(rest / 3600e6);
    rest -= hour * 3600e6;
    const minute = Math.floor(rest / 60e6);
    rest -= minute * 60e6;
    return { year: this.calendar.displayYear(y), month, day: d, hour, minute, second: rest / 1e6 };
  }

  /** The date of a value on this axis. */
  date(value: number): CFDate {
    return this.dateOf(this.seconds(value));
  }

  /** Absolute seconds of a date (year as dates show it). */
  secondsOf(date: Partial<CFDate> & { year: number }, where?: string): number {
    const cal = this.calendar;
    const year = cal.astronomicalYear(date.year, where), month = date.month ?? 1, day = date.day ?? 1;
    if (month < 1 || month > 12 || day < 1 || day > cal.daysInMonth(year, month)) throw new TimeError(`${date.year}-${month}-${day} does not exist in the ${cal.name} calendar`, where);
    return (cal.dayNumber(year, month, day) - this.epoch) * 86400 + (date.hour ?? 0) * 3600 + (date.minute ?? 0) * 60 + (date.second ?? 0);
  }

  /** The value on this axis of a date. */
  encode(date: Partial<CFDate> & { year: number }, where?: string): number {
    return this.value(this.secondsOf(date, where));
  }
}

/** Seasons as CDO names them; December belongs to the next year's DJF. */
export const SEASONS = ["DJF", "MAM", "JJA", "SON"] as const;
export const seasonOf = (month: number) => Math.floor((month % 12) / 3);
