import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type ResidentInput, type UiError, toUiError } from "../api";
import { errorText, fieldMessages } from "../errors";
import type { ScreenProps } from "./App";
import { TextField } from "./TextField";

const EMPTY: ResidentInput = { name: "", id_number: "", phone: "", address: "" };

/**
 * Registers a resident (`id` null) or edits one. Editing never shows the ID number: an
 * empty ID field keeps the one on record.
 */
export function ResidentForm({ api, navigate, id }: ScreenProps & { id: string | null }) {
  const { t } = useTranslation();
  const [input, setInput] = useState<ResidentInput>(EMPTY);
  const [maskedId, setMaskedId] = useState<string | null>(null);
  const [maskedPhone, setMaskedPhone] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (!id) return;
    api.resident(id, null).then(
      (r) => {
        // Personal numbers come masked: left empty, the ones on record stay.
        setInput({ name: r.name, id_number: "", phone: "", address: r.address });
        setMaskedId(r.id_number);
        setMaskedPhone(r.phone || null);
      },
      (thrown) => setError(toUiError(thrown)),
    );
  }, [api, id]);

  const set = (field: keyof ResidentInput) => (value: string) => setInput((prev) => ({ ...prev, [field]: value }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (saving) return;
    setSaving(true);
    try {
      const saved = id ? await api.updateResident(id, input) : await api.registerResident(input);
      navigate({ name: "resident", id: saved.id });
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setSaving(false);
    }
  };

  const messages = fieldMessages(t, error);
  const formLevel = error && (error.fields ?? []).length === 0 ? errorText(t, error.code) : null;
  return (
    <form className="card narrow" onSubmit={submit} noValidate aria-labelledby="register-title">
      <h2 id="register-title" tabIndex={-1}>
        {id ? t("register.editTitle") : t("register.title")}
      </h2>
      <TextField
        id="resident-name"
        label={t("register.name")}
        value={input.name}
        onChange={set("name")}
        error={messages.name}
        autoComplete="name"
        maxLength={60}
      />
      <TextField
        id="resident-id-number"
        label={t("register.idNumber")}
        hint={maskedId ? t("register.idKeep", { masked: maskedId }) : t("register.idNumberHint")}
        value={input.id_number}
        onChange={set("id_number")}
        error={messages.id_number}
        maxLength={24}
      />
      <TextField
        id="resident-phone"
        label={t("register.phone")}
        {...(maskedPhone ? { hint: t("register.phoneKeep", { masked: maskedPhone }) } : {})}
        value={input.phone}
        onChange={set("phone")}
        error={messages.phone}
        inputMode="tel"
        maxLength={20}
      />
      <TextField
        id="resident-address"
        label={t("register.address")}
        value={input.address ?? ""}
        onChange={set("address")}
        error={messages.address}
        maxLength={120}
      />
      <div className="actions">
        <button id="register-submit" type="submit" className="primary" disabled={saving}>
          {saving ? t("register.saving") : id ? t("register.save") : t("register.submit")}
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => navigate(id ? { name: "resident", id } : { name: "residents" })}
        >
          {t("common.cancel")}
        </button>
      </div>
      <div role="status" aria-live="polite" className="form-status">
        {error && (error.fields ?? []).length > 0 ? <p className="field-error">{t("register.fixFields")}</p> : null}
        {formLevel ? <p className="field-error">{formLevel}</p> : null}
      </div>
    </form>
  );
}
