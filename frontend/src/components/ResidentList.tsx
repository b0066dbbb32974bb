import { useTranslation } from "react-i18next";

import type { ResidentSummary } from "../api";

/** Everyone registered on this device, newest first. */
export function ResidentList({ residents }: { residents: ResidentSummary[] | null }) {
  const { t } = useTranslation();
  return (
    <>
      <h2 id="residents-title">
        {t("residents.title")}
        {residents ? <span className="count">{t("residents.count", { count: residents.length })}</span> : null}
      </h2>
      {residents && residents.length === 0 ? <p className="empty">{t("residents.empty")}</p> : null}
      <ul id="resident-list" className="resident-list">
        {(residents ?? []).map((r) => (
          <li key={r.id} className="resident" data-id={r.id}>
            <span className="resident-name">{r.name}</span>
            <span className="resident-detail">
              {t("residents.idNumber")} <span className="mono">{r.id_number_masked}</span>
            </span>
            <span className="resident-detail">
              {t("residents.phone")}{" "}
              {r.phone_masked ? <span className="mono">{r.phone_masked}</span> : t("residents.noPhone")}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}
