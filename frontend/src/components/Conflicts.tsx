import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { type ConflictedRecord, type Service, type UiError, type Visitor, toUiError } from "../api";
import { errorText } from "../errors";
import { formatDate, formatDateTime } from "../dates";
import { displayValue, isDateRecordField, tx } from "../logic";
import type { ScreenProps } from "./App";
import { PinReveal } from "./PinReveal";

/** Every record holding values written at the same time on different devices. */
export function ConflictsScreen({ api, navigate, generation }: ScreenProps) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [records, setRecords] = useState<ConflictedRecord[] | null>(null);
  const [services, setServices] = useState<Service[]>([]);
  /** Who visits may be assigned to: a visit plan's conflicting assignees by name. */
  const [visitors, setVisitors] = useState<Visitor[]>([]);
  const [error, setError] = useState<UiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  /** The PIN given to show personal numbers whole, for this view only (a ref: giving
   * it is itself the reload, and hiding must never be overtaken by a late answer). */
  const pin = useRef<string | null>(null);
  /** Only the newest request's answer is shown. */
  const latest = useRef(0);

  const load = useCallback(() => {
    const ticket = ++latest.current;
    Promise.all([api.conflictedRecords(pin.current), api.services()]).then(
      ([r, s]) => {
        if (ticket !== latest.current) return;
        setRecords(r);
        setServices(s);
        if (r.some((record) => record.kind === "visit")) {
          api.visitors().then(setVisitors, () => setVisitors([]));
        }
      },
      (thrown) => ticket === latest.current && setError(toUiError(thrown)),
    );
  }, [api]);

  useEffect(load, [load, generation]);

  const choose = async (record: ConflictedRecord, field: string, choice: string) => {
    try {
      const key = `${record.id}/${field}`;
      await api.resolveConflict(record.id, field, choice, notes[key] ?? "");
      setNotes(({ [key]: _, ...rest }) => rest);
      setDone(t("conflicts.resolved"));
      setError(null);
      load();
    } catch (thrown) {
      setError(toUiError(thrown));
    }
  };

  /** A visit plan's value in words: who, what for, which service; null for others. */
  const visitValue = (field: string, value: string): string | null => {
    if (field === "assignee") return visitors.find((v) => v.id === value)?.name ?? null;
    if (field === "purpose" && value) return t(`visits.purpose.${value}`);
    if (field === "service" && value) return tx(services.find((s) => s.code === value)?.name, lang) || value;
    return null;
  };

  const fieldLabel = (record: ConflictedRecord, field: string) => {
    const key = field.replace(/^fields\./, "");
    const def = services.find((s) => s.code === record.service)?.fields.find((f) => f.key === key);
    return def ? tx(def.label, lang) : t(`fields.${field}`, { defaultValue: field });
  };

  return (
    <section aria-labelledby="conflicts-title">
      <h2 id="conflicts-title" tabIndex={-1}>
        {t("conflicts.title")}
      </h2>
      <p>{t("conflicts.intro")}</p>
      <div role="status" aria-live="polite">
        {done ? <p className="saved">{done}</p> : null}
      </div>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      {records && records.length === 0 ? <p className="empty" id="conflicts-none">{t("conflicts.none")}</p> : null}
      {records?.some((r) => r.masked || r.revealed) ? (
        // Two people wrote a phone or an ID number differently: to choose, one may need
        // to see both whole.
        <div className="reveal-row">
          <PinReveal
            id="conflicts-reveal"
            revealed={records.some((r) => r.revealed)}
            onReveal={async (given) => {
              // Checked by the device before anything is shown.
              const ticket = ++latest.current;
              const revealed = await api.conflictedRecords(given);
              if (ticket !== latest.current) return;
              pin.current = given;
              setRecords(revealed);
            }}
            onHide={() => {
              pin.current = null;
              load();
            }}
          />
        </div>
      ) : null}
      <ul className="plain-list" id="conflict-list">
        {(records ?? []).map((record) => (
          <li key={record.id} className="card conflict-record" data-id={record.id}>
            <h3>
              {record.kind === "visit" ? (
                // A visit plan is settled here; its resident's page shows the plan.
                `${record.resident_name} · ${t("visits.title")}`
              ) : (
                <button
                  type="button"
                  className="link"
                  onClick={() =>
                    navigate(record.kind === "resident" ? { name: "resident", id: record.id } : { name: "application", id: record.id })
                  }
                >
                  {record.resident_name}
                  {record.service ? ` · ${tx(services.find((s) => s.code === record.service)?.name, lang)}` : ""}
                </button>
              )}
            </h3>
            {record.conflicts.map((c) => {
              const key = c.field.replace(/^fields\./, "");
              const def = services.find((s) => s.code === record.service)?.fields.find((f) => f.key === key);
              return (
                <fieldset key={c.field} className="conflict" data-field={c.field}>
                  <legend>{fieldLabel(record, c.field)}</legend>
                  <ul className="plain-list">
                    {c.values.map((v, i) => (
                      <li key={i} className="conflict-value">
                        <span className="value mono">
                          {(record.kind === "visit" && v.value.type === "text" && visitValue(c.field, v.value.value)) ||
                            (!def && isDateRecordField(c.field) && v.value.type === "text"
                              ? formatDate(v.value.value, lang)
                              : displayValue(v.value, def, lang, { yes: t("common.yes"), no: t("common.no") })) ||
                            t("common.blank")}
                        </span>
                        <span className="author">
                          {v.author
                            ? t("conflicts.by", { name: v.author.volunteer || t("conflicts.unknownPerson"), time: formatDateTime(v.author.at, lang) })
                            : t("conflicts.unknownAuthor")}
                        </span>
                        <button type="button" className="secondary choose-value" onClick={() => void choose(record, c.field, v.choice)}>
                          {t("conflicts.choose")}
                        </button>
                      </li>
                    ))}
                  </ul>
                  <label className="conflict-note">
                    {t("conflicts.note")}
                    <input
                      type="text"
                      maxLength={500}
                      value={notes[`${record.id}/${c.field}`] ?? ""}
                      onChange={(e) => setNotes((n) => ({ ...n, [`${record.id}/${c.field}`]: e.target.value }))}
                    />
                  </label>
                </fieldset>
              );
            })}
          </li>
        ))}
      </ul>
    </section>
  );
}
