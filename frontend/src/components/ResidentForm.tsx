import { type FormEvent, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { type EmergencyContact, type Needs, type ResidentInput, type ResidentPatch, type UiError, toUiError } from "../api";
import { errorText, fieldMessages } from "../errors";
import type { ScreenProps } from "./App";
import { TextField } from "./TextField";

const NO_NEEDS: Needs = { hearing: false, vision: false, mobility: false };
const NO_CONTACT: EmergencyContact = { name: "", phone: "", relation: "" };
const EMPTY: Required<ResidentInput> = {
  name: "",
  id_number: "",
  phone: "",
  gender: "",
  birth_date: "",
  address: "",
  needs: NO_NEEDS,
  emergency: NO_CONTACT,
};
const NEEDS = ["hearing", "vision", "mobility"] as const;

/** Numbers on record the volunteer chose to delete (shown masked, so not retyped). */
export interface Cleared {
  phone: boolean;
  emergencyPhone: boolean;
}

const NONE_CLEARED: Cleared = { phone: false, emergencyPhone: false };

/**
 * The edit a form makes: personal numbers (shown only masked) are sent when retyped,
 * sent empty when deleted, and left out otherwise, so the ones on record stay.
 */
export function editOf(input: Required<ResidentInput>, cleared: Cleared = NONE_CLEARED): ResidentPatch {
  const emergency: ResidentPatch["emergency"] = { name: input.emergency.name, relation: input.emergency.relation };
  if (input.emergency.phone.trim()) emergency.phone = input.emergency.phone;
  else if (cleared.emergencyPhone) emergency.phone = "";
  const edit: ResidentPatch = { name: input.name, address: input.address, needs: input.needs, emergency };
  if (input.id_number.trim()) edit.id_number = input.id_number;
  if (input.phone.trim()) edit.phone = input.phone;
  else if (cleared.phone) edit.phone = "";
  return edit;
}

/**
 * Under a masked number on record: what happens to it, and a button to delete it (or to
 * keep it after all).
 */
function KeepOrClear(props: { id: string; masked: string; cleared: boolean; onToggle: () => void }) {
  const { t } = useTranslation();
  return (
    <p className="hint keep-or-clear" id={`${props.id}-keep`}>
      {props.cleared ? t("register.phoneCleared", { masked: props.masked }) : t("register.phoneKeep", { masked: props.masked })}{" "}
      <button type="button" className="link" id={`${props.id}-clear`} onClick={props.onToggle}>
        {props.cleared ? t("register.phoneUnclear") : t("register.phoneClear")}
      </button>
    </p>
  );
}

/**
 * Registers a resident (`id` null) or edits one: who they are, the help they need on a
 * visit, and whom to call. Editing never shows the personal numbers: an empty ID or
 * phone field keeps the one on record.
 */
export function ResidentForm({ api, navigate, id }: ScreenProps & { id: string | null }) {
  const { t } = useTranslation();
  const [input, setInput] = useState<Required<ResidentInput>>(EMPTY);
  const [maskedId, setMaskedId] = useState<string | null>(null);
  const [maskedPhone, setMaskedPhone] = useState<string | null>(null);
  const [maskedContactPhone, setMaskedContactPhone] = useState<string | null>(null);
  const [cleared, setCleared] = useState<Cleared>(NONE_CLEARED);
  const [error, setError] = useState<UiError | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (!id) return;
    api.resident(id, null).then(
      (r) => {
        // Personal numbers come masked: left empty, the ones on record stay.
        setInput({
          name: r.name,
          id_number: "",
          phone: "",
          gender: "",
          birth_date: "",
          address: r.address,
          needs: r.needs,
          emergency: { ...r.emergency, phone: "" },
        });
        setMaskedId(r.id_number);
        setMaskedPhone(r.phone || null);
        setMaskedContactPhone(r.emergency.phone || null);
      },
      (thrown) => setError(toUiError(thrown)),
    );
  }, [api, id]);

  const set = (field: "name" | "id_number" | "phone" | "address") => (value: string) =>
    setInput((prev) => ({ ...prev, [field]: value }));
  const setContact = (field: keyof EmergencyContact) => (value: string) =>
    setInput((prev) => ({ ...prev, emergency: { ...prev.emergency, [field]: value } }));
  const toggleNeed = (need: keyof Needs) =>
    setInput((prev) => ({ ...prev, needs: { ...prev.needs, [need]: !prev.needs[need] } }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (saving) return;
    setSaving(true);
    try {
      const saved = id ? await api.updateResident(id, editOf(input, cleared)) : await api.registerResident(input);
      navigate({ name: "resident", id: saved.id });
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setSaving(false);
    }
  };

  // A refused form takes the volunteer to its first marked field (on a tall form the
  // marks may be out of sight, above or below).
  useEffect(() => {
    if (!error?.fields?.length) return;
    formRef.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus();
  }, [error]);

  const messages = fieldMessages(t, error);
  const formLevel = error && (error.fields ?? []).length === 0 ? errorText(t, error.code) : null;
  return (
    <form ref={formRef} className="card narrow" onSubmit={submit} noValidate aria-labelledby="register-title">
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
        value={input.phone}
        onChange={set("phone")}
        error={messages.phone}
        inputMode="tel"
        maxLength={20}
      />
      {maskedPhone && !input.phone.trim() ? (
        <KeepOrClear
          id="resident-phone"
          masked={maskedPhone}
          cleared={cleared.phone}
          onToggle={() => setCleared((c) => ({ ...c, phone: !c.phone }))}
        />
      ) : null}
      <TextField
        id="resident-address"
        label={t("register.address")}
        value={input.address}
        onChange={set("address")}
        error={messages.address}
        maxLength={120}
      />
      <fieldset className="needs" id="resident-needs">
        <legend>{t("register.needs")}</legend>
        <p className="hint needs-hint">{t("register.needsHint")}</p>
        {NEEDS.map((need) => (
          <label key={need} className="check">
            <input
              type="checkbox"
              id={`resident-need-${need}`}
              checked={input.needs[need]}
              onChange={() => toggleNeed(need)}
            />
            {t(`register.need.${need}`)}
          </label>
        ))}
      </fieldset>
      <fieldset className="emergency" id="resident-emergency">
        <legend>{t("register.emergency")}</legend>
        <TextField
          id="resident-emergency-name"
          label={t("register.emergencyName")}
          value={input.emergency.name}
          onChange={setContact("name")}
          error={messages.emergency_name}
          maxLength={60}
        />
        <TextField
          id="resident-emergency-relation"
          label={t("register.emergencyRelation")}
          value={input.emergency.relation}
          onChange={setContact("relation")}
          error={messages.emergency_relation}
          maxLength={40}
        />
        <TextField
          id="resident-emergency-phone"
          label={t("register.emergencyPhone")}
          value={input.emergency.phone}
          onChange={setContact("phone")}
          error={messages.emergency_phone}
          inputMode="tel"
          maxLength={20}
        />
        {maskedContactPhone && !input.emergency.phone.trim() ? (
          <KeepOrClear
            id="resident-emergency-phone"
            masked={maskedContactPhone}
            cleared={cleared.emergencyPhone}
            onToggle={() => setCleared((c) => ({ ...c, emergencyPhone: !c.emergencyPhone }))}
          />
        ) : null}
      </fieldset>
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
