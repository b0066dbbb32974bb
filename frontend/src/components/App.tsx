import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type Api, type ResidentSummary, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import { LanguageSwitch } from "./LanguageSwitch";
import { RegisterResidentForm } from "./RegisterResidentForm";
import { ResidentList } from "./ResidentList";

/** The volunteer's main screen: register a resident, see everyone registered. */
export function App({ api }: { api: Api }) {
  const { t } = useTranslation();
  const [residents, setResidents] = useState<ResidentSummary[] | null>(null);
  const [loadError, setLoadError] = useState<UiError | null>(null);

  const refresh = useCallback(async () => {
    try {
      setResidents(await api.listResidents());
      setLoadError(null);
    } catch (thrown) {
      setLoadError(toUiError(thrown));
    }
  }, [api]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <div className="app">
      <header className="topbar">
        <div>
          <h1 className="brand">{t("app.name")}</h1>
          <p className="tagline">{t("app.tagline")}</p>
        </div>
        <div className="topbar-right">
          <span className="offline-badge">{t("app.offlineOnly")}</span>
          <LanguageSwitch />
        </div>
      </header>
      <main className="columns">
        <RegisterResidentForm api={api} onRegistered={refresh} />
        <section className="card" aria-labelledby="residents-title">
          {loadError ? (
            <p role="alert" className="error-banner">
              {t("residents.loadFailed")} {errorText(t, loadError.code)}
            </p>
          ) : null}
          <ResidentList residents={residents} />
        </section>
      </main>
    </div>
  );
}
