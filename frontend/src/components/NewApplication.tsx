import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type ServiceOffer, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import { tx } from "../logic";
import type { ScreenProps } from "./App";

/** The catalog for one resident: what they can apply for, and why not for the rest. */
export function NewApplication({ api, navigate, resident }: ScreenProps & { resident: string }) {
  const { t, i18n } = useTranslation();
  const [offers, setOffers] = useState<ServiceOffer[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.servicesFor(resident).then(setOffers, (thrown) => setError(toUiError(thrown)));
  }, [api, resident]);

  const start = async (code: string) => {
    if (busy) return;
    setBusy(true);
    try {
      const id = await api.startApplication(resident, code);
      navigate({ name: "application", id });
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };

  const lang = i18n.language;
  const eligible = (offers ?? []).filter((o) => o.eligible);
  const other = (offers ?? []).filter((o) => !o.eligible);
  return (
    <section aria-labelledby="new-application-title">
      <div className="screen-head">
        <h2 id="new-application-title" tabIndex={-1}>
          {t("newApplication.title")}
        </h2>
        <button type="button" className="secondary" onClick={() => navigate({ name: "resident", id: resident })}>
          {t("common.back")}
        </button>
      </div>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      <ul className="plain-list offers">
        {eligible.map((o) => (
          <li key={o.code} className="card offer">
            <h3>{tx(o.name, lang)}</h3>
            <p>{tx(o.summary, lang)}</p>
            {o.to_confirm.length > 0 ? (
              <div className="confirm">
                <p>{t("newApplication.confirm")}</p>
                <ul>
                  {o.to_confirm.map((c, i) => (
                    <li key={i}>{tx(c, lang)}</li>
                  ))}
                </ul>
              </div>
            ) : null}
            <button
              id={`start-${o.code}`}
              type="button"
              className="primary"
              disabled={busy}
              onClick={() => void start(o.code)}
            >
              {t("newApplication.start")}
            </button>
          </li>
        ))}
      </ul>
      {other.length > 0 ? (
        <>
          <h3>{t("newApplication.notEligible")}</h3>
          <ul className="plain-list offers">
            {other.map((o) => (
              <li key={o.code} className="card offer offer-ineligible" id={`ineligible-${o.code}`}>
                <h4>{tx(o.name, lang)}</h4>
                <ul>
                  {o.unmet.map((u, i) => (
                    <li key={i}>{tx(u, lang)}</li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
