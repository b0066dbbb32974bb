import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type Committee,
  type ImportReport,
  type RejectedRow,
  type RosterLayout,
  type RosterPreview,
  type TaskProgress,
  type UiError,
  toUiError,
} from "../api";
import { formatDate } from "../dates";
import { errorText } from "../errors";
import type { ScreenProps } from "./App";
import { CommitteeSelect } from "./CommitteeSelect";
import { FilePicker } from "./FilePicker";
import { ProgressLine } from "./ProgressLine";
import { RosterLayoutPicker } from "./RosterLayoutPicker";

/** The roster import: a file read and shown before anything is saved, its sheet and
 * layout chosen where the file does not say, what it left out listed, then imported. */
export function RosterImport(props: { api: ScreenProps["api"]; committees: Committee[]; progress: TaskProgress | null }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [committee, setCommittee] = useState("");
  const [file, setFile] = useState<{ name: string; bytes: Uint8Array } | null>(null);
  const [preview, setPreview] = useState<RosterPreview | null>(null);
  /** The layout a person gave, when the file's own was not right or not there. */
  const [layout, setLayout] = useState<RosterLayout | null>(null);
  /** The sheet a person chose; `null`: the one the app found. */
  const [sheet, setSheet] = useState<string | null>(null);
  const [relayout, setRelayout] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    if (committee === "" && props.committees.length === 1) setCommittee(props.committees[0]?.id ?? "");
  }, [committee, props.committees]);

  /** Runs `work` with the panel busy; what goes wrong is shown. */
  const whileBusy = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };

  const choose = async (chosen: File | undefined) => {
    setPreview(null);
    setReport(null);
    setError(null);
    setLayout(null);
    setSheet(null);
    setRelayout(false);
    if (!chosen) return;
    await whileBusy(async () => {
      const bytes = new Uint8Array(await chosen.arrayBuffer());
      setFile({ name: chosen.name, bytes });
      setPreview(await props.api.previewRoster(chosen.name, bytes));
    });
  };

  const reread = async (given: RosterLayout) => {
    if (!file) return;
    await whileBusy(async () => {
      setPreview(await props.api.previewRoster(file.name, file.bytes, given, sheet));
      setLayout(given);
      setRelayout(false);
    });
  };

  const chooseSheet = async (chosen: string) => {
    if (!file) return;
    await whileBusy(async () => {
      // Another sheet is laid out afresh.
      setPreview(await props.api.previewRoster(file.name, file.bytes, null, chosen));
      setSheet(chosen);
      setLayout(null);
      setRelayout(false);
    });
  };

  const run = async () => {
    if (!file || busy) return;
    await whileBusy(async () => {
      setReport(await props.api.importRoster(file.name, file.bytes, committee || null, layout, sheet));
      setPreview(null);
    });
  };

  return (
    <div className="card" id="import-panel">
      <h3>{t("data.import")}</h3>
      <p>{t("data.importIntro")}</p>
      <CommitteeSelect
        id="import-committee"
        committees={props.committees}
        value={committee}
        onChange={setCommittee}
        emptyLabel={t("data.chooseCommittee")}
      />
      <p className="field-label" id="import-file-label">
        {t("data.file")}
        {file ? `${t("common.colon")}${file.name}` : ""}
      </p>
      <FilePicker
        id="import-file"
        labelledBy="import-file-label"
        text={t("data.chooseFile")}
        disabled={busy}
        accept=".xlsx,.xls,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"
        onFile={(chosen) => void choose(chosen)}
      />
      {preview && preview.sheets.length > 1 ? (
        <p>
          <label htmlFor="import-sheet">{t("data.sheet")}</label>{" "}
          <select
            id="import-sheet"
            value={preview.sheet ?? ""}
            disabled={busy}
            onChange={(e) => void chooseSheet(e.target.value)}
          >
            {preview.sheets.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </p>
      ) : null}
      {preview && (preview.layout === null || relayout) ? (
        <>
          {preview.layout === null ? (
            <p className="warning" id="import-layout-missing">
              {t("data.layoutMissing")}
            </p>
          ) : null}
          <RosterLayoutPicker
            key={`${file?.name ?? ""}-${preview.layout?.header_line ?? 0}`}
            head={preview.head}
            layout={preview.layout}
            busy={busy}
            onApply={(given) => void reread(given)}
          />
        </>
      ) : null}
      {preview && preview.layout !== null ? (
        <div id="import-preview">
          <p>
            {t("data.previewCounts", {
              rows: preview.rows,
              new: preview.new,
              registered: preview.already_registered,
              rejected: preview.rejected.length,
            })}
          </p>
          <p className="small" id="import-header-line">
            {preview.sheet === null
              ? t("data.headerLine", { line: preview.layout.header_line })
              : t("data.headerLineOfSheet", { line: preview.layout.header_line, sheet: preview.sheet })}
          </p>
          <p className="small">
            {t("data.columns")}
            {t("common.colon")}
            {preview.headers
              .map(([h, c]) => (c ? `${h} → ${t(`fields.${c}`)}` : `${h} (${t("data.ignored")})`))
              .join(t("common.separator"))}{" "}
            {!relayout ? (
              <button type="button" id="import-relayout" className="link" onClick={() => setRelayout(true)}>
                {t("data.layoutChange")}
              </button>
            ) : null}
          </p>
          {preview.sample.length > 0 ? (
            <table id="import-sample">
              <thead>
                <tr>
                  <th scope="col">{t("data.line")}</th>
                  <th scope="col">{t("fields.name")}</th>
                  <th scope="col">{t("fields.id_number")}</th>
                  <th scope="col">{t("fields.phone")}</th>
                  <th scope="col">{t("fields.birth_date")}</th>
                </tr>
              </thead>
              <tbody>
                {preview.sample.map((r) => (
                  <tr key={r.line}>
                    <td>{r.line}</td>
                    <td>{r.name}</td>
                    <td className="mono">{r.id_number_masked}</td>
                    <td className="mono">{r.phone_masked}</td>
                    <td>{formatDate(r.birth_date, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <Rejected rows={preview.rejected} id="import-preview-rejected" />
          <Merged preview={preview} />
          <Ignored preview={preview} />
          <button id="import-run" type="button" className="primary" disabled={busy || preview.new === 0} onClick={() => void run()}>
            {t("data.importNow", { count: preview.new })}
          </button>
        </div>
      ) : null}
      {busy && preview ? <ProgressLine progress={props.progress} label={t("data.importing")} /> : null}
      <div role="status" aria-live="polite">
        {report ? (
          <div id="import-report">
            <p className="saved">
              {t("data.imported", {
                added: report.added,
                registered: report.already_registered,
                rejected: report.rejected.length,
              })}
            </p>
            <Rejected rows={report.rejected} id="import-rejected" />
          </div>
        ) : null}
      </div>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
    </div>
  );
}

/** The refused rows of a roster, each with its line and reasons. */
function Rejected({ rows, id }: { rows: RejectedRow[]; id: string }) {
  const { t } = useTranslation();
  if (rows.length === 0) return null;
  return (
    <div className="rejected">
      <h4>{t("data.rejected", { count: rows.length })}</h4>
      <table id={id}>
        <thead>
          <tr>
            <th scope="col">{t("data.line")}</th>
            <th scope="col">{t("fields.name")}</th>
            <th scope="col">{t("data.reason")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.line} data-line={r.line}>
              <td>{r.line}</td>
              <td>{r.name}</td>
              <td>
                {r.problems
                  .map((p) => {
                    const column = t(`fields.${p.field}`, { defaultValue: p.field });
                    const first = p.first_line === undefined ? "" : t("data.firstOn", { line: p.first_line });
                    return `${column}${t("common.colon")}${errorText(t, p.code)}${first}`;
                  })
                  .join(t("common.separator"))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The lines of the file left out: titles, totals and notes, each with what it says. */
function Ignored({ preview }: { preview: RosterPreview }) {
  const { t } = useTranslation();
  if (preview.ignored_lines === 0) return null;
  const more = preview.ignored_lines - preview.ignored.length;
  return (
    <div id="import-ignored">
      <h4>{t("data.ignoredLines", { count: preview.ignored_lines })}</h4>
      <ul>
        {preview.ignored.map((line) => (
          <li key={line.line} data-line={line.line} data-kind={line.kind}>
            {t("data.ignoredLine", { line: line.line, kind: t(`data.ignoredKind.${line.kind}`), text: line.text })}
          </li>
        ))}
      </ul>
      {more > 0 ? <p className="small">{t("data.ignoredMore", { count: more })}</p> : null}
    </div>
  );
}

/** Cells merged over several rows of the table: filled into each row, or (a name, an ID
 * number) left for the supervisor to write in each resident's own row. */
function Merged({ preview }: { preview: RosterPreview }) {
  const { t } = useTranslation();
  if (preview.merged_cells === 0) return null;
  const more = preview.merged_cells - preview.merged.length;
  return (
    <div id="import-merged">
      <h4>{t("data.mergedCells", { count: preview.merged_cells })}</h4>
      <ul>
        {preview.merged.map((m) => (
          <li key={`${m.field}-${m.first_line}`} data-line={m.first_line} data-filled={m.filled}>
            {t(m.filled ? "data.mergedFilled" : "data.mergedNotFilled", {
              first: m.first_line,
              last: m.last_line,
              header: m.header,
              field: t(`fields.${m.field}`),
            })}
          </li>
        ))}
      </ul>
      {more > 0 ? <p className="small">{t("data.mergedMore", { count: more })}</p> : null}
    </div>
  );
}
