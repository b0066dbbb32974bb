import { useState } from "react";
import { useTranslation } from "react-i18next";

import type { RosterLayout } from "../api";

/** The fields a roster column can be read as. */
export const ROSTER_FIELDS = ["name", "id_number", "phone", "gender", "birth_date", "address"] as const;

/**
 * A roster's first lines as they appear, for a person to say which line names the
 * columns and what each column holds, where the file does not say it in words the app
 * knows (a title above the header, headers such as "老人信息").
 */
export function RosterLayoutPicker(props: {
  head: [number, string[]][];
  layout: RosterLayout | null;
  busy: boolean;
  onApply: (layout: RosterLayout) => void;
}) {
  const { t } = useTranslation();
  const width = Math.max(0, ...props.head.map(([, cells]) => cells.length));
  const [headerLine, setHeaderLine] = useState<number>(props.layout?.header_line ?? props.head[0]?.[0] ?? 1);
  const [columns, setColumns] = useState<(string | null)[]>(() =>
    Array.from({ length: width }, (_, i) => props.layout?.columns[i] ?? null),
  );
  const named = columns.filter((c): c is string => c !== null);
  const twice = named.find((c, i) => named.indexOf(c) !== i);
  const ready = named.includes("name") && named.includes("id_number") && twice === undefined;

  const setColumn = (i: number, value: string) =>
    setColumns((prev) => prev.map((c, j) => (j === i ? (value === "" ? null : value) : c)));

  return (
    <div className="roster-layout" id="roster-layout">
      <p>{t("data.layoutIntro")}</p>
      <div className="table-scroll">
        <table id="roster-layout-table">
          <thead>
            <tr>
              <th scope="col">{t("data.headerRow")}</th>
              <th scope="col">{t("data.line")}</th>
              {Array.from({ length: width }, (_, i) => (
                <th scope="col" key={i}>
                  <select
                    id={`roster-column-${i}`}
                    aria-label={t("data.columnN", { n: i + 1 })}
                    value={columns[i] ?? ""}
                    onChange={(e) => setColumn(i, e.target.value)}
                  >
                    <option value="">{t("data.notImported")}</option>
                    {ROSTER_FIELDS.map((f) => (
                      <option key={f} value={f}>
                        {t(`fields.${f}`)}
                      </option>
                    ))}
                  </select>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.head.map(([line, cells]) => (
              <tr key={line} data-line={line} className={line === headerLine ? "header-row" : undefined}>
                <td>
                  <input
                    type="radio"
                    name="roster-header-line"
                    id={`roster-header-${line}`}
                    aria-label={t("data.headerIsLine", { line })}
                    checked={line === headerLine}
                    onChange={() => setHeaderLine(line)}
                  />
                </td>
                <td>{line}</td>
                {Array.from({ length: width }, (_, i) => (
                  <td key={i}>{cells[i] ?? ""}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {twice ? (
        <p className="field-error" role="alert">
          {t("data.columnTwice", { field: t(`fields.${twice}`) })}
        </p>
      ) : !ready ? (
        <p className="hint">{t("data.layoutNeeds")}</p>
      ) : null}
      <button
        type="button"
        id="roster-layout-apply"
        className="primary"
        disabled={!ready || props.busy}
        onClick={() => props.onApply({ header_line: headerLine, columns })}
      >
        {t("data.layoutApply")}
      </button>
    </div>
  );
}
