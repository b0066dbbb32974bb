import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type Committee,
  type Exported,
  type FileFormat,
  type Service,
  type TaskProgress,
  type UiError,
  toUiError,
} from "../api";
import { errorText } from "../errors";
import { STATUSES, dayRange, tx } from "../logic";
import type { ScreenProps } from "./App";
import { CommitteeSelect } from "./CommitteeSelect";
import { DateField } from "./DateField";
import { ProgressLine } from "./ProgressLine";
import { RosterImport } from "./RosterImport";

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
      <RosterImport api={api} committees={committees} progress={progress?.task === "import" ? progress : null} />
    </section>
  );
}

/** The columns of the visits export, in order. */
const VISIT_COLUMNS = ["committee", "resident", "address", "assignee", "due", "purpose", "last_outcome", "last_visited"];

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
  /** What the last export was of: a visits export holds no personal number at all. */
  const [resultKind, setResultKind] = useState<"applications" | "residents" | "visits">("applications");
  const [opened, setOpened] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));

  const run = async (what: "applications" | "residents" | "visits") => {
    if (busy) return;
    if (reveal && pin.trim() === "") {
      setError({ code: "pin_required", message: "" });
      return;
    }
    setBusy(true);
    setError(null);
    setResult(null);
    setResultKind(what);
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
      } else if (what === "visits") {
        const labels: Record<string, string> = {};
        for (const c of VISIT_COLUMNS) labels[c] = t(`data.visitColumn.${c}`);
        for (const p of ["checkup", "certification", "service"]) labels[`purpose.${p}`] = t(`visits.purpose.${p}`);
        for (const o of ["visited", "application_started", "not_home", "moved", "deceased", "declined"]) {
          labels[`outcome.${o}`] = t(`visits.outcome.${o}`);
        }
        setResult(await props.api.exportVisits(form.committee || null, form.format, labels, lang));
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
        <button id="export-visits" type="button" className="secondary" disabled={busy} onClick={() => void run("visits")}>
          {t("data.exportVisits")}
        </button>
      </div>
      {busy ? <ProgressLine progress={props.progress} label={t("data.exporting")} /> : null}
      <div role="status" aria-live="polite">
        {result ? (
          <p className="saved" id="export-result">
            {t(result.revealed ? "data.exportedRevealed" : resultKind === "visits" ? "data.exportedVisits" : "data.exported", {
              count: result.rows,
              file: fileName(result.path),
            })}{" "}
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

/** The file's own name: where the exports folder is, "打开文件夹" shows. */
function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
