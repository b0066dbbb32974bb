import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type Committee,
  type Exported,
  type FileFormat,
  type ImportReport,
  type RejectedRow,
  type RosterLayout,
  type RosterPreview,
  type Service,
  type TaskProgress,
  type UiError,
  toUiError,
} from "../api";
import { formatDate } from "../dates";
import { errorText } from "../errors";
import { STATUSES, dayRange, percent, tx } from "../logic";
import type { ScreenProps } from "./App";
import { CommitteeSelect } from "./CommitteeSelect";
import { DateField } from "./DateField";
import { FilePicker } from "./FilePicker";
import { RosterLayoutPicker } from "./RosterLayoutPicker";

const EXPORT_COLUMNS = [
  "reference",
  "resident",
  "id_number",
  "phone",
  "service",
  "status",
  "committee",
  "created_at",
  "submitted_by",
  "decision",
  "fields",
];

/** Exports of applications and residents, and the roster import. */
export function DataScreen({ api, generation }: ScreenProps) {
  const { t } = useTranslation();
  const [committees, setCommittees] = useState<Committee[]>([]);
  const [services, setServices] = useState<Service[]>([]);
  const [progress, setProgress] = useState<TaskProgress | null>(null);

  useEffect(() => {
    api.consoleCommittees().then(setCommittees, () => undefined);
    api.services().then(setServices, () => undefined);
  }, [api, generation]);

  useEffect(() => api.onProgress(setProgress), [api]);

  return (
    <section aria-labelledby="data-title">
      <h2 id="data-title" tabIndex={-1}>
        {t("data.title")}
      </h2>
      <ExportPanel api={api} committees={committees} services={services} progress={progress?.task === "export" ? progress : null} />
      <ImportPanel api={api} committees={committees} progress={progress?.task === "import" ? progress : null} />
    </section>
  );
}

function ProgressLine({ progress, label }: { progress: TaskProgress | null; label: string }) {
  if (!progress) return null;
  const value = percent(progress.done, progress.total);
  return (
    <div className="task-progress">
      <progress max={100} value={value} aria-label={label} />
      <span>
        {progress.done}/{progress.total}
      </span>
    </div>
  );
}

function ExportPanel(props: {
  api: ScreenProps["api"];
  committees: Committee[];
  services: Service[];
  progress: TaskProgress | null;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [form, setForm] = useState({ committee: "", service: "", status: "", from: "", to: "", format: "xlsx" as FileFormat });
  const [reveal, setReveal] = useState(false);
  const [pin, setPin] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Exported | null>(null);
  const [opened, setOpened] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));

  const run = async (what: "applications" | "residents") => {
    if (busy) return;
    if (reveal && pin.trim() === "") {
      setError({ code: "pin_required", message: "" });
      return;
    }
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const pinArg = reveal ? pin : null;
      if (what === "applications") {
        const labels: Record<string, string> = { yes: t("common.yes"), no: t("common.no") };
        for (const c of EXPORT_COLUMNS) labels[c] = t(`data.column.${c}`);
        for (const s of [...STATUSES, "reopened"]) labels[`status.${s}`] = t(`status.${s}`);
        const range = dayRange(form.from, form.to);
        const filter = {
          committee: form.committee || null,
          service: form.service || null,
          status: form.status || null,
          from: range.from,
          to: range.to,
        };
        setResult(await props.api.exportApplications(filter, form.format, labels, lang, pinArg));
      } else {
        setResult(await props.api.exportResidents(form.committee || null, form.format, pinArg));
      }
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setPin("");
      setBusy(false);
    }
  };

  return (
    <div className="card" id="export-panel">
      <h3>{t("data.export")}</h3>
      <div className="filters">
        <CommitteeSelect
          id="export-committee"
          committees={props.committees}
          value={form.committee}
          onChange={(committee) => set({ committee })}
          emptyLabel={t("log.all")}
        />
        <label>
          {t("overview.service")}
          <select id="export-service" value={form.service} onChange={(e) => set({ service: e.target.value })}>
            <option value="">{t("log.all")}</option>
            {props.services.map((s) => (
              <option key={s.code} value={s.code}>
                {tx(s.name, lang)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("data.status")}
          <select id="export-status" value={form.status} onChange={(e) => set({ status: e.target.value })}>
            <option value="">{t("log.all")}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <div className="filter-date">
          <span id="export-from-label">{t("log.from")}</span>
          <DateField id="export-from" value={form.from} onChange={(from) => set({ from })} labelledBy="export-from-label" />
        </div>
        <div className="filter-date">
          <span id="export-to-label">{t("log.to")}</span>
          <DateField id="export-to" value={form.to} onChange={(to) => set({ to })} labelledBy="export-to-label" />
        </div>
        <label>
          {t("data.format")}
          <select id="export-format" value={form.format} onChange={(e) => set({ format: e.target.value as FileFormat })}>
            <option value="xlsx">Excel (XLSX)</option>
            <option value="csv">CSV</option>
          </select>
        </label>
      </div>
      <label className="check">
        <input id="export-reveal" type="checkbox" checked={reveal} onChange={(e) => setReveal(e.target.checked)} />
        {t("data.reveal")}
      </label>
      {reveal ? (
        <label>
          {t("data.pin")}
          <input
            id="export-pin"
            type="password"
            inputMode="numeric"
            autoComplete="off"
            value={pin}
            onChange={(e) => setPin(e.target.value)}
          />
        </label>
      ) : (
        <p className="small">{t("data.masked")}</p>
      )}
      <div className="actions">
        <button id="export-applications" type="button" className="primary" disabled={busy} onClick={() => void run("applications")}>
          {t("data.exportApplications")}
        </button>
        <button id="export-residents" type="button" className="secondary" disabled={busy} onClick={() => void run("residents")}>
          {t("data.exportResidents")}
        </button>
      </div>
      {busy ? <ProgressLine progress={props.progress} label={t("data.exporting")} /> : null}
      <div role="status" aria-live="polite">
        {result ? (
          <p className="saved" id="export-result">
            {t(result.revealed ? "data.exportedRevealed" : "data.exported", { count: result.rows, file: fileName(result.path) })}{" "}
            <button
              type="button"
              id="export-open-folder"
              className="link"
              onClick={() => {
                setOpened(null);
                props.api.openExports().then(
                  (folder) => setOpened(t("data.folderOpened", { folder })),
                  (e) => setError(toUiError(e)),
                );
              }}
            >
              {t("data.openFolder")}
            </button>
          </p>
        ) : null}
        {opened ? (
          <p className="saved" id="export-opened">
            {opened}
          </p>
        ) : null}
      </div>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
    </div>
  );
}

function ImportPanel(props: { api: ScreenProps["api"]; committees: Committee[]; progress: TaskProgress | null }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [committee, setCommittee] = useState("");
  const [file, setFile] = useState<{ name: string; bytes: Uint8Array } | null>(null);
  const [preview, setPreview] = useState<RosterPreview | null>(null);
  /** The layout a person gave, when the file's own was not right or not there. */
  const [layout, setLayout] = useState<RosterLayout | null>(null);
  const [relayout, setRelayout] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    if (committee === "" && props.committees.length === 1) setCommittee(props.committees[0]?.id ?? "");
  }, [committee, props.committees]);

  const choose = async (chosen: File | undefined) => {
    setPreview(null);
    setReport(null);
    setError(null);
    setLayout(null);
    setRelayout(false);
    if (!chosen) return;
    setBusy(true);
    try {
      const bytes = new Uint8Array(await chosen.arrayBuffer());
      setFile({ name: chosen.name, bytes });
      setPreview(await props.api.previewRoster(chosen.name, bytes));
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };

  const reread = async (given: RosterLayout) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      setPreview(await props.api.previewRoster(file.name, file.bytes, given));
      setLayout(given);
      setRelayout(false);
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
  };

  const run = async () => {
    if (!file || busy) return;
    setBusy(true);
    setError(null);
    try {
      setReport(await props.api.importRoster(file.name, file.bytes, committee || null, layout));
      setPreview(null);
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setBusy(false);
    }
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

/** The file's own name: where the exports folder is, "打开文件夹" shows. */
function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
