import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type ChainState,
  type Committee,
  type LogEntry,
  type LogFilter,
  type RecordChanges,
  type Service,
  type UiError,
  toUiError,
} from "../api";
import { errorText } from "../errors";
import { dayRange, displayValue, tx } from "../logic";
import type { ScreenProps } from "./App";
import { CommitteeSelect } from "./CommitteeSelect";

const PAGE = 30;

/** The sync log of the supervisor's committees, newest first, with the chain's state. */
export function SyncLog({ api, generation }: ScreenProps) {
  const { t } = useTranslation();
  const [committees, setCommittees] = useState<Committee[]>([]);
  const [chains, setChains] = useState<ChainState[] | null>(null);
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [services, setServices] = useState<Service[]>([]);
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
          <input id="log-volunteer" value={form.volunteer} onChange={(e) => set({ volunteer: e.target.value })} />
        </label>
        <label>
          {t("log.device")}
          <input id="log-device" value={form.device} onChange={(e) => set({ device: e.target.value })} />
        </label>
        <label>
          {t("log.from")}
          <input id="log-from" type="date" value={form.from} onChange={(e) => set({ from: e.target.value })} />
        </label>
        <label>
          {t("log.to")}
          <input id="log-to" type="date" value={form.to} onChange={(e) => set({ to: e.target.value })} />
        </label>
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
      <ol className="plain-list" id="log-entries">
        {entries.map((entry) => (
          <LogEntryRow
            key={`${entry.committee}-${entry.seq}`}
            entry={entry}
            api={api}
            services={services}
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
  committee: string;
  broken: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { entry } = props;
  const [open, setOpen] = useState(false);
  const [records, setRecords] = useState<RecordChanges[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const toggle = async () => {
    setOpen((o) => !o);
    if (records || open) return;
    try {
      setRecords(await props.api.logEntryRecords(entry));
    } catch (thrown) {
      setError(toUiError(thrown));
    }
  };

  const up = entry.received.length;
  const down = entry.sent.length;
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
    return displayValue(value ?? undefined, def, lang, { yes: t("common.yes"), no: t("common.no") }) || t("conflicts.empty");
  };
  return (
    <li className={`card log-entry ${props.broken ? "log-broken" : ""}`} data-seq={entry.seq} data-committee={entry.committee}>
      <button type="button" className="row-button log-entry-open" aria-expanded={open} onClick={() => void toggle()}>
        <span className="row-title">
          #{entry.seq} · {new Date(entry.time).toLocaleString(lang)}
        </span>
        <span className="row-detail">
          {props.committee} · {entry.volunteer} · {t("log.counts", { up, down })}
        </span>
        {entry.conflicts.length > 0 ? <span className="badge-inline">{t("log.conflicts", { count: entry.conflicts.length })}</span> : null}
        {props.broken ? <span className="badge-inline">{t("log.brokenHere")}</span> : null}
      </button>
      {open ? (
        <div className="log-detail">
          <p className="mono small">
            {t("log.deviceId")}: {entry.device_id}
          </p>
          {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
          {records && records.length === 0 ? <p className="empty">{t("log.onlyReceived")}</p> : null}
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
                      {new Date(c.author.at).toLocaleString(lang)}
                      {c.author.note ? ` · ${t("log.note", { note: c.author.note })}` : ""}
                    </p>
                    <ul className="plain-list changes">
                      {c.fields.map((f) => (
                        <li key={f.field} className="field-change" data-field={f.field}>
                          <strong>{fieldLabel(record, f.field)}</strong>: {shown(record, f.field, f.from)} → {shown(record, f.field, f.to)}
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
