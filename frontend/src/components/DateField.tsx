import { type FocusEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { dateProblem, formatDate, joinDateParts, splitDateParts, todayYmd } from "../dates";

interface Props {
  /** The group's id; the inputs are `${id}-year`, `${id}-month` and `${id}-day`. */
  id: string;
  /** "YYYY-MM-DD", "" or an unfinished "Y-M-D" text as this field emitted it. */
  value: string;
  onChange: (text: string) => void;
  /** Called with the text when the focus leaves all three inputs. */
  onCommit?: (text: string) => void;
  /** The latest date allowed, "YYYY-MM-DD"; a later complete date is pointed out. */
  max?: string | undefined;
  /** The id of the element that names the whole date. */
  labelledBy?: string | undefined;
  /** Ids of hints that describe the date. */
  describedBy?: string | undefined;
  /** A message from the caller (the device refused the date), shown on the error line. */
  error?: string | undefined;
}

const PARTS = [
  { name: "year", size: 4 },
  { name: "month", size: 2 },
  { name: "day", size: 2 },
] as const;

type Parts = [string, string, string];

/** Digits only; full-width digits from a Chinese keyboard count as digits. */
function digits(raw: string, size: number): string {
  return raw
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\D/g, "")
    .slice(0, size);
}

/**
 * A date typed as three large numbers, year, month and day, instead of a small native
 * calendar. It emits "YYYY-MM-DD" once the parts are complete, and what was typed as
 * "Y-M-D" text before that; the error line below keeps its space, so nothing moves.
 */
export function DateField({ id, value, onChange, onCommit, max, labelledBy, describedBy, error }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [parts, setParts] = useState<Parts>(() => splitDateParts(value));

  // A value from outside (loaded, reset) replaces the parts; the echo of our own typing does not.
  useEffect(() => {
    setParts((old) => (joinDateParts(...old) === value ? old : splitDateParts(value)));
  }, [value]);

  const text = joinDateParts(...parts);
  const problem = dateProblem(text, max);
  let message = error ?? "";
  if (problem === "not_a_day") message = t("date.notADay");
  if (problem === "after_max" && max) {
    message = max === todayYmd() ? t("date.future") : t("date.afterMax", { date: formatDate(max, lang) });
  }
  const errorId = `${id}-error`;
  const described = [describedBy, message ? errorId : null].filter(Boolean).join(" ") || undefined;
  // Chinese writes the unit after the number (2026 年); English names the box above it.
  const unitsAfter = !lang.startsWith("en");

  const change = (index: number, raw: string) => {
    const next: Parts = [...parts];
    next[index] = digits(raw, PARTS[index]?.size ?? 4);
    setParts(next);
    onChange(joinDateParts(...next));
  };

  const blur = (e: FocusEvent<HTMLDivElement>) => {
    if (!e.currentTarget.contains(e.relatedTarget as Node | null)) onCommit?.(text);
  };

  return (
    <div className={message ? "date-field date-field-invalid" : "date-field"}>
      <div role="group" id={id} aria-labelledby={labelledBy} className="date-parts" onBlur={blur}>
        {PARTS.map((part, index) => {
          const nameId = `${id}-${part.name}-name`;
          const name = (
            <span className="date-part-name" id={nameId}>
              {t(`date.${part.name}`)}
            </span>
          );
          return (
            <label key={part.name} className={`date-part date-part-${part.name}${unitsAfter ? " units-after" : ""}`}>
              {unitsAfter ? null : name}
              <input
                id={`${id}-${part.name}`}
                className="date-input"
                type="text"
                inputMode="numeric"
                pattern="[0-9]*"
                autoComplete="off"
                maxLength={part.size}
                value={parts[index] ?? ""}
                onChange={(e) => change(index, e.target.value)}
                aria-labelledby={labelledBy ? `${labelledBy} ${nameId}` : undefined}
                aria-describedby={described}
                aria-invalid={message ? true : undefined}
              />
              {unitsAfter ? name : null}
            </label>
          );
        })}
      </div>
      <p className="field-error reserve" id={message ? errorId : undefined}>
        {message}
      </p>
    </div>
  );
}
