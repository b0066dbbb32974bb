import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type Api,
  type Outcome,
  type PlanView,
  type Purpose,
  type Service,
  type UiError,
  type VisitRow,
  type VisitWhen,
  type Visitor,
  toUiError,
} from "../api";
import { formatDate, todayYmd } from "../dates";
import { errorText, fieldMessages } from "../errors";
import { tx } from "../logic";
import type { Navigate } from "./App";
import { ChoiceButtons } from "./ChoiceButtons";
import { DateField } from "./DateField";
import { TextField } from "./TextField";

const WHEN: VisitWhen[] = ["overdue", "today", "this_week", "later"];
const OUTCOMES: Outcome[] = ["visited", "application_started", "not_home", "moved", "deceased", "declined"];
const PURPOSES: Purpose[] = ["checkup", "certification", "service"];
/** Visits shown on the home screen; the rest are counted. */
const PAGE = 50;

/** What a visit is for, in words. */
function purposeText(t: (k: string) => string, services: Service[], lang: string, purpose: Purpose, service: string) {
  if (purpose === "service") return tx(services.find((s) => s.code === service)?.name, lang) || service;
  return t(`visits.purpose.${purpose}`);
}

/**
 * The volunteer's day: the visits assigned to them, overdue first, then today's, this
 * week's and later ones, each by due date then address, with what is for and what the
 * resident's file still lacks.
 */
export function MyVisits({ api, navigate, generation }: { api: Api; navigate: Navigate; generation: number }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [rows, setRows] = useState<VisitRow[] | null>(null);
  const [services, setServices] = useState<Service[]>([]);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    let current = true;
    Promise.all([api.myVisits(0, PAGE), api.services()]).then(
      ([r, s]) => {
        if (!current) return;
        setRows(r);
        setServices(s);
      },
      (thrown) => current && setError(toUiError(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, generation]);

  if (error) return <p role="alert" className="error-banner">{errorText(t, error.code)}</p>;
  if (!rows) return null;
  return (
    <div className="card" id="home-visits">
      <h3>
        {t("visits.mine")} <span className="count">{rows.length}</span>
      </h3>
      {rows.length === 0 ? <p className="empty">{t("visits.none")}</p> : null}
      {WHEN.map((when) => {
        const group = rows.filter((r) => r.when === when);
        if (group.length === 0) return null;
        return (
          <div key={when} className="visit-group" data-when={when}>
            <h4>{t(`visits.when.${when}`)}</h4>
            <ul className="plain-list">
              {group.map((v) => (
                <li key={v.resident}>
                  <button
                    type="button"
                    className="row-button visit-row"
                    data-id={v.resident}
                    onClick={() => navigate({ name: "resident", id: v.resident })}
                  >
                    <span className="row-title">{v.name}</span>
                    <span className="row-detail">{v.address || t("visits.noAddress")}</span>
                    <span className="row-detail">
                      {formatDate(v.due, lang)} · {purposeText(t, services, lang, v.purpose, v.service)}
                      {v.proposed ? ` · ${t("visits.proposed")}` : ""}
                    </span>
                    {v.missing.map((m) => (
                      <span key={m} className="badge-inline missing">
                        {t(`visits.missing.${m}`)}
                      </span>
                    ))}
                    {v.conflicted ? <span className="badge-inline">{t("conflicts.badge")}</span> : null}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        );
      })}
      {rows.length === PAGE ? <p className="small">{t("visits.more", { count: PAGE })}</p> : null}
      {rows.length > 0 ? <PrintList api={api} /> : null}
    </div>
  );
}

/** The volunteer's visits printed as a large-print PDF, for those who carry paper. */
function PrintList({ api }: { api: Api }) {
  const { t, i18n } = useTranslation();
  const [file, setFile] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const print = async () => {
    setBusy(true);
    try {
      const labels: Record<string, string> = {
        title: t("visits.listTitle"),
        address: t("visits.listAddress"),
        due: t("visits.due"),
        purpose: t("visits.purposeLabel"),
        missing: t("visits.listMissing"),
        outcome: t("visits.listOutcome"),
        none: t("visits.none"),
      };
      for (const p of PURPOSES) labels[`purpose.${p}`] = t(`visits.purpose.${p}`);
      for (const o of OUTCOMES) labels[`outcome.${o}`] = t(`visits.outcome.${o}`);
      for (const m of ["phone", "authorization"]) labels[`missing.${m}`] = t(`visits.listMissingWhat.${m}`);
      const saved = await api.printVisitList(labels, i18n.language);
      setFile(saved.path.split(/[\\/]/).pop() ?? saved.path);
      setError(null);
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="visit-print">
      <button id="visits-print" type="button" className="secondary" disabled={busy} onClick={() => void print()}>
        {t("visits.print")}
      </button>
      <div role="status" aria-live="polite">
        {file ? (
          <p className="saved" id="visits-printed">
            {t("visits.printed", { file })}{" "}
            <button type="button" className="link" onClick={() => void api.openExports().catch((thrown) => setError(toUiError(thrown)))}>
              {t("data.openFolder")}
            </button>
          </p>
        ) : null}
      </div>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
    </div>
  );
}

/**
 * A resident's visit plan on their page: who visits and when, what came of each visit,
 * the form to record the visit due, and (for a supervisor) to assign or reassign it.
 */
export function VisitPlanCard({ api, resident, supervisor, generation }: { api: Api; resident: string; supervisor: boolean; generation: number }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [plan, setPlan] = useState<PlanView | null | undefined>(undefined);
  const [services, setServices] = useState<Service[]>([]);
  const [error, setError] = useState<UiError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let current = true;
    Promise.all([api.visitPlan(resident), api.services()]).then(
      ([p, s]) => {
        if (!current) return;
        setPlan(p);
        setServices(s);
      },
      (thrown) => current && setError(toUiError(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, resident, generation, reload]);

  if (plan === undefined) return error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null;
  const open = plan?.open ?? null;
  /** Kept as its key: the message follows the language when it is switched. */
  const done = (message: string) => {
    setSaved(message);
    setError(null);
    setReload((n) => n + 1);
  };
  return (
    <div className="card" id="resident-visits">
      <h3>{t("visits.title")}</h3>
      <div role="status" aria-live="polite">
        {saved ? <p className="saved">{t(saved)}</p> : null}
      </div>
      {plan?.conflicted ? (
        <p className="warning" id="visit-conflicted">
          {t(supervisor ? "visits.conflicted" : "visits.conflictedWait")}
        </p>
      ) : null}
      {open ? (
        <p id="visit-open">
          {t("visits.dueTo", {
            name: open.assignee_name,
            date: formatDate(open.due, lang),
            purpose: purposeText(t, services, lang, open.purpose, open.service),
            proposed: open.proposed ? t("visits.proposedNote") : "",
          })}
        </p>
      ) : (
        <p className="empty" id="visit-none">
          {plan ? t("visits.noneDue") : t("visits.noPlan")}
        </p>
      )}
      {plan && plan.plan.outcomes.length > 0 ? (
        <ul className="plain-list" id="visit-outcomes">
          {plan.plan.outcomes.map((o) => (
            <li key={o.key} className="visit-outcome">
              {t("visits.outcomeLine", {
                date: formatDate(o.on, lang),
                name: o.by_name,
                outcome: o.outcome ? t(`visits.outcome.${o.outcome}`) : t("visits.outcomeUnknown"),
              })}
              {o.next_due ? t("visits.nextOn", { date: formatDate(o.next_due, lang) }) : ""}
              {o.note ? t("visits.noteLine", { note: o.note }) : ""}
            </li>
          ))}
        </ul>
      ) : null}
      {open ? <OutcomeForm api={api} resident={resident} due={open.due} onDone={() => done("visits.recorded")} /> : null}
      {supervisor ? (
        <AssignForm api={api} resident={resident} services={services} onDone={() => done("visits.assigned")} />
      ) : null}
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
    </div>
  );
}

/** What came of the visit due: its outcome, its day, the next visit proposed, a note. */
function OutcomeForm({ api, resident, due, onDone }: { api: Api; resident: string; due: string; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const [outcome, setOutcome] = useState<Outcome | "">("");
  const [on, setOn] = useState(todayYmd());
  const [next, setNext] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const fields = fieldMessages(t, error);
  const save = async () => {
    if (outcome === "") {
      setError({ code: "required", message: "", fields: [{ field: "outcome", code: "required" }] });
      return;
    }
    setBusy(true);
    try {
      await api.recordVisitOutcome(resident, { outcome, on, next_due: next, note });
      setOutcome("");
      setNext("");
      setNote("");
      setError(null);
      onDone();
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="visit-outcome-form"
      id="visit-outcome-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h4 id="visit-outcome-label">{t("visits.recordTitle", { date: formatDate(due, i18n.language) })}</h4>
      <ChoiceButtons
        id="visit-outcome"
        labelledBy="visit-outcome-label"
        options={OUTCOMES.map((o) => ({ value: o, label: t(`visits.outcome.${o}`) }))}
        value={outcome}
        onChoose={(v) => setOutcome(v as Outcome)}
        invalid={fields.outcome !== undefined}
      />
      {fields.outcome ? <p className="field-error">{fields.outcome}</p> : null}
      <p id="visit-on-label">{t("visits.visitedOn")}</p>
      <DateField id="visit-on" labelledBy="visit-on-label" value={on} onChange={setOn} error={fields.visited_on} />
      {outcome !== "moved" && outcome !== "deceased" ? (
        <>
          <p id="visit-next-label">{t("visits.nextDue")}</p>
          <DateField id="visit-next" labelledBy="visit-next-label" value={next} onChange={setNext} error={fields.next_due} />
        </>
      ) : null}
      <TextField id="visit-note" label={t("visits.note")} value={note} onChange={setNote} maxLength={200} />
      <button id="visit-outcome-save" type="submit" className="primary" disabled={busy}>
        {t("visits.record")}
      </button>
      {error && !error.fields ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
    </form>
  );
}

/** A supervisor assigns the resident's visit: to whom, by when, what for. */
function AssignForm({ api, resident, services, onDone }: { api: Api; resident: string; services: Service[]; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const [visitors, setVisitors] = useState<Visitor[]>([]);
  const [assignee, setAssignee] = useState("");
  const [due, setDue] = useState("");
  const [purpose, setPurpose] = useState<Purpose>("checkup");
  const [service, setService] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.visitors().then(setVisitors, (thrown) => setError(toUiError(thrown)));
  }, [api]);
  const fields = fieldMessages(t, error);
  const save = async () => {
    const who = visitors.find((v) => v.id === assignee);
    setBusy(true);
    try {
      await api.assignVisit(resident, {
        assignee,
        assignee_name: who?.name ?? "",
        due,
        purpose,
        service: purpose === "service" ? service : "",
      });
      setError(null);
      onDone();
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="visit-assign-form"
      id="visit-assign-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h4>{t("visits.assignTitle")}</h4>
      <VisitorSelect id="visit-assignee" visitors={visitors} value={assignee} onChange={setAssignee} error={fields.assignee} />
      <p id="visit-due-label">{t("visits.due")}</p>
      <DateField id="visit-due" labelledBy="visit-due-label" value={due} onChange={setDue} error={fields.due} />
      <p id="visit-purpose-label">{t("visits.purposeLabel")}</p>
      <ChoiceButtons
        id="visit-purpose"
        labelledBy="visit-purpose-label"
        options={PURPOSES.map((p) => ({ value: p, label: t(`visits.purpose.${p}`) }))}
        value={purpose}
        onChoose={(v) => setPurpose(v as Purpose)}
      />
      {purpose === "service" ? (
        <div className={fields.services ? "field field-invalid" : "field"}>
          <label htmlFor="visit-service">{t("visits.service")}</label>
          <select id="visit-service" value={service} onChange={(e) => setService(e.target.value)} aria-invalid={fields.services !== undefined}>
            <option value="">{t("visits.chooseService")}</option>
            {services.map((s) => (
              <option key={s.code} value={s.code}>
                {tx(s.name, i18n.language)}
              </option>
            ))}
          </select>
          {fields.services ? <p className="field-error">{fields.services}</p> : null}
        </div>
      ) : null}
      <button id="visit-assign-save" type="submit" className="primary" disabled={busy}>
        {t("visits.assign")}
      </button>
      {error && !error.fields ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
    </form>
  );
}

/** Who visits: the people a visit may be assigned to, by name and role. */
export function VisitorSelect(props: {
  id: string;
  visitors: Visitor[];
  value: string;
  onChange: (id: string) => void;
  error: string | undefined;
}) {
  const { t } = useTranslation();
  return (
    <div className={props.error ? "field field-invalid" : "field"}>
      <label htmlFor={props.id}>{t("visits.assignee")}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)} aria-invalid={props.error !== undefined}>
        <option value="">{t("visits.chooseAssignee")}</option>
        {props.visitors.map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}
            {v.role ? ` (${t(`devices.role.${v.role}`)})` : ""}
          </option>
        ))}
      </select>
      {props.error ? <p className="field-error">{props.error}</p> : null}
    </div>
  );
}
