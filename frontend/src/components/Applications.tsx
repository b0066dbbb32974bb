import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type ApplicationRow, type Service, type Status, type UiError, toUiError } from "../api";
import { countByStatus, filterApplications, isStatus } from "../console-lists";
import { formatDateTime } from "../dates";
import { errorText } from "../errors";
import { STATUSES, tx } from "../logic";
import type { ScreenProps } from "./App";
import { ChoiceButtons } from "./ChoiceButtons";
import "../console.css";

/** The status filter's value for "any status" (a button's id needs a word). */
const ALL = "all";

/**
 * Every application on the supervisor's device, by status and service, the most
 * recently changed first; each opens in the review screen, which offers a decision only
 * where one can still be taken.
 */
export function ApplicationsScreen({
  api,
  navigate,
  generation,
  status: initialStatus,
  service: initialService,
}: ScreenProps & { status?: Status | null | undefined; service?: string | null | undefined }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [rows, setRows] = useState<ApplicationRow[] | null>(null);
  const [services, setServices] = useState<Service[]>([]);
  const [error, setError] = useState<UiError | null>(null);
  const [status, setStatus] = useState<Status | "">(initialStatus ?? "");
  const [service, setService] = useState(initialService ?? "");

  useEffect(() => {
    Promise.all([api.listApplications(null), api.services()]).then(
      ([all, s]) => {
        setRows(all);
        setServices(s);
        setError(null);
      },
      (thrown) => setError(toUiError(thrown)),
    );
  }, [api, generation]);

  const serviceName = (code: string) => tx(services.find((s) => s.code === code)?.name, lang) || code;
  const counts = countByStatus(rows ?? [], service);
  const total = STATUSES.reduce((n, s) => n + counts[s], 0);
  const shown = filterApplications(rows ?? [], { status, service });
  // A service only the records name (not in this device's catalog) can still be chosen.
  const codes = [...new Set([...services.map((s) => s.code), ...(rows ?? []).map((r) => r.service)])];
  return (
    <section aria-labelledby="applications-title">
      <h2 id="applications-title" tabIndex={-1}>
        {t("applications.title")} <span className="count">{rows ? shown.length : ""}</span>
      </h2>
      <p>{t("applications.intro")}</p>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      <div className="filters">
        <div className="filter-choice">
          <span id="applications-status-label" className="filter-label">
            {t("applications.status")}
          </span>
          <ChoiceButtons
            id="applications-status"
            labelledBy="applications-status-label"
            value={status === "" ? ALL : status}
            onChoose={(v) => setStatus(isStatus(v) ? v : "")}
            options={[
              { value: ALL, label: t("applications.statusCount", { status: t("applications.anyStatus"), count: total }) },
              ...STATUSES.map((s) => ({ value: s, label: t("applications.statusCount", { status: t(`status.${s}`), count: counts[s] }) })),
            ]}
          />
        </div>
        <label>
          {t("applications.service")}
          <select id="applications-service" value={service} onChange={(e) => setService(e.target.value)}>
            <option value="">{t("applications.anyService")}</option>
            {codes.map((code) => (
              <option key={code} value={code}>
                {serviceName(code)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {rows && shown.length === 0 ? (
        <p className="empty" id="applications-empty">
          {t("applications.empty")}
        </p>
      ) : null}
      {!rows && !error ? <p aria-busy="true">{t("common.loading")}</p> : null}
      <ul className="plain-list" id="applications-list">
        {shown.map((r) => (
          <li key={r.id}>
            <button
              type="button"
              className="row-button applications-row"
              data-id={r.id}
              data-status={r.status}
              onClick={() => navigate({ name: "review", id: r.id, back: { name: "applications", status: status || null, service: service || null } })}
            >
              <span className="row-title">{r.resident_name}</span>
              <span className="row-detail">{serviceName(r.service)}</span>
              <span className={`status status-${r.status}`}>{t(`status.${r.status}`)}</span>
              <span className="row-detail">
                {t("applications.dates", { created: formatDateTime(r.created_at, lang), updated: formatDateTime(r.updated_at, lang) })}
              </span>
              {r.conflicted ? <span className="badge-inline">{t("conflicts.badge")}</span> : null}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
