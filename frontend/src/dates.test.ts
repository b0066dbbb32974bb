import { describe, expect, it } from "vitest";

import {
  dateProblem,
  formatDate,
  formatDateTime,
  formatRecent,
  formatTime,
  isRealDate,
  joinDateParts,
  parseYmd,
  splitDateParts,
  todayYmd,
} from "./dates";

/** A moment given by its time in China (UTC+8), as the screens show it. */
const chinaTime = (y: number, mo: number, d: number, h: number, mi: number, s = 0) =>
  Date.UTC(y, mo, d, h - 8, mi, s);

// Moments are built from local parts, so the expectations hold in any timezone.
const MOMENT = chinaTime(2026, 11, 1, 5, 7, 45);

describe("formatDate", () => {
  it("writes a calendar date in the UI language, without moving it a day", () => {
    expect(formatDate("2026-12-01", "zh-CN")).toBe("2026年12月1日");
    expect(formatDate("2026-12-01", "en")).toBe("1 Dec 2026");
    expect(formatDate("1945-08-15", "en")).toBe("15 Aug 1945");
    expect(formatDate("2027-01-31", "zh-CN")).toBe("2027年1月31日");
  });

  it("writes a moment's local date", () => {
    expect(formatDate(MOMENT, "zh-CN")).toBe("2026年12月1日");
    expect(formatDate(MOMENT, "en")).toBe("1 Dec 2026");
  });

  it("shows text that is not a real date as it is", () => {
    expect(formatDate("2027-02-30", "zh-CN")).toBe("2027-02-30");
    expect(formatDate("2027-1-", "en")).toBe("2027-1-");
    expect(formatDate("", "en")).toBe("");
    expect(formatDate(Number.NaN, "en")).toBe("");
  });

  it("writes unknown languages the Chinese way", () => {
    expect(formatDate("2026-12-01", "fr")).toBe("2026年12月1日");
    expect(formatDate("2026-12-01", "en-GB")).toBe("1 Dec 2026");
  });
});

describe("formatDateTime", () => {
  it("writes date and 24-hour time", () => {
    expect(formatDateTime(MOMENT, "zh-CN")).toBe("2026年12月1日 05:07");
    expect(formatDateTime(MOMENT, "en")).toBe("1 Dec 2026, 05:07");
    const evening = chinaTime(2026, 5, 9, 17, 30);
    expect(formatDateTime(evening, "en")).toBe("9 Jun 2026, 17:30");
    expect(formatTime(evening)).toBe("17:30");
  });

  it("writes a calendar date text as a date", () => {
    expect(formatDateTime("2026-12-01", "en")).toBe("1 Dec 2026");
  });
});

describe("formatRecent", () => {
  it("shows only the time on the same day, date and time on another", () => {
    const later = chinaTime(2026, 11, 1, 23, 59);
    const nextDay = chinaTime(2026, 11, 2, 0, 1);
    expect(formatRecent(MOMENT, later, "zh-CN")).toBe("05:07");
    expect(formatRecent(MOMENT, nextDay, "zh-CN")).toBe("2026年12月1日 05:07");
    expect(formatRecent(MOMENT, nextDay, "en")).toBe("1 Dec 2026, 05:07");
  });
});

describe("calendar dates", () => {
  it("knows which days exist", () => {
    expect(isRealDate({ year: 2024, month: 2, day: 29 })).toBe(true);
    expect(isRealDate({ year: 2025, month: 2, day: 29 })).toBe(false);
    expect(isRealDate({ year: 1900, month: 2, day: 29 })).toBe(false);
    expect(isRealDate({ year: 2000, month: 2, day: 29 })).toBe(true);
    expect(isRealDate({ year: 2026, month: 4, day: 31 })).toBe(false);
    expect(isRealDate({ year: 2026, month: 13, day: 1 })).toBe(false);
    expect(parseYmd("2026-12-01")).toEqual({ year: 2026, month: 12, day: 1 });
    expect(parseYmd("2026-12-1")).toBeNull();
  });

  it("gives today's local date", () => {
    expect(todayYmd(MOMENT)).toBe("2026-12-01");
  });
});

describe("three-part entry", () => {
  it("zero-pads complete parts and keeps incomplete ones as typed", () => {
    expect(joinDateParts("2027", "1", "5")).toBe("2027-01-05");
    expect(joinDateParts("2027", "12", "31")).toBe("2027-12-31");
    expect(joinDateParts("2027", "1", "")).toBe("2027-1-");
    expect(joinDateParts("202", "1", "5")).toBe("202-1-5");
    expect(joinDateParts("", "", "")).toBe("");
    expect(splitDateParts("2027-1-")).toEqual(["2027", "1", ""]);
    expect(splitDateParts("2027-01-05")).toEqual(["2027", "1", "5"]);
    expect(splitDateParts("2027-00-05")).toEqual(["2027", "0", "5"]);
    expect(joinDateParts(...splitDateParts("2027-01-05"))).toBe("2027-01-05");
    expect(splitDateParts("")).toEqual(["", "", ""]);
  });

  it("names what is wrong with a complete date", () => {
    expect(dateProblem("2027-02-30")).toBe("not_a_day");
    expect(dateProblem("2027-01-05", "2026-12-01")).toBe("after_max");
    expect(dateProblem("2026-12-01", "2026-12-01")).toBeNull();
    expect(dateProblem("2027-1-", "2026-12-01")).toBeNull();
  });
});
