import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import type { SyncState } from "../api";
import { errorText } from "../errors";
import { progressBar, shortTime } from "../logic";

interface Props {
  sync: SyncState | null;
  onSync: () => Promise<void>;
  onConflicts: () => void;
  onUnsent: () => void;
  onEnroll: () => void;
  /** Syncs again after the server's log did not hold, with the PIN. */
  onAcceptLog: (pin: string) => Promise<void>;
}

/** Refusals that stay until an administrator acts: the device cannot sync at all. */
const REFUSED = ["device_revoked", "device_unknown", "server_log_untrusted"];

/** Always visible: online or not, what waits, the last sync, a Sync button, conflicts. */
export function SyncBar({ sync, onSync, onConflicts, onUnsent, onEnroll, onAcceptLog }: Props) {
  const { t, i18n } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** A sync the volunteer asked for has just finished: say so for a moment. */
  const [done, setDone] = useState(false);

  useEffect(() => {
    if (!done) return;
    const timer = setTimeout(() => setDone(false), 6000);
    return () => clearTimeout(timer);
  }, [done]);

  const click = async () => {
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await onSync();
      setDone(true);
    } catch (thrown) {
      const code = (thrown as { code?: string }).code ?? "internal";
      setError(errorText(t, code));
    } finally {
      setBusy(false);
    }
  };

  const running = busy || sync?.running === true;
  /** The server answers but will not sync with this device: not "online" in any use. */
  const refused = REFUSED.includes(sync?.last_error ?? "");
  let state: string;
  if (!sync?.enrolled) state = t("sync.notEnrolled");
  else if (running) state = t("sync.running");
  else if (done) state = t("sync.done");
  else if (refused) state = t("sync.refused");
  else if (sync.online === false) state = t("sync.offline");
  else if (sync.online === true) state = t("sync.online");
  else state = t("sync.unknown");

  return (
    <div className="sync-bar" id="sync-bar">
      <span id="sync-state" className={`sync-state ${sync?.online === false || refused ? "is-offline" : ""}`} role="status">
        {running ? <span className="spinner" aria-hidden="true" /> : null}
        {state}
      </span>
      {running && sync?.progress ? <ProgressBar progress={sync.progress} /> : null}
      <span id="sync-pending">{t("sync.pending", { count: sync?.pending_docs ?? 0 })}</span>
      <span id="sync-last">
        {sync?.last_sync_at
          ? t("sync.last", { time: shortTime(sync.last_sync_at, Date.now(), i18n.language) })
          : t("sync.never")}
      </span>
      {sync?.enrolled && !refused ? (
        <button id="sync-now" type="button" className="topbar-button" onClick={() => void click()} disabled={running}>
          {t("sync.now")}
        </button>
      ) : sync && !sync.enrolled ? (
        <button id="sync-enroll" type="button" className="topbar-button" onClick={onEnroll}>
          {t("sync.enroll")}
        </button>
      ) : null}
      {sync && sync.conflicts > 0 ? (
        <button id="conflicts-badge" type="button" className="badge" onClick={onConflicts}>
          {t("sync.conflicts", { count: sync.conflicts })}
        </button>
      ) : null}
      {sync && sync.refused + sync.aside > 0 ? (
        <button id="unsent-badge" type="button" className="badge" onClick={onUnsent}>
          {t("sync.unsent", { count: sync.refused + sync.aside })}
        </button>
      ) : null}
      {error || sync?.last_error ? (
        <span id="sync-error" className="sync-error" role="alert">
          {error ?? errorText(t, sync?.last_error ?? "internal")}
        </span>
      ) : null}
      {sync?.last_error === "server_log_untrusted" ? <AcceptLog onAccept={onAcceptLog} /> : null}
    </div>
  );
}

/**
 * Syncing again after the server's log did not hold: only when the administrator says
 * the server was restored from a backup, and only with the PIN. The evidence stays.
 */
function AcceptLog({ onAccept }: { onAccept: (pin: string) => Promise<void> }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <button id="log-accept-open" type="button" className="topbar-button" onClick={() => setOpen(true)}>
        {t("sync.logAccept.open")}
      </button>
    );
  }
  const accept = async () => {
    setBusy(true);
    setError(null);
    try {
      await onAccept(pin);
      setOpen(false);
    } catch (thrown) {
      setError(errorText(t, (thrown as { code?: string }).code ?? "internal"));
    } finally {
      setBusy(false);
      setPin("");
    }
  };
  return (
    <form
      className="log-accept"
      onSubmit={(e) => {
        e.preventDefault();
        void accept();
      }}
    >
      <p id="log-accept-explain">{t("sync.logAccept.explain")}</p>
      <label>
        {t("sync.logAccept.pin")}
        <input
          id="log-accept-pin"
          type="password"
          inputMode="numeric"
          autoComplete="off"
          value={pin}
          onChange={(e) => setPin(e.target.value)}
        />
      </label>
      <button id="log-accept" type="submit" className="primary" disabled={busy || pin === ""}>
        {t("sync.logAccept.confirm")}
      </button>
      <button type="button" className="secondary" onClick={() => setOpen(false)}>
        {t("sync.logAccept.cancel")}
      </button>
      {error ? <span role="alert">{error}</span> : null}
    </form>
  );
}

function ProgressBar({ progress }: { progress: NonNullable<SyncState["progress"]> }) {
  const { t } = useTranslation();
  const bar = progressBar(progress);
  const label =
    progress.phase === "upload"
      ? t("sync.uploading", { done: bar.doneMb, total: bar.totalMb })
      : progress.phase === "download"
        ? t("sync.downloading", { done: progress.done, total: progress.total })
        : t("sync.records");
  return (
    <span className="sync-progress">
      <progress id="sync-progress" max={bar.max} value={bar.value} aria-label={label} />
      <span>{label}</span>
    </span>
  );
}
