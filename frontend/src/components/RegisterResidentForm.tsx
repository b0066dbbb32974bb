import { type FormEvent, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { type Api, type ResidentInput, type UiError, toUiError } from "../api";
import { errorText, fieldMessages } from "../errors";
import { TextField } from "./TextField";

const EMPTY: ResidentInput = { name: "", id_number: "", phone: "" };

interface Props {
  api: Api;
  onRegistered: () => void | Promise<void>;
}

/** Name, ID number and phone; refused fields are marked where they are. */
export function RegisterResidentForm({ api, onRegistered }: Props) {
  const { t } = useTranslation();
  const [input, setInput] = useState<ResidentInput>(EMPTY);
  const [error, setError] = useState<UiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [savedName, setSavedName] = useState<string | null>(null);
  const nameRef = useRef<HTMLDivElement>(null);

  const set = (field: keyof ResidentInput) => (value: string) => {
    setInput((prev) => ({ ...prev, [field]: value }));
    setSavedName(null);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (saving) {
      return;
    }
    setSaving(true);
    try {
      const saved = await api.registerResident(input);
      setInput(EMPTY);
      setError(null);
      setSavedName(saved.name);
      nameRef.current?.querySelector("input")?.focus();
      await onRegistered();
    } catch (thrown) {
      setError(toUiError(thrown));
      setSavedName(null);
    } finally {
      setSaving(false);
    }
  };

  const messages = fieldMessages(t, error);
  const formLevel = error && (error.fields ?? []).length === 0 ? errorText(t, error.code) : null;

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="register-title">
      <h2 id="register-title">{t("register.title")}</h2>
      <div ref={nameRef}>
        <TextField
          id="resident-name"
          label={t("register.name")}
          value={input.name}
          onChange={set("name")}
          error={messages.name}
          autoComplete="name"
          maxLength={60}
        />
      </div>
      <TextField
        id="resident-id-number"
        label={t("register.idNumber")}
        hint={t("register.idNumberHint")}
        value={input.id_number}
        onChange={set("id_number")}
        error={messages.id_number}
        maxLength={24}
      />
      <TextField
        id="resident-phone"
        label={t("register.phone")}
        value={input.phone}
        onChange={set("phone")}
        error={messages.phone}
        inputMode="tel"
        maxLength={20}
      />
      <button id="register-submit" type="submit" className="primary" disabled={saving}>
        {saving ? t("register.saving") : t("register.submit")}
      </button>
      <div role="status" aria-live="polite" className="form-status">
        {savedName ? <p className="saved">{t("register.saved", { name: savedName })}</p> : null}
        {error && (error.fields ?? []).length > 0 ? <p className="field-error">{t("register.fixFields")}</p> : null}
        {formLevel ? <p className="field-error">{formLevel}</p> : null}
      </div>
    </form>
  );
}
