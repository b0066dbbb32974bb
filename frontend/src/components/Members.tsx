import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type MemberView, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import type { ScreenProps } from "./App";
import { TextField } from "./TextField";

/**
 * The people who use this tablet. Each unlocks with their own PIN and signs their own
 * work; another is added with the one-time code the office made for them and the PIN
 * they choose, or, by a supervisor at work here, by name (the server makes the code).
 * Whoever the office removes can no longer unlock (their work stays).
 */
export function Members({ api, generation }: ScreenProps) {
  const { t } = useTranslation();
  const [members, setMembers] = useState<MemberView[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(() => {
    api.members().then(setMembers, (thrown) => setError(toUiError(thrown)));
  }, [api]);
  useEffect(load, [load, generation]);

  const supervisor = members?.find((m) => m.active)?.role === "supervisor";
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
      {supervisor ? (
        <AddMember
          id="member-by-name"
          title={t("members.byNameTitle")}
          intro={t("members.byNameIntro")}
          label={t("members.name")}
          maxLength={50}
          members={members ?? []}
          add={(name, pin) => api.addMemberByName(name, pin)}
          onAdded={setMembers}
        />
      ) : null}
      <AddMember
        id="member"
        title={t("members.addTitle")}
        intro={t("members.addIntro")}
        label={t("members.code")}
        hint={t("members.codeHint")}
        maxLength={600}
        members={members ?? []}
        add={(code, pin) => api.addMember(code, pin)}
        onAdded={setMembers}
      />
    </section>
  );
}

/** A form that adds a person: a code (or a name) and their PIN, typed twice. */
function AddMember(props: {
  id: string;
  title: string;
  intro: string;
  label: string;
  hint?: string | undefined;
  maxLength: number;
  members: MemberView[];
  add: (text: string, pin: string) => Promise<MemberView[]>;
  onAdded: (members: MemberView[]) => void;
}) {
  const { t } = useTranslation();
  const { id } = props;
  const [text, setText] = useState("");
  const [pin, setPin] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    setAdded(null);
    if (pin !== again) {
      setError(t("pin.mismatch"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const before = new Set(props.members.map((m) => m.id));
      const after = await props.add(text.trim(), pin);
      props.onAdded(after);
      setAdded(after.find((m) => !before.has(m.id))?.name ?? null);
      setText("");
      setPin("");
      setAgain("");
    } catch (thrown) {
      const err = toUiError(thrown);
      setError(errorText(t, err.fields?.[0]?.code ?? err.code));
    } finally {
      setBusy(false);
    }
  };

  const pinField = (fieldId: string, label: string, value: string, set: (v: string) => void) => (
    <div className="field">
      <label htmlFor={fieldId}>{label}</label>
      <input
        id={fieldId}
        type="password"
        inputMode="numeric"
        autoComplete="off"
        maxLength={12}
        value={value}
        onChange={(e) => set(e.target.value.replace(/\D/g, ""))}
      />
    </div>
  );

  return (
    <form className="card member-add" id={`${id}-add`} onSubmit={submit} noValidate aria-labelledby={`${id}-add-title`}>
      <h3 id={`${id}-add-title`}>{props.title}</h3>
      <p>{props.intro}</p>
      <TextField
        id={`${id}-text`}
        label={props.label}
        {...(props.hint ? { hint: props.hint } : {})}
        value={text}
        onChange={setText}
        maxLength={props.maxLength}
      />
      {pinField(`${id}-pin`, t("members.pin"), pin, setPin)}
      {pinField(`${id}-pin-again`, t("pin.again"), again, setAgain)}
      <button id={`${id}-add-submit`} type="submit" className="primary" disabled={busy || !text.trim() || !pin}>
        {busy ? t("enroll.working") : t("members.add")}
      </button>
      <div role="status" aria-live="polite">
        {added ? (
          <p id={`${id}-added`} className="saved">
            {t("members.added", { name: added })}
          </p>
        ) : null}
        {error ? (
          <p id={`${id}-error`} className="field-error">
            {error}
          </p>
        ) : null}
      </div>
    </form>
  );
}
