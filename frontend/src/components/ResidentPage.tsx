import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type ApplicationRow,
  type AuthorizationView,
  type ResidentView,
  type Service,
  type UiError,
  toUiError,
} from "../api";
import { formatDate } from "../dates";
import { errorText } from "../errors";
import { listOf, tx } from "../logic";
import type { ScreenProps } from "./App";
import { BlobImage } from "./BlobImage";
import { PinReveal } from "./PinReveal";
import { CertificationBadge, certificationText } from "./Certifications";
import { WorkList } from "./Home";
import { VisitPlanCard } from "./Visits";

/** One resident: details, authorizations and applications. */
const NEEDS = ["hearing", "vision", "mobility"] as const;

/**
 * `supervisor`: the console's view. A supervisor reviews applications and never fills
 * one in (the form is the volunteers'), so none is started from here.
 */
export function ResidentPage({ api, navigate, generation, id, supervisor = false }: ScreenProps & { id: string; supervisor?: boolean }) {
  const { t, i18n } = useTranslation();
  const [resident, setResident] = useState<ResidentView | null>(null);
  /** The PIN given to show this resident's numbers whole, for this view only. */
  const [pin, setPin] = useState<string | null>(null);
  const [authorizations, setAuthorizations] = useState<AuthorizationView[]>([]);
  const [applications, setApplications] = useState<ApplicationRow[]>([]);
  const [services, setServices] = useState<Service[]>([]);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    // An answer for an older PIN (or record) that arrives late is dropped.
    let current = true;
    Promise.all([api.resident(id, pin), api.authorizationsOf(id), api.listApplications(id), api.services()]).then(
      ([r, a, apps, s]) => {
        if (!current) return;
        setResident(r);
        setAuthorizations(a);
        setApplications(apps);
        setServices(s);
      },
      (thrown) => {
        if (current) setError(toUiError(thrown));
      },
    );
    return () => {
      current = false;
    };
  }, [api, id, pin, generation]);

  if (error) return <p role="alert" className="error-banner">{errorText(t, error.code)}</p>;
  if (!resident) return <p aria-busy="true">{t("common.loading")}</p>;
  const serviceName = (code: string) => tx(services.find((s) => s.code === code)?.name, i18n.language) || code;
  const conflicted = resident.conflicted_fields.length > 0;
  return (
    <section aria-labelledby="resident-title" className="resident-page">
      <div className="screen-head">
        <h2 id="resident-title" tabIndex={-1}>
          {resident.name}
        </h2>
        <div className="actions">
          <button id="resident-edit" type="button" className="secondary" onClick={() => navigate({ name: "resident-form", id })}>
            {t("residentPage.edit")}
          </button>
          <button
            id="resident-authorize"
            type="button"
            className="secondary"
            onClick={() => navigate({ name: "authorize", resident: id })}
          >
            {t("residentPage.authorize")}
          </button>
          {supervisor ? null : (
            <button
              id="resident-new-application"
              type="button"
              className="primary"
              onClick={() => navigate({ name: "new-application", resident: id })}
            >
              {t("residentPage.newApplication")}
            </button>
          )}
        </div>
      </div>
      {conflicted ? (
        <p className="warning" id="resident-conflicted">
          {t("residentPage.conflicted")}{" "}
          <button type="button" className="link" onClick={() => navigate({ name: "conflicts" })}>
            {t("residentPage.resolve")}
          </button>
        </p>
      ) : null}
      <dl className="details card">
        <dt>{t("register.idNumber")}</dt>
        <dd>
          <span id="resident-id" className="mono">
            {resident.id_number}
          </span>{" "}
          <PinReveal
            id="resident-reveal"
            revealed={resident.revealed}
            onReveal={async (given) => {
              // Checked by the device before anything is shown.
              setResident(await api.resident(id, given));
              setPin(given);
            }}
            onHide={() => setPin(null)}
          />
        </dd>
        <dt>{t("residentPage.gender")}</dt>
        <dd>{resident.gender ? t(`gender.${resident.gender}`) : ""}</dd>
        <dt>{t("residentPage.birthDate")}</dt>
        <dd>{formatDate(resident.birth_date, i18n.language)}</dd>
        <dt>{t("residents.phone")}</dt>
        <dd id="resident-phone-value" className="mono">
          {resident.phone || t("residents.noPhone")}
        </dd>
        <dt>{t("register.address")}</dt>
        <dd>{resident.address || t("common.blank")}</dd>
        <dt>{t("residentPage.needs")}</dt>
        <dd id="resident-needs-value">
          {new Intl.ListFormat(i18n.language).format(NEEDS.filter((n) => resident.needs[n]).map((n) => t(`register.need.${n}`))) ||
            t("residentPage.noNeeds")}
        </dd>
        <dt>{t("residentPage.emergency")}</dt>
        <dd id="resident-emergency-value">
          {resident.emergency.name || resident.emergency.phone
            ? [resident.emergency.name, resident.emergency.relation, resident.emergency.phone].filter(Boolean).join(" · ")
            : t("residentPage.noEmergency")}
        </dd>
      </dl>
      {resident.certification ? (
        <p className="card certification-card" id="resident-certification">
          <strong>{t("certification.title")}</strong> <CertificationBadge c={resident.certification} />
          <br />
          {certificationText(t, resident.certification, i18n.language)}
        </p>
      ) : null}
      <VisitPlanCard api={api} resident={id} supervisor={supervisor} generation={generation} />
      <div className="columns-2">
        <div className="card" id="resident-authorizations">
          <h3>{t("residentPage.authorizations")}</h3>
          {authorizations.length === 0 ? <p className="empty">{t("residentPage.noAuthorizations")}</p> : null}
          <ul className="plain-list">
            {authorizations.map((a) => (
              <li key={a.id} className="authorization">
                <p>
                  {listOf(a.services.map(serviceName), i18n.language)}
                  <br />
                  {t("authorize.period", { from: formatDate(a.valid_from, i18n.language), to: formatDate(a.valid_to, i18n.language) })}
                  {a.revoked ? ` · ${t("authorize.revoked")}` : ""}
                </p>
                <figure className="signature-figure">
                  <figcaption>{t("authorize.signatureOf", { name: resident.name })}</figcaption>
                  <BlobImage api={api} sha256={a.signature} alt={t("authorize.signatureOf", { name: resident.name })} />
                </figure>
              </li>
            ))}
          </ul>
        </div>
        <WorkList
          id="resident-applications"
          title={t("residentPage.applications")}
          rows={applications}
          services={services}
          navigate={navigate}
        />
      </div>
    </section>
  );
}
