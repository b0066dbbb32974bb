import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type AsideView,
  type CertificationCount,
  type CertificationState,
  type Committee,
  type Overview,
  type Service,
  type UiError,
  toUiError,
} from "../api";
import { errorText } from "../errors";
import { STATUSES, countsTable, tx } from "../logic";
import type { ScreenProps } from "./App";
import { CertificationList } from "./Certifications";
import { AsideList } from "./Unsent";
import { VisitOverviewCard } from "./VisitOverview";

/**
 * Counts by committee, service and status (each count opens the list of those
 * applications), and the yearly pension certifications: how many residents of each
 * committee are done, due and overdue, and those to visit.
 */
export function OverviewScreen({ api, navigate, generation }: ScreenProps) {
  const { t, i18n } = useTranslation();
  const [overview, setOverview] = useState<Overview | null>(null);
  const [services, setServices] = useState<Service[]>([]);
  const [committees, setCommittees] = useState<Committee[]>([]);
  const [apart, setApart] = useState<AsideView[]>([]);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    Promise.all([api.overview(), api.services(), api.consoleCommittees(), api.recordsAside()]).then(
      ([o, s, c, a]) => {
        setOverview(o);
        setServices(s);
        setCommittees(c);
        setApart(a.filter((r) => r.authors.length > 0));
      },
      (thrown) => setError(toUiError(thrown)),
    );
  }, [api, generation]);

  const committeeName = (id: string) => committees.find((c) => c.id === id)?.name ?? id;
  const serviceName = (code: string) => tx(services.find((s) => s.code === code)?.name, i18n.language) || code;
  const rows = countsTable(overview?.counts ?? []);
  const certificationRows = certificationTable(overview?.certification_counts ?? []);
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title" tabIndex={-1}>
        {t("overview.title")}
      </h2>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      {apart.length > 0 ? (
        <div className="card warning-card" id="overview-apart">
          <h3>{t("overview.apart")}</h3>
          <p>{t("overview.apartIntro")}</p>
          <AsideList aside={apart} id="overview-apart-list" />
        </div>
      ) : null}
      {overview ? (
        <>
          <div className="card">
            <h3>{t("overview.residents")}</h3>
            <ul className="plain-list" id="overview-residents">
              {overview.residents.map(([c, n]) => (
                <li key={c} data-committee={c}>
                  {t("overview.residentCount", { committee: committeeName(c), count: n })}
                </li>
              ))}
            </ul>
          </div>
          <div className="card table-wrap">
            <h3>{t("overview.applications")}</h3>
            {rows.length === 0 ? <p className="empty">{t("overview.noApplications")}</p> : null}
            {rows.length > 0 ? (
              <table id="overview-counts">
                <thead>
                  <tr>
                    <th scope="col">{t("overview.committee")}</th>
                    <th scope="col">{t("overview.service")}</th>
                    {STATUSES.map((s) => (
                      <th key={s} scope="col">
                        {t(`status.${s}`)}
                      </th>
                    ))}
                    <th scope="col">{t("overview.total")}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={`${r.committee}-${r.service}`} data-committee={r.committee} data-service={r.service}>
                      <td>{committeeName(r.committee)}</td>
                      <td>{serviceName(r.service)}</td>
                      {STATUSES.map((s) => (
                        <td key={s} data-status={s}>
                          <CountLink
                            count={r.byStatus[s] ?? 0}
                            label={t("overview.openList", { service: serviceName(r.service), status: t(`status.${s}`), count: r.byStatus[s] ?? 0 })}
                            onOpen={() => navigate({ name: "applications", status: s, service: r.service })}
                          />
                        </td>
                      ))}
                      <td data-status="all">
                        <CountLink
                          count={r.total}
                          label={t("overview.openAll", { service: serviceName(r.service), count: r.total })}
                          onOpen={() => navigate({ name: "applications", status: null, service: r.service })}
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </div>
          <div className="card table-wrap" id="overview-certifications">
            <h3>{t("certification.title")}</h3>
            <p className="hint">{t("certification.toVisitIntro")}</p>
            {certificationRows.length === 0 ? <p className="empty">{t("certification.noneFollowed")}</p> : null}
            {certificationRows.length > 0 ? (
              <table id="overview-certification-counts">
                <thead>
                  <tr>
                    <th scope="col">{t("overview.committee")}</th>
                    {CERTIFICATION_STATES.map((s) => (
                      <th key={s} scope="col">
                        {t(`certification.state.${s}`)}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {certificationRows.map(([committee, byState]) => (
                    <tr key={committee} data-committee={committee}>
                      <td>{committeeName(committee)}</td>
                      {CERTIFICATION_STATES.map((s) => (
                        <td key={s} data-state={s}>
                          {byState[s] ?? 0}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            <h4>{t("certification.toVisit")}</h4>
            <CertificationList id="overview-to-visit" items={overview.to_visit} navigate={navigate} committeeName={committeeName} />
          </div>
          <VisitOverviewCard
            api={api}
            generation={generation}
            toVisit={overview.to_visit.map((c) => c.resident)}
            committeeName={committeeName}
          />
        </>
      ) : null}
    </section>
  );
}

/** The certification states in the order the table shows them. */
const CERTIFICATION_STATES: CertificationState[] = ["overdue", "due", "done"];

/** Certification counts as one row per committee. */
function certificationTable(counts: CertificationCount[]): [string, Partial<Record<CertificationState, number>>][] {
  const rows = new Map<string, Partial<Record<CertificationState, number>>>();
  for (const c of counts) {
    const row = rows.get(c.committee) ?? {};
    row[c.state] = (row[c.state] ?? 0) + c.count;
    rows.set(c.committee, row);
  }
  return [...rows.entries()];
}

/** A count that opens its list; nothing to open for none. */
function CountLink({ count, label, onOpen }: { count: number; label: string; onOpen: () => void }) {
  if (count === 0) return <>0</>;
  return (
    <button type="button" className="link count-link" aria-label={label} onClick={onOpen}>
      {count}
    </button>
  );
}
