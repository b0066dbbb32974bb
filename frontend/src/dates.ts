//! Dates and times as the UI language writes them, for every screen.
//!
//! Chinese: "2026年12月1日" and "2026年12月1日 05:07"; English: "1 Dec 2026" and
//! "1 Dec 2026, 05:07". Times are always on the 24-hour clock.
//!
//! A date comes either as a calendar date, "YYYY-MM-DD" text (shown as it is written: no
//! timezone can move it to another day), or as epoch milliseconds, shown in China
//! Standard Time (UTC+8, no daylight saving), where Doorstep is used: the same clock as
//! the receipts, the export file names and the device's "today", whatever timezone the
//! tablet was set to. Unknown language codes are written the Chinese way, the app's default.
//!
//! The strings are built here rather than by `Intl.DateTimeFormat`: its English forms
//! differ between ICU versions (WebKitGTK's "Sept" for September, "at" before the time),
//! and the same words on every device keep screenshots and the user guide right.

/** A calendar date's parts: month 1–12, day 1–31. */
export interface Ymd {
  year: number;
  month: number;
  day: number;
}

const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pad2 = (n: number) => String(n).padStart(2, "0");

function isEnglish(lang: string): boolean {
  return lang.toLowerCase().startsWith("en");
}

/** Whether the parts name a day that exists (29 Feb only in leap years). */
export function isRealDate(parts: Ymd): boolean {
  const { year, month, day } = parts;
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= days;
}

/** The parts of exactly "YYYY-MM-DD" naming a real day; otherwise null. */
export function parseYmd(text: string): Ymd | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const parts = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  return isRealDate(parts) ? parts : null;
}

/** The parts as "YYYY-MM-DD". */
export function toYmd(parts: Ymd): string {
  return `${String(parts.year).padStart(4, "0")}-${pad2(parts.month)}-${pad2(parts.day)}`;
}

/** China Standard Time's offset from UTC. */
const CHINA_OFFSET_MS = 8 * 3600 * 1000;

/** The calendar date and time of a moment in China Standard Time. */
function localParts(ms: number): { date: Ymd; hours: number; minutes: number } | null {
  const d = new Date(ms + CHINA_OFFSET_MS);
  if (Number.isNaN(d.getTime())) return null;
  return {
    date: { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() },
    hours: d.getUTCHours(),
    minutes: d.getUTCMinutes(),
  };
}

function writeDate(parts: Ymd, lang: string): string {
  return isEnglish(lang)
    ? `${parts.day} ${MONTHS_EN[parts.month - 1]} ${parts.year}`
    : `${parts.year}年${parts.month}月${parts.day}日`;
}

/** A time of day as "05:07" (24-hour, both languages). */
export function formatTime(ms: number): string {
  const local = localParts(ms);
  return local ? `${pad2(local.hours)}:${pad2(local.minutes)}` : "";
}

/**
 * A date in the UI language: "2026年12月1日" or "1 Dec 2026". Text that is not a real
 * "YYYY-MM-DD" day is returned as it is, so nothing stored is hidden.
 */
export function formatDate(value: string | number, lang: string): string {
  if (typeof value === "string") {
    const parts = parseYmd(value.trim());
    return parts ? writeDate(parts, lang) : value;
  }
  const local = localParts(value);
  return local ? writeDate(local.date, lang) : "";
}

/**
 * A moment in the UI language: "2026年12月1日 05:07" or "1 Dec 2026, 05:07". A
 * "YYYY-MM-DD" text has no time of day and is written as a date.
 */
export function formatDateTime(value: string | number, lang: string): string {
  if (typeof value === "string") return formatDate(value, lang);
  const local = localParts(value);
  if (!local) return "";
  const time = `${pad2(local.hours)}:${pad2(local.minutes)}`;
  return isEnglish(lang) ? `${writeDate(local.date, lang)}, ${time}` : `${writeDate(local.date, lang)} ${time}`;
}

/** A moment for a status line: only the time when it was on `now`'s day, else date and time. */
export function formatRecent(ms: number, now: number, lang: string): string {
  const a = localParts(ms);
  const b = localParts(now);
  const sameDay = a !== null && b !== null && toYmd(a.date) === toYmd(b.date);
  return sameDay ? formatTime(ms) : formatDateTime(ms, lang);
}

/** The moment a day begins in China, for "YYYY-MM-DD" parts (the day may overflow). */
export function chinaDayStart(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) - CHINA_OFFSET_MS;
}

/** Today in China as a `Date` whose local year, month and day are China's (for date arithmetic). */
export function chinaToday(now: number = Date.now()): Date {
  const local = localParts(now);
  return local ? new Date(local.date.year, local.date.month - 1, local.date.day) : new Date(now);
}

/** Today's date in China as "YYYY-MM-DD". */
export function todayYmd(now: number = Date.now()): string {
  const local = localParts(now);
  return local ? toYmd(local.date) : "";
}

/**
 * The text a three-part date entry stands for: "" when all parts are empty, "YYYY-MM-DD"
 * (month and day zero-padded) when the parts are a 4-digit year and 1–2 digit month and
 * day, otherwise the parts exactly as typed, joined by "-" (e.g. "2027-1-").
 */
export function joinDateParts(year: string, month: string, day: string): string {
  if (year === "" && month === "" && day === "") return "";
  if (/^\d{4}$/.test(year) && /^\d{1,2}$/.test(month) && /^\d{1,2}$/.test(day)) {
    return `${year}-${month.padStart(2, "0")}-${day.padStart(2, "0")}`;
  }
  return `${year}-${month}-${day}`;
}

/**
 * The three parts of a date text, so that `joinDateParts` gives the text back. A complete
 * date's month and day lose their leading zero ("2027-01-05" gives 2027, 1, 5), as people
 * write them.
 */
export function splitDateParts(text: string): [string, string, string] {
  if (text === "") return ["", "", ""];
  const [year = "", month = "", day = ""] = text.split("-");
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return [year, String(Number(month)), String(Number(day))];
  return [year, month, day];
}

/** What is wrong with a complete date text: not a real day, or after `max`; null when fine or not complete. */
export function dateProblem(text: string, max?: string): "not_a_day" | "after_max" | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  if (!parseYmd(text)) return "not_a_day";
  if (max && parseYmd(max) && text > max) return "after_max";
  return null;
}

/**
 * The month of a "YYYY-MM-DD" date in the UI language: "2026年12月" or "Dec 2026". Text
 * that is not a real day is returned as it is.
 */
export function formatMonth(value: string, lang: string): string {
  const parts = parseYmd(value.trim());
  if (!parts) return value;
  return isEnglish(lang) ? `${MONTHS_EN[parts.month - 1]} ${parts.year}` : `${parts.year}年${parts.month}月`;
}
