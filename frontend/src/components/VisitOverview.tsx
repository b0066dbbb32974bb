import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type Api, type Purpose, type UiError, type VisitOverview as Counts, type Visitor, toUiError } from "../api";
import { errorText, fieldMessages } from "../errors";
import { DateField } from "./DateField";
import { VisitorSelect } from "./Visits";

/**
 * The supervisor's overview of visits: per person and committee, planned, overdue and
 * done this year; the residents nobody visited this year; and the residents whose
 * certification needs a visit, assigned at once to one person.
 */
export function VisitOverviewCard({
  api,
  generation,
  toVisit,
  committeeName,
}: {
  api: Api;
  generation: number;
  /** The residents whose certification needs a visit (ids), to assign at once. */
  toVisit: string[];
  committeeName: (id: string) => string;
}) {
  const { t } = useTranslation();
  const [counts, setCounts] = useState<Counts | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    api.visitOverview().then(setCounts, (thrown) => setError(toUiError(thrown)));
  }, [api, generation, reload]);
  if (error) return <p role="alert" className="error-banner">{errorText(t, error.code)}</p>;
  if (!counts) return null;
  return (
    <div className="card table-wrap" id="overview-visits">
      <h3>{t("visits.overviewTitle")}</h3>
      {counts.counts.length === 0 ? <p className="empty">{t("visits.noneAssigned")}</p> : null}
      {counts.counts.length > 0 ? (
        <table id="overview-visit-counts">
          <thead>
            <tr>
              <th scope="col">{t("overview.committee")}</th>
              <th scope="col">{t("visits.assignee")}</th>
              <th scope="col">{t("visits.planned")}</th>
              <th scope="col">{t("visits.when.overdue")}</th>
              <th scope="col">{t("visits.doneThisYear")}</th>
            </tr>
          </thead>
          <tbody>
            {counts.counts.map((c) => (
              <tr key={`${c.committee}-${c.assignee}`} data-assignee={c.assignee}>
                <td>{committeeName(c.committee)}</td>
                <td>{c.assignee_name}</td>
                <td data-count="planned">{c.planned}</td>
                <td data-count="overdue">{c.overdue}</td>
                <td data-count="done">{c.done}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ul className="plain-list" id="overview-unvisited">
        {counts.unvisited.map(([committee, n]) => (
          <li key={committee}>{t("visits.unvisited", { committee: committeeName(committee), count: n })}</li>
        ))}
      </ul>
      {toVisit.length > 0 ? (
        <AssignAll
          id="overview-assign-all"
          api={api}
          residents={toVisit}
          purpose="certification"
          title={t("visits.assignAllTitle", { count: toVisit.length })}
          onDone={() => setReload((n) => n + 1)}
        />
      ) : null}
    </div>
  );
}

/**
 * Several residents' visits assigned to one person at once, for one purpose: those whose
 * certification needs a visit (the overview), or a filtered list (the residents screen).
 * `id` prefixes the form's ids ("overview-assign-all" names `assign-all-*` fields).
 */
export function AssignAll({
  id,
  api,
  residents,
  purpose,
  title,
  onDone,
}: {
  id: string;
  api: Api;
  residents: string[];
  purpose: Purpose;
  title: string;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const [visitors, setVisitors] = useState<Visitor[]>([]);
  const [assignee, setAssignee] = useState("");
  const [due, setDue] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [done, setDone] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.visitors().then(setVisitors, (thrown) => setError(toUiError(thrown)));
  }, [api]);
  const fields = fieldMessages(t, error);
  // The overview's form keeps the ids its tests and the end-to-end suite know.
  const field = id === "overview-assign-all" ? "assign-all" : id;
  const save = async () => {
    setBusy(true);
    try {
      const who = visitors.find((v) => v.id === assignee);
      const n = await api.assignVisits(residents, {
        assignee,
        assignee_name: who?.name ?? "",
        due,
        purpose,
        service: "",
      });
      setDone(n);
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
      id={id}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h4>{title}</h4>
      <VisitorSelect id={`${field}-assignee`} visitors={visitors} value={assignee} onChange={setAssignee} error={fields.assignee} />
      <p id={`${field}-due-label`}>{t("visits.due")}</p>
      <DateField id={`${field}-due`} labelledBy={`${field}-due-label`} value={due} onChange={setDue} error={fields.due} />
      <button id={`${field}-save`} type="submit" className="primary" disabled={busy}>
        {t("visits.assignAll", { count: residents.length })}
      </button>
      <div role="status" aria-live="polite">
        {done !== null ? <p className="saved">{t("visits.assignedAll", { count: done })}</p> : null}
      </div>
      {error && !error.fields ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
    </form>
  );
}
