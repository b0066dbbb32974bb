import { useTranslation } from "react-i18next";

import type { Committee } from "../api";

/** A labelled choice among the supervisor's committees; the empty choice says `emptyLabel`. */
export function CommitteeSelect(props: {
  id: string;
  committees: Committee[];
  value: string;
  onChange: (id: string) => void;
  emptyLabel: string;
}) {
  const { t } = useTranslation();
  return (
    <label>
      {t("log.committee")}
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">{props.emptyLabel}</option>
        {props.committees.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
    </label>
  );
}
