/** Pure logic of the volunteer's and supervisor's screens, kept apart from React so Vitest checks it. */
import type {
  ApplicationRow,
  FieldDef,
  FieldValue,
  Overview,
  QueueItem,
  Sensitive,
  Service,
  Status,
  SyncProgress,
  Text,
} from "./api";
import { chinaDayStart, formatDate, formatDateTime, formatRecent } from "./dates";
import type { Language } from "./i18n";

/** Items as a list in the UI language ("甲、乙和丙", "A, B and C"). */
export function listOf(items: string[], lang: string): string {
  return new Intl.ListFormat(lang === "en" ? "en" : "zh-CN", { style: "long", type: "conjunction" }).format(items);
}

/** A catalog text in the UI's language. */
export function tx(text: Text | null | undefined, lang: string): string {
  if (!text) return "";
  return lang === "en" ? text.en : text["zh-CN"];
}

/** One step of the volunteer's form: a titled group of fields and attachment slots. */
export interface FormStep {
  title: Text;
  fields: string[];
  attachments: string[];
}

/**
 * The steps of a service's form: its guided steps that name fields or attachments, in
 * order (the catalog shows each field and attachment on exactly one step). The last
 * screen (check and submit) is the form's own.
 */
export function formSteps(service: Service): FormStep[] {
  const fieldKeys = new Set(service.fields.map((f) => f.key));
  const slotKeys = new Set(service.attachments.map((a) => a.key));
  return service.steps
    .map((step) => ({
      title: step.title,
      fields: step.fields.filter((k) => fieldKeys.has(k)),
      attachments: step.fields.filter((k) => slotKeys.has(k)),
    }))
    .filter((step) => step.fields.length + step.attachments.length > 0);
}

/**
 * A step as the volunteer names it: the labels of what it asks for ("养老金类型、账户").
 * The catalog's step titles speak to the resident ("请看一下您的养老金信息").
 */
export function staffStepTitle(service: Service, keys: string[], lang: string): string {
  // Without the explanations in brackets: "养老金发放账户（银行卡号或社保卡号）" → "养老金发放账户".
  const label = (key: string) =>
    tx(service.fields.find((f) => f.key === key)?.label ?? service.attachments.find((a) => a.key === key)?.label, lang)
      .replace(/\s*[（(][^）)]*[）)]/g, "")
      .trim();
  return keys
    .map(label)
    .filter((l) => l !== "")
    .join(lang === "en" ? ", " : "、");
}

/** A field holding a personal number, which the device sends masked unless revealed. */
export function isMaskedField(def: FieldDef): boolean {
  return def.masked === true || def.type === "phone" || def.type === "id_number";
}

/** What an input shows for a stored value. */
export function inputText(value: FieldValue | undefined): string {
  if (!value) return "";
  switch (value.type) {
    case "text":
      return value.value;
    case "int":
    case "time":
      return String(value.value);
    case "bool":
      return value.value ? "true" : "false";
    default:
      return "";
  }
}

/** A value as a person reads it: choices by label, yes/no in words. */
export function displayValue(
  value: FieldValue | undefined,
  def: FieldDef | undefined,
  lang: string,
  yesNo: { yes: string; no: string },
): string {
  if (!value || value.type === "null") return "";
  if (value.type === "bool") return value.value ? yesNo.yes : yesNo.no;
  if (def?.type === "choice" && value.type === "text") {
    const option = def.options.find((o) => o.value === value.value);
    if (option) return tx(option.label, lang);
  }
  if (def?.type === "date" && value.type === "text") return formatDate(value.value, lang);
  if (value.type === "time") return formatDateTime(value.value, lang);
  return inputText(value);
}

/** Resident and authorization fields, outside any catalog, that hold a "YYYY-MM-DD" date. */
const DATE_RECORD_FIELDS = ["birth_date", "valid_from", "valid_to", "due"];

/** Whether a record field outside the catalog holds a calendar date. */
export function isDateRecordField(field: string): boolean {
  return DATE_RECORD_FIELDS.includes(field);
}

/** How long a decided application stays on the home screen. */
export const DECIDED_SHOWN_MS = 14 * 24 * 3600 * 1000;

/**
 * The home screen's lists: drafts to finish, returned ones to fix, those awaiting review,
 * and those a supervisor decided (approved, not approved, filed) in the last two weeks,
 * newest first, so that the volunteer can tell the resident.
 */
export function todaysWork(
  rows: ApplicationRow[],
  now: number,
): {
  drafts: ApplicationRow[];
  returned: ApplicationRow[];
  awaiting: ApplicationRow[];
  decided: ApplicationRow[];
} {
  return {
    drafts: rows.filter((r) => r.status === "draft"),
    returned: rows.filter((r) => r.status === "returned"),
    awaiting: rows.filter((r) => r.status === "submitted"),
    decided: rows
      .filter((r) => ["approved", "rejected", "filed"].includes(r.status) && now - r.updated_at < DECIDED_SHOWN_MS)
      .sort((a, b) => b.updated_at - a.updated_at),
  };
}

/** Whole seconds to wait, rounded up, for a PIN refusal's wait. */
export function waitSeconds(waitMs: number): number {
  return Math.max(0, Math.ceil(waitMs / 1000));
}

/** A local calendar date as `YYYY-MM-DD`. */
export function ymd(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The same day `years` later (28 Feb for 29 Feb in a common year). */
export function addYears(date: Date, years: number): Date {
  const out = new Date(date.getFullYear() + years, date.getMonth(), date.getDate());
  if (out.getMonth() !== date.getMonth()) out.setDate(0);
  return out;
}

/** A time for the status line: today as hh:mm, other days with the date (see dates.ts). */
export function shortTime(ms: number, now: number, lang: Language | string): string {
  return formatRecent(ms, now, lang);
}

/**
 * Saves form fields as the volunteer types: each field's latest text is saved
 * `delayMs` after the last keystroke in it (well within a second), or at once by
 * `flush()` (leaving a step, submitting). Saves of one field never overlap.
 */
export class DraftSaver {
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  private pending = new Map<string, string>();
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly save: (key: string, text: string) => Promise<void>,
    private readonly delayMs = 300,
  ) {}

  /** Notes that `key` now holds `text`. */
  typed(key: string, text: string): void {
    this.pending.set(key, text);
    const old = this.timers.get(key);
    if (old !== undefined) clearTimeout(old);
    this.timers.set(
      key,
      setTimeout(() => {
        void this.saveKey(key);
      }, this.delayMs),
    );
  }

  private saveKey(key: string): Promise<void> {
    this.timers.delete(key);
    const text = this.pending.get(key);
    if (text === undefined) return this.running;
    this.pending.delete(key);
    this.running = this.running.then(() => this.save(key, text)).catch(() => undefined);
    return this.running;
  }

  /** Saves everything typed and not saved yet; resolves when all saves are done. */
  async flush(): Promise<void> {
    for (const [key, timer] of this.timers) {
      clearTimeout(timer);
      this.timers.delete(key);
      void this.saveKey(key);
    }
    await this.running;
  }

  /** Whether some typing has not been saved yet. */
  get dirty(): boolean {
    return this.pending.size > 0;
  }
}

/**
 * Calls `onIdle` once when `idleMs` pass without `activity()`. The caller wires
 * activity to the window's input events.
 */
export class IdleTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly onIdle: () => void,
  ) {
    this.activity();
  }

  activity(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(this.onIdle, this.idleMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A sync's progress as a bar's value and maximum (no value: not known ahead), and the label's numbers. */
export function progressBar(p: SyncProgress): { value: number | undefined; max: number; doneMb: string; totalMb: string } {
  const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
  if (p.total <= 0) return { value: undefined, max: 1, doneMb: "", totalMb: "" };
  return { value: Math.min(p.done, p.total), max: p.total, doneMb: mb(p.done), totalMb: mb(p.total) };
}

/** One screen of resident mode. */
export type ResidentScreen =
  | { kind: "welcome" }
  | { kind: "step"; index: number }
  | { kind: "consent"; data: Sensitive }
  | { kind: "done" };

/**
 * Resident mode's screens, one question each: who is helping, the catalog's guided steps
 * (the first says what is applied for), a consent screen for each kind of sensitive data
 * before the last step (what happens next), and handing the tablet back.
 */
export function residentScreens(service: Service, sensitiveKinds: Sensitive[]): ResidentScreen[] {
  const steps = service.steps.map((_, index) => ({ kind: "step", index }) as const);
  const consents = sensitiveKinds.map((data) => ({ kind: "consent", data }) as const);
  const last = steps.length > 1 ? steps.slice(-1) : [];
  const middle = steps.length > 1 ? steps.slice(0, -1) : steps;
  return [{ kind: "welcome" }, ...middle, ...consents, ...last, { kind: "done" }];
}

/** The three text sizes of resident mode, in CSS pixels of body text (18 pt is 24 px). */
export const RESIDENT_TEXT_SIZES = [24, 32, 40] as const;
export const DEFAULT_RESIDENT_TEXT_SIZE = 1;

/**
 * How resident mode opens for a resident with these needs: poor eyesight gets the
 * largest text, read aloud; poor hearing the largest text (reading replaces listening).
 * Otherwise the tablet's last settings stand.
 */
export function settingsForNeeds(
  needs: { hearing: boolean; vision: boolean },
  current: { size: number; autoRead: boolean },
): { size: number; autoRead: boolean } {
  const largest = RESIDENT_TEXT_SIZES.length - 1;
  return {
    size: needs.vision || needs.hearing ? largest : current.size,
    autoRead: needs.vision ? true : current.autoRead,
  };
}

/** Submitted applications by service, each group oldest first, groups in catalog order. */
export function queueByService(items: QueueItem[], services: Service[]): [string, QueueItem[]][] {
  const groups = new Map<string, QueueItem[]>();
  const order = services.map((s) => s.code);
  const sorted = [...items].sort((a, b) => a.submitted_at - b.submitted_at || a.id.localeCompare(b.id));
  for (const item of sorted) {
    const list = groups.get(item.service) ?? [];
    list.push(item);
    groups.set(item.service, list);
  }
  const rank = (code: string) => (order.includes(code) ? order.indexOf(code) : order.length);
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * A range of whole days in China as times for a filter: from the start of `from` to the
 * start of the day after `to`; an empty or unreadable date leaves that end open.
 */
export function dayRange(from: string, to: string): { from: number | null; to: number | null } {
  const start = (text: string, plusDays: number): number | null => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
    if (!m) return null;
    const ms = chinaDayStart(Number(m[1]), Number(m[2]), Number(m[3]) + plusDays);
    return Number.isNaN(ms) ? null : ms;
  };
  return { from: start(from, 0), to: start(to, 1) };
}

/** A percentage for a progress bar, or undefined while the total is not known. */
export function percent(done: number, total: number): number | undefined {
  if (total <= 0) return undefined;
  return Math.round((Math.min(done, total) / total) * 100);
}

/** The overview's counts as rows per committee and service, one number per status. */
export function countsTable(
  counts: Overview["counts"],
): { committee: string; service: string; byStatus: Partial<Record<Status, number>>; total: number }[] {
  const rows = new Map<string, { committee: string; service: string; byStatus: Partial<Record<Status, number>>; total: number }>();
  for (const c of counts) {
    const key = `${c.committee}\u0000${c.service}`;
    const row = rows.get(key) ?? { committee: c.committee, service: c.service, byStatus: {}, total: 0 };
    row.byStatus[c.status] = (row.byStatus[c.status] ?? 0) + c.count;
    row.total += c.count;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.committee.localeCompare(b.committee) || a.service.localeCompare(b.service));
}

/** Every status an application can have, in the order of its life. */
export const STATUSES: Status[] = ["draft", "submitted", "returned", "approved", "rejected", "filed"];
