import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type Api, type MemberView, type StartState, type UiError, toUiError } from "../api";
import { errorText, pinRefusalText } from "../errors";
import { waitSeconds } from "../logic";
import { TextField } from "./TextField";

interface Props {
  api: Api;
  onDone: (state: StartState) => void;
}

/** First run: the enrollment text (which names the server and pins its key), or a code and
 * the server's address for a server on this machine; or enroll later. */
export function EnrollScreen({ api, onDone, onSkip }: Props & { onSkip: (() => void) | null }) {
  const { t } = useTranslation();
  const [server, setServer] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      onDone(await api.enroll(server.trim(), code.trim()));
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="start">
      <form className="card start-card" onSubmit={submit} noValidate aria-labelledby="enroll-title">
        <h2 id="enroll-title">{t("enroll.title")}</h2>
        <p>{t("enroll.intro")}</p>
        <EnrollFields prefix="enroll" code={code} server={server} onCode={setCode} onServer={setServer} />
        <div className="actions">
          <button id="enroll-submit" type="submit" className="primary" disabled={busy}>
            {busy ? t("enroll.working") : t("enroll.submit")}
          </button>
          {onSkip ? (
            <button id="enroll-later" type="button" className="secondary" onClick={onSkip}>
              {t("enroll.later")}
            </button>
          ) : null}
        </div>
        <div role="status" aria-live="polite">
          {error ? (
            <p id="enroll-error" className="field-error">
              {errorText(t, error.code)}
            </p>
          ) : null}
        </div>
      </form>
    </main>
  );
}

/** Setting the PIN (first run), with the volunteer's name when not enrolled. */
export function SetPinScreen({ api, onDone, askName }: Props & { askName: boolean }) {
  const { t } = useTranslation();
  const [name, setName] = useState("");
  const [pin, setPin] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (pin !== again) {
      setError(t("pin.mismatch"));
      return;
    }
    setBusy(true);
    try {
      onDone(await api.setPin(pin, askName ? name : null));
    } catch (thrown) {
      const err = toUiError(thrown);
      setError(errorText(t, err.fields?.[0]?.code ?? err.code));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="start">
      <form className="card start-card" onSubmit={submit} noValidate aria-labelledby="pin-title">
        <h2 id="pin-title">{t("pin.setTitle")}</h2>
        <p>{t("pin.setIntro")}</p>
        {askName ? (
          <TextField id="volunteer-name" label={t("pin.yourName")} value={name} onChange={setName} maxLength={50} />
        ) : null}
        <PinField id="pin-new" label={t("pin.new")} value={pin} onChange={setPin} />
        <PinField id="pin-again" label={t("pin.again")} value={again} onChange={setAgain} />
        <button id="pin-set" type="submit" className="primary" disabled={busy}>
          {t("pin.set")}
        </button>
        <div role="status" aria-live="polite">
          {error ? (
            <p id="pin-error" className="field-error">
              {error}
            </p>
          ) : null}
        </div>
      </form>
    </main>
  );
}

/**
 * A tablet whose people the office all removed (reported lost): nobody unlocks it. Found
 * again, its first person enrolls it anew with a new code from the office and her PIN;
 * what was done on it stays.
 */
export function EnrollAgainScreen({ api, onDone, first }: Props & { first: string }) {
  const { t } = useTranslation();
  const [server, setServer] = useState("");
  const [code, setCode] = useState("");
  const [pin, setPin] = useState("");
  const { error, wait, refuse } = usePinRefusals(first);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      onDone(await api.enrollAgain(pin, server.trim(), code.trim()));
    } catch (thrown) {
      setPin("");
      refuse(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="start">
      <form className="card start-card" onSubmit={submit} noValidate aria-labelledby="enroll-again-title">
        <h2 id="enroll-again-title">{t("members.allRemovedTitle")}</h2>
        <p id="all-removed">{t("members.allRemovedIntro", { name: first })}</p>
        <EnrollFields prefix="enroll-again" code={code} server={server} onCode={setCode} onServer={setServer} />
        <PinField
          id="enroll-again-pin"
          label={t("members.firstPin", { name: first })}
          value={pin}
          onChange={setPin}
        />
        <button id="enroll-again-submit" type="submit" className="primary" disabled={busy || wait > 0}>
          {busy ? t("enroll.working") : t("members.enrollAgain")}
        </button>
        <div role="status" aria-live="polite">
          {error ? (
            <p id="enroll-again-error" className="field-error">
              {pinRefusalText(t, error, wait)}
            </p>
          ) : null}
        </div>
      </form>
    </main>
  );
}

/** Who unlocks by default: the one who was at work, unless the office removed them. */
function firstChoice(members: MemberView[]): string {
  const active = members.find((m) => m.active && !m.removed);
  return (active ?? members.find((m) => !m.removed) ?? members[0])?.id ?? "";
}

/**
 * The PIN screen (later starts, the idle lock, a change of person); `idleSecs` says it
 * locked itself after that long without use. A tablet shared by several people lists
 * them: each unlocks with their own PIN.
 */
export function UnlockScreen({
  api,
  onDone,
  volunteer,
  members = [],
  idleSecs = null,
}: Props & { volunteer: string; members?: MemberView[]; idleSecs?: number | null }) {
  const { t } = useTranslation();
  const [member, setMember] = useState(() => firstChoice(members));
  const [pin, setPin] = useState("");
  /** Each person's last refusal and wait: choosing another and back keeps a wait running. */
  const { error, wait, refuse } = usePinRefusals(member);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      onDone(await api.unlock(pin, member));
    } catch (thrown) {
      setPin("");
      refuse(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };

  const shared = members.length > 1;
  const chosen = members.find((m) => m.id === member);
  const activeRemoved = members.find((m) => m.active)?.removed ?? false;
  const choose = (id: string) => {
    setMember(id);
    setPin("");
  };
  return (
    <main className="start">
      <form className="card start-card" onSubmit={submit} noValidate aria-labelledby="unlock-title">
        <h2 id="unlock-title">{t("pin.unlockTitle")}</h2>
        {idleSecs !== null && !activeRemoved ? (
          <p id="pin-idle-locked">
            {idleSecs >= 60
              ? t("pin.idleLockedMinutes", { count: Math.round(idleSecs / 60) })
              : t("pin.idleLockedSeconds", { count: idleSecs })}
          </p>
        ) : null}
        {activeRemoved ? (
          <p id="member-removed" className="warning">
            {t("members.removedNotice", { name: members.find((m) => m.active)?.name ?? "" })}
          </p>
        ) : null}
        {shared ? (
          <fieldset className="member-choice">
            <legend>{t("members.who")}</legend>
            {members.map((m) => (
              <label key={m.id} className={m.removed ? "member removed" : "member"} data-member={m.id}>
                <input
                  type="radio"
                  name="member"
                  value={m.id}
                  checked={member === m.id}
                  disabled={m.removed}
                  onChange={() => choose(m.id)}
                />
                <span className="member-name">{m.name}</span>
                {m.role ? <span className="row-detail">{t(`devices.role.${m.role}`)}</span> : null}
                {m.removed ? <span className="member-removed-mark">{t("members.removed")}</span> : null}
              </label>
            ))}
          </fieldset>
        ) : volunteer ? (
          <p id="pin-unlock-for">{t("pin.unlockFor", { name: volunteer })}</p>
        ) : null}
        {shared && chosen && !chosen.removed ? (
          <p id="pin-unlock-for">{t("pin.unlockFor", { name: chosen.name })}</p>
        ) : null}
        <PinField id="pin-unlock" label={t("pin.enter")} value={pin} onChange={setPin} autoFocus />
        <button id="pin-unlock-submit" type="submit" className="primary" disabled={busy || wait > 0}>
          {t("pin.unlock")}
        </button>
        <div role="status" aria-live="polite">
          {error ? (
            <p id="pin-error" className="field-error">
              {pinRefusalText(t, error, wait)}
            </p>
          ) : null}
        </div>
      </form>
    </main>
  );
}

/**
 * The last refusal of a PIN for each of `key`'s values (a person), with the wait it
 * earned counting down each second: choosing another person and back keeps it running.
 */
function usePinRefusals(key: string) {
  const [refusals, setRefusals] = useState<Record<string, { error: UiError; until: number }>>({});
  const [now, setNow] = useState(() => Date.now());
  const waitUntil = refusals[key]?.until ?? 0;

  useEffect(() => {
    if (waitUntil <= now) return;
    const timer = setTimeout(() => setNow(Date.now()), 1000);
    return () => clearTimeout(timer);
  }, [waitUntil, now]);

  const refuse = (error: UiError) => {
    const start = Date.now();
    setNow(start);
    setRefusals((r) => ({ ...r, [key]: { error, until: start + (error.wait_ms ?? 0) } }));
  };
  return { error: refusals[key]?.error ?? null, wait: waitSeconds(waitUntil - now), refuse };
}

/** The enrollment text from the office and, for a server on this machine, its address. */
function EnrollFields(props: {
  prefix: string;
  code: string;
  server: string;
  onCode: (v: string) => void;
  onServer: (v: string) => void;
}) {
  const { t } = useTranslation();
  return (
    <>
      <TextField
        id={`${props.prefix}-code`}
        label={t("enroll.code")}
        hint={t("enroll.codeHint")}
        value={props.code}
        onChange={props.onCode}
        maxLength={600}
      />
      <TextField
        id={`${props.prefix}-server`}
        label={t("enroll.server")}
        hint={t("enroll.serverHint")}
        value={props.server}
        onChange={props.onServer}
        inputMode="url"
        maxLength={200}
      />
    </>
  );
}

function PinField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  autoFocus?: boolean;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="password"
        inputMode="numeric"
        autoComplete="off"
        maxLength={12}
        value={props.value}
        autoFocus={props.autoFocus}
        onChange={(e) => props.onChange(e.target.value.replace(/\D/g, ""))}
      />
    </div>
  );
}
