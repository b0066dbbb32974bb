import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type AsideView, type RefusedView, type Service, type UiError, toUiError } from "../api";
import { formatDateTime } from "../dates";
import { errorText } from "../errors";
import { tx } from "../logic";
import type { ScreenProps } from "./App";

/**
 * Records that did not sync, each on its own: those the server refused (they wait on
 * this tablet until changed) and those received that this tablet could not store (kept
 * apart). Everything else syncs as usual; this screen says which, why, and what to do.
 */
export function UnsentScreen({ api, navigate, generation }: ScreenProps) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [refused, setRefused] = useState<RefusedView[] | null>(null);
  const [aside, setAside] = useState<AsideView[]>([]);
  const [services, setServices] = useState<Service[]>([]);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    let current = true;
    Promise.all([api.refusedRecords(), api.recordsAside(), api.services()]).then(
      ([r, a, s]) => {
        if (!current) return;
        setRefused(r);
        setAside(a);
        setServices(s);
      },
      (thrown) => current && setError(toUiError(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, generation]);

  const open = (r: RefusedView) =>
    navigate(r.kind === "application" ? { name: "application", id: r.id } : { name: "resident", id: r.id });

  return (
    <section aria-labelledby="unsent-title">
      <h2 id="unsent-title" tabIndex={-1}>
        {t("unsent.title")}
      </h2>
      <p>{t("unsent.intro")}</p>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      {refused && refused.length === 0 && aside.length === 0 ? (
        <p className="empty" id="unsent-none">
          {t("unsent.none")}
        </p>
      ) : null}
      {refused && refused.length > 0 ? (
        <>
          <h3>{t("unsent.refusedTitle")}</h3>
          <ul className="plain-list" id="refused-list">
            {refused.map((r) => (
              <li key={r.id} className="card" data-id={r.id} data-code={r.code}>
                <h4>
                  {r.kind === "authorization" ? (
                    r.resident_name
                  ) : (
                    <button type="button" className="link" onClick={() => open(r)}>
                      {r.resident_name || t("unsent.record", { id: r.id.slice(0, 8) })}
                      {r.service ? ` · ${tx(services.find((s) => s.code === r.service)?.name, lang)}` : ""}
                    </button>
                  )}
                </h4>
                <p className="field-error">{errorText(t, r.code)}</p>
                <p className="hint">{t("unsent.refusedHint")}</p>
                <p className="hint">{t("unsent.since", { time: formatDateTime(r.at, lang) })}</p>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {aside.length > 0 ? (
        <>
          <h3>{t("unsent.asideTitle")}</h3>
          <AsideList aside={aside} />
        </>
      ) : null}
    </section>
  );
}

/**
 * Received records (or changes of them) kept apart on this tablet, each with why and,
 * for changes that failed the signature or permission check, whose they claim to be.
 */
export function AsideList({ aside, id = "aside-list" }: { aside: AsideView[]; id?: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const author = (a: string) => (a.startsWith("?") ? t("unsent.unknownAuthor", { id: a.slice(1) }) : a);
  return (
    <ul className="plain-list" id={id}>
      {aside.map((a) => (
        <li key={a.doc_id} className="card" data-id={a.doc_id} data-code={a.code}>
          <h4>
            {t("unsent.record", { id: a.doc_id.slice(0, 8) })} · {t(`log.kind.${a.kind}`, { defaultValue: a.kind })}
          </h4>
          <p className="field-error">{t(`unsent.why.${a.code}`, { defaultValue: errorText(t, a.code) })}</p>
          {a.authors.length > 0 ? (
            <>
              <p className="aside-authors">{t("unsent.authors", { names: a.authors.map(author).join(t("unsent.nameSeparator")) })}</p>
              <p className="hint">{t("unsent.untrustedHint")}</p>
            </>
          ) : (
            <p className="hint">{t("unsent.asideHint")}</p>
          )}
          <p className="hint">
            {t("unsent.since", { time: formatDateTime(a.at, lang) })} · {t("unsent.changes", { count: a.changes })}
          </p>
        </li>
      ))}
    </ul>
  );
}
