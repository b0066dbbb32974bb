import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type ApplicationRow, type Committee, type QueueItem, type Service, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import { queueByService, tx } from "../logic";
import type { ScreenProps } from "./App";

/** Submitted applications waiting for a decision, by service, oldest first. */
export function ReviewQueue({ api, navigate, generation }: ScreenProps) {
  const { t, i18n } = useTranslation();
  const [items, setItems] = useState<QueueItem[] | null>(null);
  const [services, setServices] = useState<Service[]>([]);
  const [approved, setApproved] = useState<ApplicationRow[]>([]);
  const [committees, setCommittees] = useState<Committee[]>([]);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    Promise.all([api.reviewQueue(), api.services(), api.listApplications(null), api.consoleCommittees()]).then(
      ([q, s, all, c]) => {
        setCommittees(c);
        setItems(q);
        setServices(s);
        setApproved(all.filter((a) => a.status === "approved"));
      },
      (thrown) => setError(toUiError(thrown)),
    );
  }, [api, generation]);

  const groups = queueByService(items ?? [], services);
  return (
    <section aria-labelledby="queue-title">
      <h2 id="queue-title" tabIndex={-1}>
        {t("queue.title")} <span className="count">{items?.length ?? ""}</span>
      </h2>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      {items && items.length === 0 ? <p className="empty" id="queue-empty">{t("queue.empty")}</p> : null}
      {groups.map(([code, list]) => (
        <div key={code} className="card queue-group" data-service={code}>
          <h3>
            {tx(services.find((s) => s.code === code)?.name, i18n.language) || code} <span className="count">{list.length}</span>
          </h3>
          <ul className="plain-list">
            {list.map((item) => (
              <li key={item.id}>
                <button
                  type="button"
                  className="row-button queue-row"
                  data-id={item.id}
                  onClick={() => navigate({ name: "review", id: item.id })}
                >
                  <span className="row-title">{item.resident_name}</span>
                  <span className="row-detail">
                    {t("queue.by", { name: item.submitted_by || t("conflicts.unknownPerson"), committee: committees.find((c) => c.id === item.committee)?.name ?? item.committee })}
                  </span>
                  <span className={`age ${item.age_days >= 5 ? "age-old" : ""}`}>{item.age_days === 0 ? t("queue.today") : t("queue.age", { count: item.age_days })}</span>
                  {item.conflicted ? <span className="badge-inline">{t("conflicts.badge")}</span> : null}
                </button>
              </li>
            ))}
          </ul>
        </div>
      ))}
      {approved.length > 0 ? (
        <div className="card" id="queue-to-file">
          <h3>
            {t("queue.toFile")} <span className="count">{approved.length}</span>
          </h3>
          <ul className="plain-list">
            {approved.map((a) => (
              <li key={a.id}>
                <button type="button" className="row-button queue-row" data-id={a.id} onClick={() => navigate({ name: "review", id: a.id })}>
                  <span className="row-title">{a.resident_name}</span>
                  <span className="row-detail">{tx(services.find((s) => s.code === a.service)?.name, i18n.language) || a.service}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
