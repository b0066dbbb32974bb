import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type ResidentSummary, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import type { ScreenProps } from "./App";
import { ResidentList } from "./ResidentList";
import { AssignAll } from "./VisitOverview";

const SEARCH_DELAY_MS = 150;

/**
 * Search as you type (name, pinyin, ID or phone suffix), and register someone new. A
 * supervisor may assign the visits of the residents a search found to one person.
 */
export function ResidentsScreen({ api, navigate, generation, supervisor = false }: ScreenProps & { supervisor?: boolean }) {
  const { t } = useTranslation();
  const [query, setQuery] = useState("");
  const [residents, setResidents] = useState<ResidentSummary[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      api.searchResidents(query).then(
        (r) => {
          if (current) {
            setResidents(r);
            setError(null);
          }
        },
        (thrown) => current && setError(toUiError(thrown)),
      );
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, query, generation]);

  return (
    <section aria-labelledby="residents-title">
      <div className="screen-head">
        <h2 id="residents-title" tabIndex={-1}>
          {t("residents.title")}
          {residents ? <span className="count">{t("residents.count", { count: residents.length })}</span> : null}
        </h2>
        <button
          id="resident-new"
          type="button"
          className="primary"
          onClick={() => navigate({ name: "resident-form", id: null })}
        >
          {t("residents.register")}
        </button>
      </div>
      <div className="field search">
        <label htmlFor="resident-search">{t("residents.search")}</label>
        <input
          id="resident-search"
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder={t("residents.searchHint")}
          autoComplete="off"
          spellCheck={false}
        />
      </div>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      {residents && residents.length === 0 ? (
        <p className="empty">{query.trim() ? t("residents.noMatch") : t("residents.empty")}</p>
      ) : null}
      <ResidentList residents={residents} onOpen={(id) => navigate({ name: "resident", id })} />
      {supervisor && query.trim() && residents && residents.length > 0 ? (
        <details className="card" id="residents-assign" key={residents.map((r) => r.id).join(",")}>
          <summary>{t("visits.assignFoundTitle", { count: residents.length })}</summary>
          <AssignAll
            id="residents-assign-all"
            api={api}
            residents={residents.map((r) => r.id)}
            purpose="checkup"
            title={t("visits.assignFoundIntro", { count: residents.length })}
            onDone={() => undefined}
          />
        </details>
      ) : null}
    </section>
  );
}
