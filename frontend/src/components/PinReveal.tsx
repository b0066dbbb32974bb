import { useState } from "react";
import { useTranslation } from "react-i18next";

import { toUiError } from "../api";
import { pinRefusalText } from "../errors";

/**
 * "Show the full numbers": personal numbers (ID, phone, accounts) come masked, and only
 * the volunteer's PIN shows them whole, for this view. A wrong PIN counts towards the
 * waits as at unlocking.
 */
export function PinReveal({
  id,
  revealed,
  onReveal,
  onHide,
}: {
  id: string;
  revealed: boolean;
  /** Asks the device again with the PIN; rejects when the PIN is refused. */
  onReveal: (pin: string) => Promise<void>;
  onHide: () => void;
}) {
  const { t } = useTranslation();
  const [asking, setAsking] = useState(false);
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);

  if (revealed) {
    return (
      <button id={`${id}-hide`} type="button" className="link" onClick={onHide}>
        {t("reveal.hide")}
      </button>
    );
  }
  if (!asking) {
    return (
      <button id={id} type="button" className="link" onClick={() => setAsking(true)}>
        {t("reveal.show")}
      </button>
    );
  }
  const submit = async () => {
    setError(null);
    try {
      await onReveal(pin);
      setAsking(false);
    } catch (thrown) {
      setError(pinRefusalText(t, toUiError(thrown)));
    } finally {
      setPin("");
    }
  };
  return (
    <form
      className="pin-reveal"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label htmlFor={`${id}-pin`}>{t("reveal.pin")}</label>
      <input
        id={`${id}-pin`}
        type="password"
        inputMode="numeric"
        autoComplete="off"
        maxLength={12}
        value={pin}
        onChange={(e) => setPin(e.target.value.replace(/\D/g, ""))}
      />
      <button id={`${id}-submit`} type="submit" className="primary">
        {t("reveal.confirm")}
      </button>
      <button type="button" className="secondary" onClick={() => setAsking(false)}>
        {t("common.cancel")}
      </button>
      {error ? (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
