import { useTranslation } from "react-i18next";

import type { ResidentSummary } from "../api";

/** Residents as a list of buttons, numbers masked. */
export function ResidentList({
  residents,
  onOpen,
}: {
  residents: ResidentSummary[] | null;
  onOpen: (id: string) => void;
}) {
  const { t } = useTranslation();
  return (
    <ul id="resident-list" className="resident-list">
      {(residents ?? []).map((r) => (
        <li key={r.id} className="resident" data-id={r.id}>
          <button type="button" className="row-button" onClick={() => onOpen(r.id)}>
            <span className="resident-name">{r.name}</span>
            <span className="resident-detail">
              {t("residents.idNumber")} <span className="mono">{r.id_number_masked}</span>
            </span>
            <span className="resident-detail">
              {t("residents.phone")}{" "}
              {r.phone_masked ? <span className="mono">{r.phone_masked}</span> : t("residents.noPhone")}
            </span>
            {r.conflicted ? <span className="badge-inline">{t("conflicts.badge")}</span> : null}
          </button>
        </li>
      ))}
    </ul>
  );
}
