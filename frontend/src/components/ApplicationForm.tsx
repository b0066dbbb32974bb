import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { type ApplicationView, type FieldDef, type Service, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import { formatDateTime, todayYmd } from "../dates";
import { DraftSaver, displayValue, formSteps, inputText, isMaskedField, listOf, staffStepTitle, tx } from "../logic";
import type { ScreenProps } from "./App";
import { BlobImage } from "./BlobImage";
import { ChoiceButtons, MAX_CHOICE_BUTTONS } from "./ChoiceButtons";
import { DateField } from "./DateField";
import type { QualityRecord } from "../camera/session";
import { HALF_BODY_LIMITS, LIMITS } from "../camera/guidance";
import { judgeFile } from "../camera/still";
import { FaceCamera } from "./FaceCamera";
import { FilePicker, PHOTO, PHOTO_OR_PDF } from "./FilePicker";
import { PhotoQualityNote } from "./PhotoQualityNote";
import { revealOnMount } from "./reveal";

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
  /** Masked values of personal-number fields, kept unless something is typed over them. */
  const [maskedKept, setMaskedKept] = useState<Record<string, string>>({});
  /** Fields typed into on this screen: only those are saved when left. */
  const dirty = useRef(new Set<string>());
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [step, setStep] = useState(0);
  const [error, setError] = useState<UiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [uploading, setUploading] = useState<string | null>(null);
  const [amending, setAmending] = useState(false);
  /** What the last submit did, for the volunteer to read. */
  const [submitted, setSubmitted] = useState(false);
  /** Steps the resident asked to change; the volunteer clears them once fixed. */
  const [flags, setFlags] = useState<string[]>(flagged);
  const [confirmFlags, setConfirmFlags] = useState(false);

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
        const service = all.find((s) => s.code === a.service);
        // Personal numbers come masked: their inputs start empty, the masked value shown
        // beside them, and left empty they keep what is on record.
        const hidden = (key: string) => {
          const def = service?.fields.find((f) => f.key === key);
          return !a.revealed && def !== undefined && isMaskedField(def);
        };
        const kept: Record<string, string> = {};
        for (const [k, v] of Object.entries(a.fields)) if (hidden(k) && inputText(v)) kept[k] = inputText(v);
        for (const x of a.typed) if (hidden(x.key) && x.text) kept[x.key] = x.text;
        setMaskedKept(kept);
        // Sent back by a supervisor: open where the note and the whole form are in view.
        if (a.status === "returned" && service) setStep(formSteps(service).length);
        // What was typed and kept as typed (not passing its checks yet) shows as typed.
        setTexts({
          ...Object.fromEntries(Object.entries(a.fields).map(([k, v]) => [k, hidden(k) ? "" : inputText(v)])),
          ...Object.fromEntries(a.typed.map((x) => [x.key, hidden(x.key) ? "" : x.text])),
        });
        setFieldErrors(Object.fromEntries(a.typed.map((x) => [x.key, errorText(t, x.code ?? "invalid_input")])));
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
      // Every text is saved exactly as typed; the device answers what is wrong with it.
      new DraftSaver(async (key, text) => {
        if (!defs.has(key)) return;
        try {
          const problem = await api.typeApplicationField(id, key, text);
          setFieldErrors((e) => {
            const { [key]: _, ...rest } = e;
            return problem ? { ...rest, [key]: errorText(t, problem) } : rest;
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

  // A decided application is changed only once a supervisor reopened it for a
  // correction (or, on a supervisor's device, the change itself reopens it).
  const amendable = app.amendable;
  // What the supervisor asked to be corrected when reopening it, if they wrote it.
  const reopenNote = app.events.filter((e) => e.kind === "reopened").at(-1)?.text.trim() ?? "";
  const editable = app.status === "draft" || app.status === "returned" || (amending && amendable);
  const steps = formSteps(service);
  const last = steps.length; // the check-and-submit screen
  const attachedSlots = app.attachments.map((a) => a.slot);
  // What stops submission, as the device judges it: fields and attachments (each leads
  // to its step), the resident's consent and her authorization.
  const blockers = app.blockers;
  const missing = blockers.flatMap((b) => ((b.field === "form" || b.field === "attachment") && b.key ? [b.key] : []));
  const lastReturn = [...app.events].reverse().find((e) => e.kind === "returned" || e.kind === "rejected");

  const type = (key: string, text: string) => {
    setTexts((prev) => ({ ...prev, [key]: text }));
    dirty.current.add(key);
    // Left empty, a masked personal number keeps what is on record.
    if (text === "" && maskedKept[key]) return;
    // A date half typed ("2027-1-") waits until it is complete or the volunteer leaves it
    // (commit), so no error shows while they move from the month to the day.
    if (defs.get(key)?.type === "date" && text !== "" && !/^\d{4}-\d{2}-\d{2}$/.test(text)) return;
    saver.typed(key, text);
  };

  // Leaving a field saves what it shows at once, whatever keystrokes are still queued.
  const commit = (key: string, text: string) => {
    if (!dirty.current.has(key) || (text === "" && maskedKept[key])) return;
    saver.typed(key, text);
    void saver.flush();
  };

  const go = async (next: number) => {
    await saver.flush();
    await reload();
    setStep(Math.max(0, Math.min(last, next)));
  };

  const remove = async (slot: string, sha256: string) => {
    setUploading(slot);
    try {
      await api.removeAttachment(id, sha256);
      await reload();
    } catch (thrown) {
      setFieldErrors((e) => ({ ...e, [slot]: errorText(t, toUiError(thrown).code) }));
    } finally {
      setUploading(null);
    }
  };

  /** Attaches `file`; only once it is in are the files it `replaces` removed, so a
   * refused retake keeps the photo the slot had. */
  const attach = async (slot: string, file: File, replaces: string[], quality?: QualityRecord) => {
    setUploading(slot);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const sha256 = await api.attachFile(id, slot, file.name, bytes, quality);
      for (const old of replaces) if (old !== sha256) await api.removeAttachment(id, old);
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

  const handToResident = () =>
    void saver
      .flush()
      .then(() => api.enterResidentMode())
      .then(() => navigate({ name: "resident-mode", id }))
      .catch((thrown) => setError(toUiError(thrown)));

  const submit = async () => {
    if (submitting) return;
    // The resident asked for changes: the volunteer confirms they are made first.
    if (flags.length > 0 && !confirmFlags) {
      setConfirmFlags(true);
      return;
    }
    setConfirmFlags(false);
    setSubmitting(true);
    setError(null);
    setSubmitted(false);
    try {
      await saver.flush();
      await api.submitApplication(id);
      setFlags([]);
      setSubmitted(true);
      await reload();
    } catch (thrown) {
      const err = toUiError(thrown);
      setError(err);
      const marks: Record<string, string> = {};
      for (const f of err.fields ?? []) if (f.key && (f.field === "form" || f.field === "attachment")) marks[f.key] = errorText(t, f.code);
      setFieldErrors((e) => ({ ...e, ...marks }));
      await reload();
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
        <button type="button" id="hand-to-resident" className="primary" onClick={handToResident}>
          {t("application.handToResident")}
        </button>
        <button type="button" className="secondary" onClick={() => void saver.flush().then(() => navigate({ name: "resident", id: app.resident_id }))}>
          {t("common.back")}
        </button>
      </div>
      {lastReturn && (app.status === "returned" || app.status === "rejected") ? (
        <div className="review-note card" id="application-review-note" role="note">
          <strong>{t(`status.${lastReturn.kind}`)}</strong> · {lastReturn.by} · {formatDateTime(lastReturn.at, lang)}
          <p id="application-review-text">{lastReturn.text}</p>
        </div>
      ) : null}
      {flags.length > 0 ? (
        <div className="warning" id="application-flagged" role="note">
          <p>{t("application.flagged")}</p>
          <ul>
            {flags.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
          <button type="button" id="application-flags-done" className="secondary" onClick={() => setFlags([])}>
            {t("application.flagsDone")}
          </button>
        </div>
      ) : null}
      {app.conflicted_fields.length > 0 ? (
        <p className="warning">
          {t("application.conflicted")}{" "}
          <button type="button" className="link" onClick={() => navigate({ name: "conflicts" })}>
            {t("residentPage.resolve")}
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
          {app.status !== "approved" && reopenNote ? ` ${t("application.reopenedNote", { text: reopenNote })}` : ""}
        </p>
      ) : null}
      {editable ? (
        <ol className="stepper" aria-label={t("application.steps")}>
          {[
            ...steps.map((s) => staffStepTitle(service, [...s.fields, ...s.attachments], lang) || t("application.moreDetails")),
            t("application.check"),
          ].map((title, i) => {
            // A step with something missing or wrong says so on its button.
            const keys = steps[i] ? [...steps[i].fields, ...steps[i].attachments] : [];
            // Missing items count once a submit has named them; wrong ones always.
            const tried = error?.code === "invalid_input";
            const troubled = keys.some((k) => fieldErrors[k] !== undefined || (tried && missing.includes(k)));
            return (
              <li key={i}>
                <button
                  type="button"
                  id={`step-${i}`}
                  className={troubled ? "step-button step-troubled" : "step-button"}
                  aria-current={i === step ? "step" : undefined}
                  onClick={() => void go(i)}
                >
                  {i + 1}. {title}
                  {troubled ? <span className="step-flag"> · {t("application.stepNeedsWork")}</span> : null}
                </button>
              </li>
            );
          })}
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
                kept={maskedKept[key]}
                error={fieldErrors[key]}
                onType={type}
                onCommit={commit}
              />
            ) : null;
          })}
          {current.attachments.map((slot) => {
            const def = service.attachments.find((a) => a.key === slot);
            // A stamped copy after the original it was made from.
            const attached = app.attachments.filter((a) => a.slot === slot).sort((a, b) => Number(!!a.stamp) - Number(!!b.stamp));
            return (
              <div key={slot} className={fieldErrors[slot] ? "field field-invalid" : "field"}>
                <p className="field-label" id={`attach-${slot}-label`}>
                  {tx(def?.label, lang)}
                  {def?.required ? t("application.requiredMark") : ""}
                </p>
                <ul className="attachments" id={`attached-${slot}`}>
                  {attached.map((a) => (
                    <li key={a.sha256 + a.added_at} className="attachment">
                      {a.mime.startsWith("image/") ? (
                        <BlobImage api={api} sha256={a.sha256} mime={a.mime} alt={tx(def?.label, lang)} />
                      ) : null}
                      {/* A stamped copy is named by its note below. */}
                      {a.stamp ? null : (
                        <span className="attachment-name">
                          {a.name} ({Math.ceil(a.size / 1024)} KB)
                        </span>
                      )}
                      <PhotoQualityNote attachment={a} id={`quality-${slot}`} />
                      {/* A stamped copy goes with its original. */}
                      {a.stamp ? null : (
                      <button
                        type="button"
                        className="secondary"
                        id={`remove-${slot}`}
                        disabled={uploading !== null}
                        onClick={() => void remove(slot, a.sha256)}
                      >
                        {t("application.removeFile")}
                      </button>
                      )}
                    </li>
                  ))}
                </ul>
                <FilePicker
                  id={`attach-${slot}`}
                  labelledBy={`attach-${slot}-label`}
                  text={attached.length > 0 ? t("application.retakeFile") : t("application.chooseFile")}
                  disabled={uploading !== null}
                  accept={def?.accepts === "photo_or_pdf" ? PHOTO_OR_PDF : PHOTO}
                  onFile={(file) =>
                    // A retake replaces what the slot held. A face photo chosen as a
                    // file is judged by the camera's checks first, and keeps what they found.
                    void (async () => {
                      const judged =
                        def?.sensitive === "face" && file.type.startsWith("image/")
                          ? await judgeFile(file, def.capture === "id_card" ? HALF_BODY_LIMITS : LIMITS)
                          : null;
                      await attach(
                        slot,
                        file,
                        attached.filter((a) => !a.stamp).map((a) => a.sha256),
                        judged ?? undefined,
                      );
                    })()
                  }
                />
                {def?.sensitive === "face" ? (
                  <FaceCamera
                    slot={slot}
                    mode={def.capture === "id_card" ? "id_card" : "face"}
                    consented={!blockers.some((b) => b.field === "consent" && b.key === "face")}
                    disabled={uploading !== null}
                    speak={(text) => void api.speak(text, lang).catch(() => undefined)}
                    onPhoto={(photo, quality) =>
                      void attach(
                        slot,
                        new File([photo], `${slot}.jpg`, { type: "image/jpeg" }),
                        attached.filter((a) => !a.stamp).map((a) => a.sha256),
                        quality,
                      )
                    }
                  />
                ) : null}
                {uploading === slot ? <p className="hint">{t("application.uploading")}</p> : null}
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
                <dd>{displayValue(app.fields[f.key], f, lang, { yes: t("common.yes"), no: t("common.no") }) || t("common.blank")}</dd>
              </div>
            ))}
            {service.attachments.map((a) => (
              <div key={a.key} className="detail-row">
                <dt>{tx(a.label, lang)}</dt>
                <dd>{attachedSlots.includes(a.key) ? t("application.attached") : t("common.blank")}</dd>
              </div>
            ))}
          </dl>
          {editable ? (
            <>
              {blockers.length > 0 ? (
                <div className="warning" id="application-missing">
                  <p>{t("application.missing")}</p>
                  <ul>
                    {blockers.map((b) =>
                      b.field === "consent" ? (
                        <li key={`consent-${b.key}`} data-blocker="consent_missing" data-key={b.key}>
                          {t("application.blockConsent", { data: t(`consent.${b.key}.short`) })}
                          <button type="button" className="link" onClick={handToResident}>
                            {t("application.handToResident")}
                          </button>
                        </li>
                      ) : b.field === "authorization" ? (
                        <li key="authorization" data-blocker="authorization_missing">
                          {t("application.blockAuthorization")}
                          <button
                            type="button"
                            className="link"
                            id="application-authorize"
                            onClick={() => void saver.flush().then(() => navigate({ name: "authorize", resident: app.resident_id }))}
                          >
                            {t("residentPage.authorize")}
                          </button>
                        </li>
                      ) : (
                        <li key={`${b.key}-${b.code}`} data-blocker={b.code} data-key={b.key}>
                          {/* Each missing item leads to the step that asks for it. */}
                          <button
                            type="button"
                            className="link"
                            data-key={b.key}
                            onClick={() => void go(Math.max(0, steps.findIndex((s) => s.fields.includes(b.key ?? "") || s.attachments.includes(b.key ?? ""))))}
                          >
                            {tx(defs.get(b.key ?? "")?.label ?? service.attachments.find((a) => a.key === b.key)?.label, lang)}
                          </button>
                          {b.code === "required" ? null : <span className="blocker-why">{errorText(t, b.code)}</span>}
                        </li>
                      ),
                    )}
                  </ul>
                </div>
              ) : null}
              {app.status === "draft" || app.status === "returned" ? (
                <button
                  id="application-submit"
                  type="button"
                  // Something is missing: it looks unavailable and says why (the list
                  // above), yet a tap still saves what was typed and checks again.
                  className={blockers.length > 0 ? "primary is-blocked" : "primary"}
                  aria-disabled={blockers.length > 0}
                  aria-describedby={blockers.length > 0 ? "application-missing" : undefined}
                  disabled={submitting}
                  onClick={() => void submit()}
                >
                  {app.status === "returned" ? t("application.resubmit") : t("application.submit")}
                </button>
              ) : null}
            </>
          ) : null}
          {confirmFlags ? (
            <div
              className="warning"
              id="application-confirm-flags"
              role="alertdialog"
              aria-labelledby="application-confirm-flags-text"
              ref={revealOnMount}
            >
              <p id="application-confirm-flags-text">{t("application.confirmFlags", { steps: listOf(flags, i18n.language) })}</p>
              <div className="actions">
                <button type="button" className="primary" id="application-confirm-flags-yes" onClick={() => void submit()}>
                  {t("application.confirmFlagsYes")}
                </button>
                <button type="button" className="secondary" id="application-confirm-flags-no" onClick={() => setConfirmFlags(false)}>
                  {t("application.confirmFlagsNo")}
                </button>
              </div>
            </div>
          ) : null}
          {submitted && app.status === "submitted" ? (
            <p role="status" className="success" id="application-submitted" ref={revealOnMount}>
              {t("application.submittedNote")}
            </p>
          ) : null}
          {error && !(error.code === "invalid_input" && blockers.length === 0 && Object.keys(fieldErrors).length === 0) ? (
            <p role="alert" className="field-error" id="application-error">
              {error.code === "invalid_input" ? t("application.fixMissing") : errorText(t, error.code)}
            </p>
          ) : null}
          <h3>{t("application.events")}</h3>
          {app.events.length === 0 ? <p id="application-no-events">{t("application.noEvents")}</p> : null}
          <ul className="events plain-list" id="application-events">
            {app.events.map((e) => (
              <li key={e.id}>
                <span className={`status status-${e.kind}`}>{t(`status.${e.kind}`)}</span> {e.by || t("conflicts.unknownPerson")} ·{" "}
                {formatDateTime(e.at, lang)}
                {e.consent ? (
                  <p className="event-text">
                    {t("consent.event", {
                      data: t(`consent.${e.consent.data}.short`),
                      decision: e.consent.agreed ? t("consent.agreed") : t("consent.declined"),
                    })}
                  </p>
                ) : null}
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
  kept,
  error,
  onType,
  onCommit,
}: {
  def: FieldDef;
  lang: string;
  text: string;
  /** The masked value on record, kept while the input stays empty. */
  kept?: string | undefined;
  error: string | undefined;
  onType: (key: string, text: string) => void;
  onCommit: (key: string, text: string) => void;
}) {
  const { t } = useTranslation();
  const id = `field-${def.key}`;
  // A kept value on record fills the field: "required" beside it would say otherwise.
  const label = `${tx(def.label, lang)}${def.required && !kept ? t("application.requiredMark") : ""}`;
  const help = tx(def.help ?? null, lang);
  const described = [help || kept ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
  const labelId = `${id}-label`;
  const hintId = help || kept ? `${id}-hint` : undefined;
  const options =
    def.type === "bool"
      ? [
          { value: "true", label: t("common.yes") },
          { value: "false", label: t("common.no") },
        ]
      : def.options.map((o) => ({ value: o.value, label: tx(o.label, lang) }));
  const buttons = (def.type === "choice" || def.type === "bool") && options.length <= MAX_CHOICE_BUTTONS;
  // A group of inputs is named by aria-labelledby; a <label> can name only one input.
  const grouped = buttons || def.type === "date";
  let input;
  if (def.type === "date") {
    input = (
      <DateField
        id={id}
        value={text}
        max={noFutureDate(def) ? todayYmd() : undefined}
        labelledBy={labelId}
        describedBy={hintId}
        error={error}
        onChange={(value) => onType(def.key, value)}
        onCommit={(value) => onCommit(def.key, value)}
      />
    );
  } else if (buttons) {
    input = (
      <ChoiceButtons
        id={id}
        options={options}
        value={text}
        labelledBy={labelId}
        describedBy={described}
        invalid={error ? true : undefined}
        onChoose={(value) => {
          // No blur follows a tap: the choice is saved at once.
          onType(def.key, value);
          onCommit(def.key, value);
        }}
      />
    );
  } else if (def.type === "choice" || def.type === "bool") {
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
        type="text"
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
  const shownHelp = [kept ? t("application.keepMasked", { masked: kept }) : "", help].filter(Boolean).join(" ");
  const hint = shownHelp ? (
    <p className="hint" id={hintId}>
      {shownHelp}
    </p>
  ) : null;
  return (
    <div className={error ? "field field-invalid" : "field"}>
      {grouped ? (
        <span className="label" id={labelId}>
          {label}
        </span>
      ) : (
        <label htmlFor={id} id={labelId}>
          {label}
        </label>
      )}
      {/* A date's hint goes above its boxes: its error line sits right below them. */}
      {def.type === "date" ? hint : null}
      {input}
      {def.type === "date" ? null : hint}
      {def.type === "date" ? null : (
        // Always there, so the form does not move when an error comes or goes.
        <p className="field-error reserve" id={error ? `${id}-error` : undefined}>
          {error ?? ""}
        </p>
      )}
    </div>
  );
}

/** Date fields that cannot lie in the future: the date a pension was last certified. */
function noFutureDate(def: FieldDef): boolean {
  return def.type === "date" && def.past === true;
}
