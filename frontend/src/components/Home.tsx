import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type ApplicationRow, type CertificationView, type Service, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import { todaysWork, tx } from "../logic";
import type { Navigate, ScreenProps } from "./App";
import { CertificationList } from "./Certifications";
import { MyVisits } from "./Visits";

/**
 * Today's work: the visits assigned to this volunteer, drafts to finish, applications returned by a supervisor, those awaiting
 * review, the supervisor's recent decisions to tell residents about, and the residents
 * whose yearly pension certification needs doing.
 */
export function Home({ api, navigate, generation }: ScreenProps) {
  const { t } = useTranslation();
  const [rows, setRows] = useState<ApplicationRow[] | null>(null);
  const [services, setServices] = useState<Service[]>([]);
  const [certifications, setCertifications] = useState<CertificationView[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    Promise.all([api.listApplications(null), api.services(), api.certificationsToVisit()]).then(
      ([r, s, c]) => {
        setRows(r);
        setServices(s);
        setCertifications(c);
      },
      (thrown) => setError(toUiError(thrown)),
    );
  }, [api, generation]);

  const work = todaysWork(rows ?? [], Date.now());
  return (
    <section aria-labelledby="home-title">
      <h2 id="home-title" tabIndex={-1}>
        {t("home.title")}
      </h2>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      <MyVisits api={api} navigate={navigate} generation={generation} />
      <div className="columns-3">
        <WorkList id="home-returned" title={t("home.returned")} rows={work.returned} services={services} navigate={navigate} />
        <WorkList id="home-drafts" title={t("home.drafts")} rows={work.drafts} services={services} navigate={navigate} />
        <WorkList id="home-awaiting" title={t("home.awaiting")} rows={work.awaiting} services={services} navigate={navigate} />
        <WorkList id="home-decided" title={t("home.decided")} rows={work.decided} services={services} navigate={navigate} />
      </div>
      {certifications ? (
        <div className="card" id="home-certifications">
          <h3>
            {t("certification.toVisit")} <span className="count">{certifications.length}</span>
          </h3>
          <p className="hint">{t("certification.toVisitIntro")}</p>
          <CertificationList id="home-certification-list" items={certifications} navigate={navigate} />
        </div>
      ) : null}
      <button id="home-find-resident" type="button" className="primary" onClick={() => navigate({ name: "residents" })}>
        {t("home.findResident")}
      </button>
    </section>
  );
}

export function WorkList(props: {
  id: string;
  title: string;
  rows: ApplicationRow[];
  services: Service[];
  navigate: Navigate;
}) {
  const { t, i18n } = useTranslation();
  const name = (code: string) => tx(props.services.find((s) => s.code === code)?.name, i18n.language) || code;
  return (
    <div className="card" id={props.id}>
      <h3>
        {props.title} <span className="count">{props.rows.length}</span>
      </h3>
      {props.rows.length === 0 ? <p className="empty">{t("home.none")}</p> : null}
      <ul className="plain-list">
        {props.rows.map((r) => (
          <li key={r.id}>
            <button
              type="button"
              className="row-button application-row"
              data-id={r.id}
              onClick={() => props.navigate({ name: "application", id: r.id })}
            >
              <span className="row-title">{r.resident_name}</span>
              <span className="row-detail">{name(r.service)}</span>
              <span className={`status status-${r.status}`}>{t(`status.${r.status}`)}</span>
              {r.conflicted ? <span className="badge-inline">{t("conflicts.badge")}</span> : null}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
