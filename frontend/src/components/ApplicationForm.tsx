import { useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";

import { type ApplicationView, type FieldDef, type Service, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import { DraftSaver, displayValue, formSteps, inputText, missingForSubmit, tx, valueFromInput } from "../logic";
import type { ScreenProps } from "./App";

/**
 * An application, step by step from the catalog. What the volunteer types is saved
 * durably a moment after each keystroke; submit checks required fields and attachments.
 */
export function ApplicationForm({
  api,
  navigate,
  generation,
  id,
  flagged = [],
}: ScreenProps & { id: string; flagged?: string[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [app, setApp] = useState<ApplicationView | null>(null);
  const [service, setService] = useState<Service | null>(null);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [step, setStep] = useState(0);
  const [error, setError] = useState<UiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [uploading, setUploading] = useState<string | null>(null);
  const [amending, setAmending] = useState(false);

  const reload = useCallback(async () => {
    const a = await api.application(id);
    setApp(a);
    return a;
  }, [api, id]);

  // First load: the application, its service, and the inputs' texts.
  useEffect(() => {
    Promise.all([reload(), api.services()]).then(
      ([a, all]) => {
        setService(all.find((s) => s.code === a.service) ?? null);
        setTexts(Object.fromEntries(Object.entries(a.fields).map(([k, v]) => [k, inputText(v)])));
      },
      (thrown) => setError(toUiError(thrown)),
    );
  }, [api, reload]);

  // After a sync brought something: status, events and attachments (typed text stays).
  useEffect(() => {
    if (generation > 0) reload().catch((thrown) => setError(toUiError(thrown)));
  }, [generation, reload]);

  const defs = useMemo(() => new Map((service?.fields ?? []).map((f) => [f.key, f])), [service]);

  const saver = useMemo(
    () =>
      new DraftSaver(async (key, text) => {
        const def = defs.get(key);
        if (!def) return;
        const value = valueFromInput(def.type, text);
        if (!value) {
          setFieldErrors((e) => ({ ...e, [key]: errorText(t, "wrong_type") }));
          return;
        }
        try {
          await api.setApplicationField(id, key, value);
          setFieldErrors((e) => {
            const { [key]: _, ...rest } = e;
            return rest;
          });
        } catch (thrown) {
          const err = toUiError(thrown);
          const code = err.fields?.find((f) => f.key === key)?.code ?? err.code;
          setFieldErrors((e) => ({ ...e, [key]: errorText(t, code) }));
        }
      }),
    [api, id, defs, t],
  );

  // Leaving the screen saves what is still waiting.
  useEffect(() => () => void saver.flush(), [saver]);

  if (error && !app) return <p role="alert" className="error-banner">{errorText(t, error.code)}</p>;
  if (!app || !service) return <p aria-busy="true">{t("common.loading")}</p>;

  // An approved application can be corrected; the first change sends it back for review.
  const reopened = [...app.events].reverse().find((e) => e.kind !== "consent")?.kind === "reopened";
  const amendable = app.status === "approved" || (app.status === "submitted" && reopened);
  const editable = app.status === "draft" || app.status === "returned" || (amending && amendable);
  const steps = formSteps(service);
  const last = steps.length; // the check-and-submit screen
  const attachedSlots = app.attachments.map((a) => a.slot);
  const missing = missingForSubmit(service, app.fields, attachedSlots);
  const lastReturn = [...app.events].reverse().find((e) => e.kind === "returned" || e.kind === "rejected");

  const type = (key: string, text: string) => {
    setTexts((prev) => ({ ...prev, [key]: text }));
    saver.typed(key, text);
  };

  // Leaving a field saves what it shows at once, whatever keystrokes are still queued.
  const commit = (key: string, text: string) => {
    saver.typed(key, text);
    void saver.flush();
  };

  const go = async (next: number) => {
    await saver.flush();
    await reload();
    setStep(Math.max(0, Math.min(last, next)));
  };

  const attach = async (slot: string, file: File) => {
    setUploading(slot);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      await api.attachFile(id, slot, file.name, file.type || "application/octet-stream", bytes);
      setFieldErrors((e) => {
        const { [slot]: _, ...rest } = e;
        return rest;
      });
      await reload();
    } catch (thrown) {
      setFieldErrors((e) => ({ ...e, [slot]: errorText(t, toUiError(thrown).fields?.[0]?.code ?? toUiError(thrown).code) }));
    } finally {
      setUploading(null);
    }
  };

  const submit = async () => {
    if (submitting) return;
    setSubmitting(true);
    setError(null);
    try {
      await saver.flush();
      await api.submitApplication(id);
      await reload();
    } catch (thrown) {
      const err = toUiError(thrown);
      setError(err);
      const marks: Record<string, string> = {};
      for (const f of err.fields ?? []) if (f.key) marks[f.key] = errorText(t, f.code);
      setFieldErrors((e) => ({ ...e, ...marks }));
    } finally {
      setSubmitting(false);
    }
  };

  const current = steps[step];
  return (
    <section aria-labelledby="application-title" className="application">
      <div className="screen-head">
        <h2 id="application-title" tabIndex={-1}>
          {tx(service.name, lang)} · {app.resident_name}
        </h2>
        <span id="application-status" className={`status status-${app.status}`}>
          {t(`status.${app.status}`)}
        </span>
        <button
          type="button"
          id="hand-to-resident"
          className="primary"
          onClick={() =>
            void saver
              .flush()
              .then(() => api.enterResidentMode())
              .then(() => navigate({ name: "resident-mode", id }))
              .catch((thrown) => setError(toUiError(thrown)))
          }
        >
          {t("application.handToResident")}
        </button>
        <button type="button" className="secondary" onClick={() => void saver.flush().then(() => navigate({ name: "resident", id: app.resident_id }))}>
          {t("common.back")}
        </button>
      </div>
      {lastReturn && app.status !== "submitted" ? (
        <div className="review-note card" id="application-review-note" role="note">
          <strong>{t(`status.${lastReturn.kind}`)}</strong> · {lastReturn.by} · {new Date(lastReturn.at).toLocaleString(lang)}
          <p id="application-review-text">{lastReturn.text}</p>
        </div>
      ) : null}
      {flagged.length > 0 ? (
        <div className="warning" id="application-flagged" role="note">
          <p>{t("application.flagged")}</p>
          <ul>
            {flagged.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {app.conflicted_fields.length > 0 ? (
        <p className="warning">
          {t("application.conflicted")}{" "}
          <button type="button" className="link" onClick={() => navigate({ name: "conflicts" })}>
            {t("resident.resolve")}
          </button>
        </p>
      ) : null}
      {amendable && !amending ? (
        <p>
          <button id="application-amend" type="button" className="secondary" onClick={() => setAmending(true)}>
            {t("application.amend")}
          </button>
        </p>
      ) : null}
      {amending && amendable ? (
        <p className="warning" id="application-amending" role="note">
          {t(app.status === "approved" ? "application.amendWarning" : "application.amendReopened")}
        </p>
      ) : null}
      {editable ? (
        <ol className="stepper" aria-label={t("application.steps")}>
          {[...steps.map((s) => tx(s.title, lang) || t("application.moreDetails")), t("application.check")].map(
            (title, i) => (
              <li key={i}>
                <button
                  type="button"
                  id={`step-${i}`}
                  className="step-button"
                  aria-current={i === step ? "step" : undefined}
                  onClick={() => void go(i)}
                >
                  {i + 1}. {title}
                </button>
              </li>
            ),
          )}
        </ol>
      ) : null}
      {editable && current ? (
        <div className="card step" id="application-step">
          {current.fields.map((key) => {
            const def = defs.get(key);
            return def ? (
              <FormField
                key={key}
                def={def}
                lang={lang}
                text={texts[key] ?? ""}
                error={fieldErrors[key]}
                onType={type}
                onCommit={commit}
              />
            ) : null;
          })}
          {current.attachments.map((slot) => {
            const def = service.attachments.find((a) => a.key === slot);
            const attached = app.attachments.filter((a) => a.slot === slot);
            return (
              <div key={slot} className={fieldErrors[slot] ? "field field-invalid" : "field"}>
                <label htmlFor={`attach-${slot}`}>
                  {tx(def?.label, lang)}
                  {def?.required ? ` (${t("application.required")})` : ""}
                </label>
                <input
                  id={`attach-${slot}`}
                  type="file"
                  accept="image/*,application/pdf"
                  capture="environment"
                  disabled={uploading !== null}
                  onChange={(e) => {
                    const file = e.target.files?.[0];
                    if (file) void attach(slot, file);
                    e.target.value = "";
                  }}
                />
                {uploading === slot ? <p className="hint">{t("application.uploading")}</p> : null}
                <ul className="attachments" id={`attached-${slot}`}>
                  {attached.map((a) => (
                    <li key={a.sha256 + a.added_at}>
                      {a.name} ({Math.ceil(a.size / 1024)} KB)
                    </li>
                  ))}
                </ul>
                {fieldErrors[slot] ? <p className="field-error">{fieldErrors[slot]}</p> : null}
              </div>
            );
          })}
          <div className="actions">
            {step > 0 ? (
              <button type="button" className="secondary" id="step-back" onClick={() => void go(step - 1)}>
                {t("common.back")}
              </button>
            ) : null}
            <button type="button" className="primary" id="step-next" onClick={() => void go(step + 1)}>
              {t("common.next")}
            </button>
          </div>
        </div>
      ) : null}
      {!editable || step === last ? (
        <div className="card" id="application-check">
          <h3>{editable ? t("application.check") : t("application.summary")}</h3>
          <dl className="details">
            {service.fields.map((f) => (
              <div key={f.key} className="detail-row">
                <dt>{tx(f.label, lang)}</dt>
                <dd>{displayValue(app.fields[f.key], f, lang, { yes: t("common.yes"), no: t("common.no") }) || "—"}</dd>
              </div>
            ))}
            {service.attachments.map((a) => (
              <div key={a.key} className="detail-row">
                <dt>{tx(a.label, lang)}</dt>
                <dd>{attachedSlots.includes(a.key) ? t("application.attached") : "—"}</dd>
              </div>
            ))}
          </dl>
          {editable ? (
            <>
              {missing.length > 0 ? (
                <div className="warning" id="application-missing">
                  <p>{t("application.missing")}</p>
                  <ul>
                    {missing.map((k) => (
                      <li key={k}>{tx(defs.get(k)?.label ?? service.attachments.find((a) => a.key === k)?.label, lang)}</li>
                    ))}
                  </ul>
                </div>
              ) : null}
              {app.status === "draft" || app.status === "returned" ? (
                <button id="application-submit" type="button" className="primary" disabled={submitting} onClick={() => void submit()}>
                  {app.status === "returned" ? t("application.resubmit") : t("application.submit")}
                </button>
              ) : null}
            </>
          ) : null}
          {error ? (
            <p role="alert" className="field-error" id="application-error">
              {error.code === "invalid_input" ? t("application.fixMissing") : errorText(t, error.code)}
            </p>
          ) : null}
          <h3>{t("application.events")}</h3>
          <ul className="events plain-list" id="application-events">
            {app.events.map((e) => (
              <li key={e.id}>
                <span className={`status status-${e.kind}`}>{t(`status.${e.kind}`)}</span> {e.by} ·{" "}
                {new Date(e.at).toLocaleString(lang)}
                {e.text ? <p className="event-text">{e.text}</p> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

function FormField({
  def,
  lang,
  text,
  error,
  onType,
  onCommit,
}: {
  def: FieldDef;
  lang: string;
  text: string;
  error: string | undefined;
  onType: (key: string, text: string) => void;
  onCommit: (key: string, text: string) => void;
}) {
  const { t } = useTranslation();
  const id = `field-${def.key}`;
  const label = `${tx(def.label, lang)}${def.required ? ` (${t("application.required")})` : ""}`;
  const help = tx(def.help ?? null, lang);
  const described = [help ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
  let input;
  if (def.type === "choice" || def.type === "bool") {
    const options =
      def.type === "bool"
        ? [
            { value: "true", label: t("common.yes") },
            { value: "false", label: t("common.no") },
          ]
        : def.options.map((o) => ({ value: o.value, label: tx(o.label, lang) }));
    input = (
      <select id={id} value={text} onChange={(e) => onType(def.key, e.target.value)} aria-describedby={described} aria-invalid={error ? true : undefined}>
        <option value="">{t("application.choose")}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    );
  } else {
    input = (
      <input
        id={id}
        type={def.type === "date" ? "date" : "text"}
        inputMode={def.type === "number" ? "numeric" : def.type === "phone" ? "tel" : undefined}
        value={text}
        maxLength={def.max_length ?? 200}
        onChange={(e) => onType(def.key, e.target.value)}
        onBlur={(e) => onCommit(def.key, e.target.value)}
        aria-describedby={described}
        aria-invalid={error ? true : undefined}
        autoComplete="off"
        spellCheck={false}
      />
    );
  }
  return (
    <div className={error ? "field field-invalid" : "field"}>
      <label htmlFor={id}>{label}</label>
      {input}
      {help ? (
        <p className="hint" id={`${id}-hint`}>
          {help}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}
