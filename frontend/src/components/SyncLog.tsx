import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type ChainState,
  type Committee,
  type DeviceView,
  type HistoryEntry,
  type LogEntry,
  type LogFilter,
  type RecordChanges,
  type ReviewEvent,
  type Service,
  type UiError,
  toUiError,
} from "../api";
import {
  changeText,
  deviceChoices,
  deviceName,
  entryCounts,
  eventOfChange,
  isEventChange,
  visibleChanges,
  volunteerChoices,
} from "../console-lists";
import { errorText } from "../errors";
import { formatDate, formatDateTime } from "../dates";
import { dayRange, displayValue, isDateRecordField, tx } from "../logic";
import type { ScreenProps } from "./App";
import { CommitteeSelect } from "./CommitteeSelect";
import { LogEvidenceList } from "./LogEvidenceList";
import { DateField } from "./DateField";

const PAGE = 30;

/** The sync log of the supervisor's committees, newest first, with the chain's state. */
export function SyncLog({ api, generation }: ScreenProps) {
  const { t } = useTranslation();
  const [committees, setCommittees] = useState<Committee[]>([]);
  const [chains, setChains] = useState<ChainState[] | null>(null);
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [services, setServices] = useState<Service[]>([]);
  const [devices, setDevices] = useState<DeviceView[]>([]);
  const [error, setError] = useState<UiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [form, setForm] = useState({ committee: "", volunteer: "", device: "", from: "", to: "", conflictsOnly: false });

  const filter = useCallback((): LogFilter => {
    const range = dayRange(form.from, form.to);
    return {
      committee: form.committee || null,
      volunteer: form.volunteer.trim() || null,
      device: form.device.trim() || null,
      from: range.from,
      to: range.to,
      conflicts_only: form.conflictsOnly,
      before: null,
      limit: PAGE,
    };
  }, [form]);

  const search = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      const [page, chain] = await Promise.all([api.logPage(filter()), api.chainStates()]);
      setEntries(page.entries);
      setNext(page.next_before);
      setChains(chain);
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setLoading(false);
    }
  }, [api, filter]);

  useEffect(() => {
    api.consoleCommittees().then(setCommittees, () => undefined);
    api.services().then(setServices, () => undefined);
    // The filters' people and devices; without them the log still shows (by short ids).
    api.enrolledDevices().then(setDevices, () => undefined);
  }, [api]);

  // First load, and again after a sync brought something (the filters stay).
  useEffect(() => void search(), [generation]);

  const more = async () => {
    if (next === null) return;
    setLoading(true);
    try {
      const page = await api.logPage({ ...filter(), before: next });
      setEntries((e) => [...e, ...page.entries]);
      setNext(page.next_before);
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setLoading(false);
    }
  };

  const committeeName = (id: string) => committees.find((c) => c.id === id)?.name ?? id;
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));
  const volunteers = volunteerChoices(devices, [...entries.map((e) => e.volunteer), form.volunteer]);
  const deviceOptions = deviceChoices(devices);
  return (
    <section aria-labelledby="log-title">
      <h2 id="log-title" tabIndex={-1}>
        {t("log.title")}
      </h2>
      <ul className="plain-list" id="chain-states" aria-label={t("log.chain")}>
        {(chains ?? []).map((c) => (
          <li key={c.committee} data-committee={c.committee} className={c.broken ? "chain-broken error-banner" : "chain-ok saved"}>
            {c.broken
              ? t("log.chainBroken", { committee: committeeName(c.committee), seq: c.broken.seq })
              : t("log.chainOk", { committee: committeeName(c.committee), count: c.entries })}
          </li>
        ))}
      </ul>
      <LogEvidenceList api={api} generation={generation} committeeName={committeeName} />
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <CommitteeSelect
          id="log-committee"
          committees={committees}
          value={form.committee}
          onChange={(committee) => set({ committee })}
          emptyLabel={t("log.all")}
        />
        <label>
          {t("log.volunteer")}
          <select id="log-volunteer" value={form.volunteer} onChange={(e) => set({ volunteer: e.target.value })}>
            <option value="">{t("log.all")}</option>
            {volunteers.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("log.device")}
          <select id="log-device" value={form.device} onChange={(e) => set({ device: e.target.value })}>
            <option value="">{t("log.all")}</option>
            {deviceOptions.map((d) => (
              <option key={d.value} value={d.value}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        <div className="filter-date">
          <span id="log-from-label">{t("log.from")}</span>
          <DateField id="log-from" value={form.from} onChange={(from) => set({ from })} labelledBy="log-from-label" />
        </div>
        <div className="filter-date">
          <span id="log-to-label">{t("log.to")}</span>
          <DateField id="log-to" value={form.to} onChange={(to) => set({ to })} labelledBy="log-to-label" />
        </div>
        <label className="check">
          <input
            id="log-conflicts"
            type="checkbox"
            checked={form.conflictsOnly}
            onChange={(e) => set({ conflictsOnly: e.target.checked })}
          />
          {t("log.conflictsOnly")}
        </label>
        <button id="log-search" type="submit" className="primary" disabled={loading}>
          {t("log.search")}
        </button>
      </form>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      {!loading && entries.length === 0 && !error ? <p className="empty">{t("log.empty")}</p> : null}
      {entries.length > 0 && !error ? (
        <p id="log-proved" className="saved">
          {t("log.proved")}
        </p>
      ) : null}
      <ol className="plain-list" id="log-entries">
        {entries.map((entry) => (
          <LogEntryRow
            key={`${entry.committee}-${entry.seq}`}
            entry={entry}
            api={api}
            services={services}
            devices={devices}
            committee={committeeName(entry.committee)}
            broken={chains?.find((c) => c.committee === entry.committee)?.broken?.seq === entry.seq}
          />
        ))}
      </ol>
      {next !== null ? (
        <button id="log-more" type="button" className="secondary" disabled={loading} onClick={() => void more()}>
          {t("log.more")}
        </button>
      ) : null}
    </section>
  );
}

function LogEntryRow(props: {
  entry: LogEntry;
  api: ScreenProps["api"];
  services: Service[];
  devices: DeviceView[];
  committee: string;
  broken: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { entry } = props;
  const [open, setOpen] = useState(false);
  const [records, setRecords] = useState<RecordChanges[] | null>(null);
  const [events, setEvents] = useState<Record<string, ReviewEvent[]>>({});
  const [error, setError] = useState<UiError | null>(null);

  const toggle = async () => {
    setOpen((o) => !o);
    if (records || open) return;
    try {
      const found = await props.api.logEntryRecords(entry);
      setRecords(found);
      // A decision's comment is in the application's events, not in the change's fields.
      const withEvents = found.filter((r) => r.present && r.kind === "application" && r.changes.some((c) => isEventChange(c.author)));
      const apps = await Promise.all(withEvents.map((r) => props.api.application(r.doc_id).catch(() => null)));
      setEvents(Object.fromEntries(apps.flatMap((a) => (a ? [[a.id, a.events]] : []))));
    } catch (thrown) {
      setError(toUiError(thrown));
    }
  };

  const { up, upChanges, down } = entryCounts(entry);
  const fieldLabel = (record: RecordChanges, field: string) => {
    const key = field.replace(/^fields\./, "");
    const def = props.services.find((s) => s.code === record.service)?.fields.find((f) => f.key === key);
    return def ? tx(def.label, lang) : t(`fields.${field}`, { defaultValue: field });
  };
  const shown = (record: RecordChanges, field: string, value: Parameters<typeof displayValue>[0] | null) => {
    const key = field.replace(/^fields\./, "");
    const def = props.services.find((s) => s.code === record.service)?.fields.find((f) => f.key === key);
    if (field === "gender" && value?.type === "text" && value.value) return t(`gender.${value.value}`, { defaultValue: value.value });
    if (field === "signature" && value?.type === "text" && value.value) return t("log.signed");
    if (!def && isDateRecordField(field) && value?.type === "text" && value.value) return formatDate(value.value, lang);
    return displayValue(value ?? undefined, def, lang, { yes: t("common.yes"), no: t("common.no") }) || t("common.blank");
  };
  return (
    <li className={`card log-entry ${props.broken ? "log-broken" : ""}`} data-seq={entry.seq} data-committee={entry.committee}>
      <button type="button" className="row-button log-entry-open" aria-expanded={open} onClick={() => void toggle()}>
        <span className="row-title">
          #{entry.seq} · {formatDateTime(entry.time, lang)}
        </span>
        <span className="row-detail">
          {props.committee} · {entry.volunteer} · {t("log.counts", { up, changes: upChanges, down })}
        </span>
        {entry.conflicts.length > 0 ? <span className="badge-inline">{t("log.conflicts", { count: entry.conflicts.length })}</span> : null}
        {entry.refused.length > 0 ? (
          <span className="badge-inline badge-refused">{t("log.refusedCount", { count: entry.refused.length })}</span>
        ) : null}
        {props.broken ? <span className="badge-inline">{t("log.brokenHere")}</span> : null}
      </button>
      {open ? (
        <div className="log-detail">
          <p className="small log-device" title={entry.device_id}>
            {t("log.deviceName", { device: deviceName(props.devices, entry.device_id) })}
          </p>
          {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
          {entry.refused.length > 0 ? (
            <div className="log-refused-list">
              <h4>{t("log.refusedTitle")}</h4>
              <ul className="plain-list">
                {entry.refused.map((r) => (
                  <li key={r.doc_id} className="log-refused" data-code={r.code} data-doc={r.doc_id}>
                    {t("unsent.record", { id: r.doc_id.slice(0, 8) })}
                    {t("common.colon")}
                    {t(`unsent.why.${r.code}`, { defaultValue: errorText(t, r.code) })}
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
          {records && records.length === 0 && entry.refused.length === 0 ? <p className="empty">{t("log.onlyReceived")}</p> : null}
          {(records ?? []).map((record) => (
            <div key={record.doc_id} className="log-record" data-kind={record.kind} data-doc={record.doc_id}>
              <h4>
                {record.present
                  ? `${t(`log.kind.${record.kind}`, { defaultValue: record.kind })} · ${record.resident_name}${
                      record.service ? ` · ${tx(props.services.find((s) => s.code === record.service)?.name, lang)}` : ""
                    }`
                  : t("log.notHere")}
              </h4>
              <ul className="plain-list">
                {record.changes.map((c) => (
                  <li key={c.change} className="log-change">
                    <p className="small">
                      {t(`log.what.${c.author.what}`, { defaultValue: c.author.what })} · {c.author.volunteer || t("conflicts.unknownPerson")} ·{" "}
                      {formatDateTime(c.author.at, lang)}
                      {c.author.note ? ` · ${t("log.note", { note: c.author.note })}` : ""}
                    </p>
                    <p className={`small log-signer signed-${c.signed}`} data-signed={c.signed}>
                      {t(`log.signedBy.${c.signed}`, { signer: c.signer })}
                    </p>
                    <EventLine change={c} events={events[record.doc_id]} />
                    <ul className="plain-list changes">
                      {visibleChanges(c.fields, (f, side) => shown(record, f.field, f[side]), (field) => field === "signature").map((f) => (
                        <li key={f.field} className="field-change" data-field={f.field}>
                          <strong>{fieldLabel(record, f.field)}</strong>
                          {t("common.colon")}
                          {changeText(f, (side) => shown(record, f.field, f[side]))}
                        </li>
                      ))}
                    </ul>
                  </li>
                ))}
              </ul>
              {record.missing.length > 0 ? <p className="small">{t("log.missing", { count: record.missing.length })}</p> : null}
            </div>
          ))}
        </div>
      ) : null}
    </li>
  );
}

/** What a decision or consent change recorded: a return's comment, a rejection's reason, a filing's reference, a consent. */
function EventLine({ change, events }: { change: HistoryEntry; events: ReviewEvent[] | undefined }) {
  const { t } = useTranslation();
  const event = eventOfChange(events ?? [], change.author);
  if (!event) return null;
  let text = "";
  if (event.kind === "consent" && event.consent) {
    text = t("log.consentLine", {
      data: t(`consent.${event.consent.data}.short`),
      decision: event.consent.agreed ? t("consent.agreed") : t("consent.declined"),
    });
  } else if (event.text.trim() !== "") {
    text =
      event.kind === "returned" || event.kind === "rejected" || event.kind === "filed"
        ? t(`log.eventText.${event.kind}`, { text: event.text })
        : t("log.note", { note: event.text });
  }
  if (!text) return null;
  return (
    <p className="log-event" data-kind={event.kind}>
      {text}
    </p>
  );
}
