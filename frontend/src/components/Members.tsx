import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type MemberView, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import type { ScreenProps } from "./App";
import { TextField } from "./TextField";

/**
 * The people who use this tablet. Each unlocks with their own PIN and signs their own
 * work; another is added with the one-time code the office made for them and the PIN
 * they choose. Whoever the office removes can no longer unlock (their work stays).
 */
export function Members({ api, generation }: ScreenProps) {
  const { t } = useTranslation();
  const [members, setMembers] = useState<MemberView[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [code, setCode] = useState("");
  const [pin, setPin] = useState("");
  const [again, setAgain] = useState("");
  const [formError, setFormError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    api.members().then(setMembers, (thrown) => setError(toUiError(thrown)));
  }, [api]);
  useEffect(load, [load, generation]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    setAdded(null);
    if (pin !== again) {
      setFormError(t("pin.mismatch"));
      return;
    }
    setBusy(true);
    setFormError(null);
    try {
      const before = new Set((members ?? []).map((m) => m.id));
      const after = await api.addMember(code.trim(), pin);
      setMembers(after);
      setAdded(after.find((m) => !before.has(m.id))?.name ?? null);
      setCode("");
      setPin("");
      setAgain("");
    } catch (thrown) {
      const err = toUiError(thrown);
      setFormError(errorText(t, err.fields?.[0]?.code ?? err.code));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title" tabIndex={-1}>
        {t("members.title")}
      </h2>
      <p>{t("members.intro")}</p>
      {error ? (
        <p role="alert" className="error-banner">
          {errorText(t, error.code)}
        </p>
      ) : null}
      <ul className="plain-list" id="member-list">
        {(members ?? []).map((m) => (
          <li key={m.id} className="card member-card" data-member={m.id} data-removed={m.removed ? "true" : "false"}>
            <h3>{m.name}</h3>
            <p>
              {m.role ? t(`devices.role.${m.role}`) : null}
              {m.active ? <> · {t("members.atWork")}</> : null}
            </p>
            {m.removed ? <p className="warning">{t("members.removedLong")}</p> : null}
          </li>
        ))}
      </ul>
      <form className="card member-add" id="member-add" onSubmit={submit} noValidate aria-labelledby="member-add-title">
        <h3 id="member-add-title">{t("members.addTitle")}</h3>
        <p>{t("members.addIntro")}</p>
        <TextField
          id="member-code"
          label={t("members.code")}
          hint={t("members.codeHint")}
          value={code}
          onChange={setCode}
          maxLength={600}
        />
        <div className="field">
          <label htmlFor="member-pin">{t("members.pin")}</label>
          <input
            id="member-pin"
            type="password"
            inputMode="numeric"
            autoComplete="off"
            maxLength={12}
            value={pin}
            onChange={(e) => setPin(e.target.value.replace(/\D/g, ""))}
          />
        </div>
        <div className="field">
          <label htmlFor="member-pin-again">{t("pin.again")}</label>
          <input
            id="member-pin-again"
            type="password"
            inputMode="numeric"
            autoComplete="off"
            maxLength={12}
            value={again}
            onChange={(e) => setAgain(e.target.value.replace(/\D/g, ""))}
          />
        </div>
        <button id="member-add-submit" type="submit" className="primary" disabled={busy || !code.trim() || !pin}>
          {busy ? t("enroll.working") : t("members.add")}
        </button>
        <div role="status" aria-live="polite">
          {added ? (
            <p id="member-added" className="saved">
              {t("members.added", { name: added })}
            </p>
          ) : null}
          {formError ? (
            <p id="member-error" className="field-error">
              {formError}
            </p>
          ) : null}
        </div>
      </form>
    </section>
  );
}
