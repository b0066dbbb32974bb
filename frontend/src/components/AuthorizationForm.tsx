import { type FormEvent, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { type Service, type UiError, toUiError } from "../api";
import { chinaToday, todayYmd } from "../dates";
import { errorText, fieldMessages } from "../errors";
import { addYears, tx, ymd } from "../logic";
import type { ScreenProps } from "./App";
import { DateField } from "./DateField";
import { type SignatureHandle, SignatureField } from "./SignatureField";

/** A proxy authorization (授权委托): which services, until when, signed by the resident. */
export function AuthorizationForm({ api, navigate, resident }: ScreenProps & { resident: string }) {
  const { t, i18n } = useTranslation();
  const [services, setServices] = useState<Service[]>([]);
  const [chosen, setChosen] = useState<string[]>([]);
  const [validTo, setValidTo] = useState(() => ymd(addYears(chinaToday(), 1)));
  const [error, setError] = useState<UiError | null>(null);
  const [saving, setSaving] = useState(false);
  const signature = useRef<SignatureHandle>(null);

  useEffect(() => {
    api.services().then(setServices, (thrown) => setError(toUiError(thrown)));
  }, [api]);

  // A message about a field goes once the field changes.
  const forget = (field: string) =>
    setError((e) => (e ? { ...e, fields: (e.fields ?? []).filter((f) => f.field !== field) } : e));
  const toggle = (code: string) => {
    setChosen((prev) => (prev.includes(code) ? prev.filter((c) => c !== code) : [...prev, code]));
    forget("services");
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (saving) return;
    setSaving(true);
    try {
      const png = await signature.current?.png();
      const sha = png ? await api.storeBlob(png) : "";
      await api.recordAuthorization(resident, {
        services: chosen,
        valid_from: todayYmd(),
        valid_to: validTo,
        signature: sha,
      });
      navigate({ name: "resident", id: resident });
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setSaving(false);
    }
  };

  const messages = fieldMessages(t, error);
  const formLevel = error && error.code !== "invalid_input" && (error.fields ?? []).length === 0 ? errorText(t, error.code) : null;
  return (
    <form className="card narrow" onSubmit={submit} noValidate aria-labelledby="authorize-title">
      <h2 id="authorize-title" tabIndex={-1}>
        {t("authorize.title")}
      </h2>
      <p>{t("authorize.intro")}</p>
      <fieldset className={messages.services ? "field field-invalid" : "field"}>
        <legend>{t("authorize.services")}</legend>
        {services.map((s) => (
          <label key={s.code} className="check">
            <input
              type="checkbox"
              id={`authorize-service-${s.code}`}
              checked={chosen.includes(s.code)}
              onChange={() => toggle(s.code)}
            />
            {tx(s.name, i18n.language)}
          </label>
        ))}
        {messages.services ? <p className="field-error">{messages.services}</p> : null}
      </fieldset>
      <div className={messages.valid_to ? "field field-invalid" : "field"}>
        <span className="label" id="authorize-valid-to-label">
          {t("authorize.validTo")}
        </span>
        <DateField id="authorize-valid-to" value={validTo} onChange={(v) => {
            setValidTo(v);
            forget("valid_to");
          }} labelledBy="authorize-valid-to-label" error={messages.valid_to} />
      </div>
      <SignatureField ref={signature} id="authorize-signature" label={t("authorize.signature")} error={messages.signature} />
      <div className="actions">
        <button id="authorize-submit" type="submit" className="primary" disabled={saving}>
          {t("authorize.submit")}
        </button>
        <button type="button" className="secondary" onClick={() => navigate({ name: "resident", id: resident })}>
          {t("common.cancel")}
        </button>
      </div>
      <div role="status" aria-live="polite">
        {formLevel ? <p className="field-error">{formLevel}</p> : null}
      </div>
    </form>
  );
}
