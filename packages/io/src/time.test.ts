/** CF time units and calendars that cannot be decoded: a TimeError saying why, naming where. (Decoding itself is checked against cftime in packages/reduce/src/fixtures.test.ts.) */
import { describe, expect, it } from "vitest";
import { TimeAxis, TimeError } from "./time.ts";

describe("bad CF time", () => {
  it("is a TimeError naming the variable and what was expected", () => {
    const bad = (units: string, calendar?: string) => () => new TimeAxis(units, calendar, "f.nc: variable time");
    expect(bad("months since 1850-01-01")).toThrow(TimeError);
    expect(bad("months since 1850-01-01")).toThrow(/^f\.nc: variable time: time units "months since 1850-01-01": months are fixed lengths in UDUNITS/);
    expect(bad("days after 1850-01-01")).toThrow(/f\.nc: variable time: time units "days after 1850-01-01" are not "<days\|hours\|minutes\|seconds> since/);
    expect(bad("fortnights since 1850-01-01")).toThrow(/unknown unit "fortnights"/);
    expect(bad("days since 1850-01-01", "mayan")).toThrow(/f\.nc: variable time: unknown calendar "mayan"/);
    expect(bad("days since 1850-02-30", "noleap")).toThrow(/f\.nc: variable time: time units "days since 1850-02-30": 1850-2-30 does not exist in the noleap calendar/);
    expect(bad("days since 1582-10-10", "standard")).toThrow(/does not exist in the standard calendar/);
    expect(() => new TimeAxis("days since 1850-01-01", "none").date(0)).toThrow(/calendar none: time values have no dates/);
  });
});
