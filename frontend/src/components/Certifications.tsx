import type { TFunction } from "i18next";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import type { CertificationView } from "../api";
import { formatDate, formatMonth } from "../dates";
import type { Navigate } from "./App";

/**
 * What a resident's yearly pension certification needs, in words: its window (overdue
 * since a month, due by a day, next in a month), then the last certification and how it
 * is known, then an application under way.
 */
export function certificationText(t: TFunction, c: CertificationView, lang: string): string {
  const parts: string[] = [];
  if (c.state === "overdue") parts.push(t("certification.overdue", { month: formatMonth(c.due_from, lang) }));
  else if (c.state === "done") parts.push(t("certification.next", { month: formatMonth(c.due_from, lang) }));
  else if (c.from_last) parts.push(t("certification.dueThisMonth", { by: formatDate(c.due_by, lang) }));
  else parts.push(t("certification.dueNoRecord", { by: formatDate(c.due_by, lang) }));
  if (c.last_certified) {
    const date = formatDate(c.last_certified, lang);
    if (c.certified_by === "filed") {
      parts.push(
        c.reference
          ? t("certification.lastFiled", { date, reference: c.reference })
          : t("certification.lastFiledNoReference", { date }),
      );
    } else parts.push(t("certification.lastRecorded", { date }));
  }
  if (c.application_status) parts.push(t("certification.underWay", { status: t(`status.${c.application_status}`) }));
  return parts.join(t("certification.separator"));
}

/** The state as a badge: 已逾期, 待认证, 已认证. */
export function CertificationBadge({ c }: { c: CertificationView }) {
  const { t } = useTranslation();
  return <span className={`status certification-${c.state}`}>{t(`certification.state.${c.state}`)}</span>;
}

/** How many residents a list shows before "show all" (a committee new to Doorstep has
 * no certification on record for anyone: every pensioner is due). */
export const SHOWN_AT_FIRST = 20;

/**
 * The residents whose certification needs doing, the most pressing first (as the device
 * orders them), each opening the resident's page; `committeeName` shows each one's
 * committee (a supervisor's several).
 */
export function CertificationList(props: {
  id: string;
  items: CertificationView[];
  navigate: Navigate;
  committeeName?: (id: string) => string;
}) {
  const { t, i18n } = useTranslation();
  const [all, setAll] = useState(false);
  const shown = all ? props.items : props.items.slice(0, SHOWN_AT_FIRST);
  return (
    <>
      {props.items.length === 0 ? <p className="empty">{t("certification.none")}</p> : null}
      <ul className="plain-list" id={props.id}>
        {shown.map((c) => (
          <li key={c.resident}>
            <button
              type="button"
              className="row-button certification-row"
              data-resident={c.resident}
              data-state={c.state}
              onClick={() => props.navigate({ name: "resident", id: c.resident })}
            >
              <span className="row-title">
                {c.resident_name}
                {props.committeeName ? ` · ${props.committeeName(c.committee)}` : ""}
              </span>
              <span className="row-detail">{certificationText(t, c, i18n.language)}</span>
              <CertificationBadge c={c} />
            </button>
          </li>
        ))}
      </ul>
      {shown.length < props.items.length ? (
        <button type="button" className="secondary" id={`${props.id}-all`} onClick={() => setAll(true)}>
          {t("certification.showAll", { count: props.items.length })}
        </button>
      ) : null}
    </>
  );
}
