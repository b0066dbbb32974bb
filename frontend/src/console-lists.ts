/** Pure logic of the supervisor's lists (applications, sync log, devices), kept apart from React for Vitest. */
import type { ApplicationRow, Author, DeviceInfo, FieldChange, FieldValue, LogEntry, ReviewEvent, Status } from "./api";
import { STATUSES } from "./logic";

/** The filters of the applications list: "" means any. */
export interface ApplicationFilter {
  status: Status | "";
  service: string;
}

/** Whether a text names an application status. */
export function isStatus(value: unknown): value is Status {
  return typeof value === "string" && (STATUSES as string[]).includes(value);
}

/** The applications that pass the filter, the most recently changed first. */
export function filterApplications(rows: ApplicationRow[], filter: ApplicationFilter): ApplicationRow[] {
  return rows
    .filter((r) => (filter.status === "" || r.status === filter.status) && (filter.service === "" || r.service === filter.service))
    .sort((a, b) => b.updated_at - a.updated_at || b.created_at - a.created_at || a.id.localeCompare(b.id));
}

/** How many applications of `service` ("" for any) have each status. */
export function countByStatus(rows: ApplicationRow[], service: string): Record<Status, number> {
  const out = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const r of rows) {
    if (service !== "" && r.service !== service) continue;
    if (isStatus(r.status)) out[r.status] += 1;
  }
  return out;
}

/** The first characters of a device id, when nothing better names the device. */
export function shortId(id: string): string {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

/** A device as people name it: its person and label ("志愿者甲 · 平板 3"), or a short id if unknown. */
export function deviceName(devices: DeviceInfo[], id: string): string {
  const d = devices.find((x) => x.device_id === id);
  if (!d) return shortId(id);
  const parts = [d.name, d.label].map((p) => p.trim()).filter((p) => p !== "");
  return parts.length > 0 ? parts.join(" · ") : shortId(id);
}

const byText = (a: string, b: string) => a.localeCompare(b, "zh-CN");

/**
 * The volunteer filter's choices: the people of the committees' devices and any other
 * name the log entries shown carry (the log keeps the name a device synced under), each
 * once, in order.
 */
export function volunteerChoices(devices: DeviceInfo[], logged: string[] = []): string[] {
  const names = [...devices.map((d) => d.name), ...logged].map((n) => n.trim()).filter((n) => n !== "");
  return [...new Set(names)].sort(byText);
}

/** The devices as choices of the device filter, by person and label. */
export function deviceChoices(devices: DeviceInfo[]): { value: string; label: string }[] {
  const named = devices.map((d) => ({ value: d.device_id, label: deviceName(devices, d.device_id) }));
  // Two devices of one person with one label are told apart by their ids.
  const twice = (label: string) => named.filter((n) => n.label === label).length > 1;
  return named
    .map((n) => (twice(n.label) ? { ...n, label: `${n.label} (${shortId(n.value)})` } : n))
    .sort((a, b) => byText(a.label, b.label) || a.value.localeCompare(b.value));
}

/** What a log entry moved: records and their changes sent up by the device, records sent down to it. */
export function entryCounts(entry: Pick<LogEntry, "received" | "sent">): {
  up: number;
  upChanges: number;
  down: number;
  downChanges: number;
} {
  const changes = (docs: LogEntry["received"]) => docs.reduce((n, d) => n + d.hashes.length, 0);
  return {
    up: entry.received.length,
    upChanges: changes(entry.received),
    down: entry.sent.length,
    downChanges: changes(entry.sent),
  };
}

/**
 * The field changes worth listing: those whose before and after read differently (an
 * empty field written empty reads "（空）→（空）"). A field whose reading hides its value
 * (`opaque`, a signature shown as "signature image") is listed when the value changed.
 */
export function visibleChanges(
  fields: FieldChange[],
  shown: (f: FieldChange, side: "from" | "to") => string,
  opaque: (field: string) => boolean = () => false,
): FieldChange[] {
  const blank = (v: FieldValue | null) => !v || v.type === "null" || (v.type === "text" && v.value === "");
  const rawDiffers = (f: FieldChange) =>
    !(blank(f.from) && blank(f.to)) && JSON.stringify(f.from ?? null) !== JSON.stringify(f.to ?? null);
  return fields.filter((f) => shown(f, "from") !== shown(f, "to") || (opaque(f.field) && rawDiffers(f)));
}

/**
 * How one field's change reads: "before → after", or only the value when the field did
 * not exist before (a new record's fields, a field set for the first time), rather than
 * "（未填）→ value" for every field of every new record.
 */
export function changeText(f: FieldChange, shown: (side: "from" | "to") => string): string {
  return f.from === null ? shown("to") : `${shown("from")} → ${shown("to")}`;
}

/** Change notes (`Author.what`) that record an application event. */
const EVENT_KINDS: ReadonlyArray<ReviewEvent["kind"]> = ["submitted", "returned", "approved", "rejected", "filed", "consent", "reopened"];

/** Whether a change's note says it recorded an application event (a decision, a consent). */
export function isEventChange(author: Pick<Author, "what">): boolean {
  return (EVENT_KINDS as string[]).includes(author.what);
}

/**
 * The event a change recorded: the device writes the event and commits the change with
 * the same kind and time, by the same person.
 */
export function eventOfChange(events: ReviewEvent[], author: Author): ReviewEvent | null {
  if (!isEventChange(author)) return null;
  const same = events.filter((e) => e.kind === author.what && e.at === author.at);
  return same.find((e) => e.by === author.volunteer) ?? same[0] ?? null;
}

/** Devices in use first, the most recently synced first (never synced last); revoked ones after, latest revoked first. */
export function sortDevices<D extends DeviceInfo>(devices: D[]): D[] {
  const last = (ms: number | null) => ms ?? Number.NEGATIVE_INFINITY;
  return [...devices].sort((a, b) => {
    const ra = a.revoked_at !== null;
    const rb = b.revoked_at !== null;
    if (ra !== rb) return ra ? 1 : -1;
    if (ra && rb) return last(b.revoked_at) - last(a.revoked_at) || byText(a.name, b.name);
    const diff = last(b.last_sync_at) - last(a.last_sync_at);
    return (Number.isNaN(diff) ? 0 : diff) || byText(a.name, b.name) || a.device_id.localeCompare(b.device_id);
  });
}
