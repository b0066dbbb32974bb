import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type ApplicationView,
  type AuthorizationView,
  type Decision,
  type Service,
  type UiError,
  toUiError,
} from "../api";
import { formatDate, formatDateTime } from "../dates";
import { errorText } from "../errors";
import { displayValue, tx } from "../logic";
import type { ScreenProps } from "./App";
import { BlobImage } from "./BlobImage";
import { PhotoQualityNote } from "./PhotoQualityNote";
import { PinReveal } from "./PinReveal";
import { revealOnMount } from "./reveal";

/**
 * One application as the supervisor reviews it: the form, the attachments, the
 * resident's authorization and consent, the history; and the decision.
 */
export function Review({ api, navigate, generation, id }: ScreenProps & { id: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [app, setApp] = useState<ApplicationView | null>(null);
  const [service, setService] = useState<Service | null>(null);
  const [authorizations, setAuthorizations] = useState<AuthorizationView[]>([]);
  const [error, setError] = useState<UiError | null>(null);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<Decision | null>(null);

  /** The PIN given to show this application's personal numbers whole, for this view. */
  const [pin, setPin] = useState<string | null>(null);

  /** Each load's ticket: an answer that arrives after a newer load was asked for is
   *  dropped (hiding the numbers must not be undone by the reveal's late reload). */
  const latest = useRef(0);
  const load = useCallback(async () => {
    const ticket = ++latest.current;
    const [a, all] = await Promise.all([api.application(id, pin), api.services()]);
    if (ticket !== latest.current) return;
    setApp(a);
    setService(all.find((s) => s.code === a.service) ?? null);
    setAuthorizations(await api.authorizationsOf(a.resident_id));
  }, [api, id, pin]);

  useEffect(() => {
    load().catch((thrown) => setError(toUiError(thrown)));
  }, [load, generation]);

  if (error && !app) return <p role="alert" className="error-banner">{errorText(t, error.code)}</p>;
  if (!app) return <p aria-busy="true">{t("common.loading")}</p>;

  const decide = async (decision: Decision) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const needsText = app.decisions.find((o) => o.decision === decision)?.needs_text ?? true;
      // A reopening may say what to correct; an approval carries no words.
      const words = needsText || decision === "reopened" ? text : "";
      const status = await api.recordReview(id, decision, words);
      setDone(t("review.done", { status: t(`status.${status}`) }));
      setText("");
      await load();
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };

  const consents = app.consents;
  // What the device allows this supervisor now: never a judgement of their own work.
  const decisions = app.decisions;
  const textError = error?.fields?.find((f) => f.code === "review_text_required");
  // In the order the status follows (causal), not by the tablets' clocks.
  const history = app.events;
  return (
    <section aria-labelledby="review-title" data-status={app.status}>
      <h2 id="review-title" tabIndex={-1}>
        {app.resident_name} · {tx(service?.name, lang) || app.service}
      </h2>
      <p>
        <span className={`status status-${app.status}`} id="review-status">
          {t(`status.${app.status}`)}
        </span>{" "}
        <button type="button" className="link" onClick={() => navigate({ name: "resident", id: app.resident_id })}>
          {t("review.openResident")}
        </button>
      </p>

      <div className="card">
        <h3>{t("review.form")}</h3>
        <PinReveal
          id="review-reveal"
          revealed={app.revealed}
          onReveal={async (given) => {
            // Checked by the device before anything is shown.
            setApp(await api.application(id, given));
            setPin(given);
          }}
          onHide={() => setPin(null)}
        />
        <dl className="details" id="review-fields">
          {(service?.fields ?? []).map((f) => (
            <div key={f.key} className="detail-row" data-field={f.key}>
              <dt>{tx(f.label, lang)}</dt>
              <dd>{displayValue(app.fields[f.key], f, lang, { yes: t("common.yes"), no: t("common.no") }) || t("common.blank")}</dd>
            </div>
          ))}
        </dl>
      </div>

      <div className="card">
        <h3>{t("review.attachments")}</h3>
        {app.attachments.length === 0 ? <p className="empty">{t("review.noAttachments")}</p> : null}
        <ul className="plain-list attachments">
          {[...app.attachments].sort((a, b) => Number(!!a.stamp) - Number(!!b.stamp)).map((a) => {
            const def = service?.attachments.find((s) => s.key === a.slot);
            return (
              <li key={a.sha256} data-slot={a.slot}>
                <p>{def ? tx(def.label, lang) : a.slot}</p>
                {a.mime.startsWith("image/") ? (
                  <BlobImage api={api} sha256={a.sha256} alt={def ? tx(def.label, lang) : a.name} mime={a.mime} />
                ) : (
                  <p className="mono">{a.name}</p>
                )}
                <PhotoQualityNote attachment={a} id={`review-quality-${a.slot}`} />
              </li>
            );
          })}
        </ul>
      </div>

      <div className="card">
        <h3>{t("review.authorization")}</h3>
        {authorizations.filter((a) => !a.revoked).length === 0 ? (
          <p className="warning" id="review-no-authorization">{t("review.noAuthorization")}</p>
        ) : null}
        <ul className="plain-list">
          {authorizations
            .filter((a) => !a.revoked)
            .map((a) => (
              <li key={a.id} className="authorization">
                <p>{t("review.authorizedPeriod", { from: formatDate(a.valid_from, lang), to: formatDate(a.valid_to, lang), volunteer: a.volunteer || t("conflicts.unknownPerson") })}</p>
                <figure className="signature-figure">
                  <figcaption>{t("review.signature")}</figcaption>
                  <BlobImage api={api} sha256={a.signature} alt={t("review.signature")} />
                </figure>
              </li>
            ))}
        </ul>
        <h3>{t("review.consent")}</h3>
        <ul className="plain-list" id="review-consents">
          {Object.entries(consents).map(([data, agreed]) => {
            const when = [...app.events].reverse().find((e) => e.consent?.data === data)?.at;
            return (
              <li key={data} data-consent={data}>
                {t("review.consentLine", {
                  data: t(`consent.${data}.short`),
                  decision: agreed ? t("review.agreed") : t("review.declined"),
                  date: when ? formatDate(when, lang) : "",
                })}
              </li>
            );
          })}
          {Object.keys(consents).length === 0 ? <li className="empty">{t("review.noConsent")}</li> : null}
        </ul>
      </div>

      <div className="card">
        <h3>{t("review.history")}</h3>
        <ol className="plain-list" id="review-history">
          {history.map((e) => (
            <li key={e.id} data-kind={e.kind}>
              {formatDateTime(e.at, lang)} · {t(`status.${e.kind}`)} · {e.by || t("conflicts.unknownPerson")}
              {e.consent
                ? `${t("common.colon")}${t("consent.event", {
                    data: t(`consent.${e.consent.data}.short`),
                    decision: e.consent.agreed ? t("consent.agreed") : t("consent.declined"),
                  })}`
                : ""}
              {e.text ? `${t("common.colon")}${e.text}` : ""}
            </li>
          ))}
        </ol>
      </div>

      {app.disputed.length > 0 ? (
        <p className="warning" id="review-disputed" role="note">
          {t("review.disputed", {
            decisions: app.disputed
              .map((e) => t("review.disputedOne", { decision: t(`status.${e.kind}`), by: e.by || t("conflicts.unknownPerson") }))
              .join(t("unsent.nameSeparator")),
          })}
        </p>
      ) : null}
      {app.own_work && app.status === "submitted" ? (
        <p className="warning" id="review-own-work" role="note">
          {t("review.ownWork")}
        </p>
      ) : null}
      {decisions.length > 0 ? (
        <div className="card decision" id="review-decision">
          <h3>{t("review.decide")}</h3>
          <label htmlFor="review-text">{t(textLabel(decisions.map((o) => o.decision)))}</label>
          <textarea
            id="review-text"
            value={text}
            maxLength={500}
            aria-invalid={textError ? true : undefined}
            aria-describedby={textError ? "review-text-error" : undefined}
            onChange={(e) => setText(e.target.value)}
          />
          {textError ? (
            <p id="review-text-error" className="field-error">
              {errorText(t, textError.code)}
            </p>
          ) : null}
          <div className="actions">
            {decisions.map(({ decision: d, needs_text: needsText }) => (
              <button
                key={d}
                id={`decide-${d}`}
                type="button"
                className={d === "approved" || d === "filed" ? "primary" : "secondary"}
                disabled={busy || confirming !== null}
                onClick={() => {
                  setError(null);
                  // A comment, reason or reference is asked for before the pause.
                  if (needsText && !text.trim()) {
                    setError({ code: "invalid_input", message: "", fields: [{ field: "form", code: "review_text_required" }] });
                    return;
                  }
                  setConfirming(d);
                }}
              >
                {t(`review.action.${d}`)}
              </button>
            ))}
          </div>
          {confirming ? (
            // A decision reaches the volunteer and the resident: one pause before it.
            <div
              className="confirm"
              id="review-confirm"
              role="alertdialog"
              aria-labelledby="review-confirm-text"
              ref={revealOnMount}
            >
              <p id="review-confirm-text">{t(`review.confirm.${confirming}`)}</p>
              <div className="actions">
                <button
                  type="button"
                  id="review-confirm-yes"
                  className={confirming === "rejected" ? "danger" : "primary"}
                  disabled={busy}
                  onClick={() => {
                    const d = confirming;
                    setConfirming(null);
                    void decide(d);
                  }}
                >
                  {t(`review.action.${confirming}`)}
                </button>
                <button type="button" id="review-confirm-no" className="secondary" onClick={() => setConfirming(null)}>
                  {t("common.cancel")}
                </button>
              </div>
            </div>
          ) : null}
        </div>
      ) : null}
      <div role="status" aria-live="polite">
        {done ? (
          <p className="saved" id="review-done" ref={revealOnMount}>
            {done}
          </p>
        ) : null}
      </div>
      {error && !textError ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
    </section>
  );
}

/** What the one text box asks for, by the decisions on offer. */
function textLabel(offered: string[]): string {
  if (offered.includes("filed") && offered.includes("reopened")) return "review.referenceOrReopenLabel";
  if (offered.includes("filed")) return "review.referenceLabel";
  return "review.textLabel";
}
