import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { type Committee, type DeviceView, type UiError, toUiError } from "../api";
import { deviceName, sortDevices } from "../console-lists";
import { formatDateTime } from "../dates";
import { errorText } from "../errors";
import { listOf } from "../logic";
import type { ScreenProps } from "./App";
import { revealOnMount } from "./reveal";

/**
 * The devices of the supervisor's committees, in use first (the most recently synced
 * first), revoked ones after; a lost one can be revoked.
 */
export function Devices({ api, generation }: ScreenProps) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [devices, setDevices] = useState<DeviceView[] | null>(null);
  const [committees, setCommittees] = useState<Committee[]>([]);
  const [error, setError] = useState<UiError | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [pin, setPin] = useState("");

  const load = useCallback(() => {
    api.enrolledDevices().then(setDevices, (thrown) => setError(toUiError(thrown)));
    api.consoleCommittees().then(setCommittees, () => undefined);
  }, [api]);
  useEffect(load, [load, generation]);

  const revoke = async (d: DeviceView) => {
    setError(null);
    try {
      await api.revokeDevice(d.device_id, pin);
      setDone(t("devices.revoked", { name: d.name }));
      setConfirming(null);
      load();
    } catch (thrown) {
      setError(toUiError(thrown));
    } finally {
      setPin("");
    }
  };

  const when = (ms: number | null) => (ms ? formatDateTime(ms, lang) : t("devices.never"));
  return (
    <section aria-labelledby="devices-title">
      <h2 id="devices-title" tabIndex={-1}>
        {t("devices.title")}
      </h2>
      <p>{t("devices.intro")}</p>
      <div role="status" aria-live="polite">
        {done ? <p className="saved">{done}</p> : null}
      </div>
      {error ? <p role="alert" className="error-banner">{errorText(t, error.code)}</p> : null}
      <ul className="plain-list" id="device-list">
        {sortDevices(devices ?? []).map((d) => (
          <li key={d.device_id} className="card device" data-device={d.device_id} data-revoked={d.revoked_at ? "true" : "false"}>
            <h3>
              {d.name} <span className="row-detail">{d.label}</span>
            </h3>
            <p>
              {t(`devices.role.${d.role}`)} · {listOf(d.committees.map((id) => committees.find((c) => c.id === id)?.name ?? id), i18n.language)}
            </p>
            <p>
              {t("devices.enrolled", { time: when(d.enrolled_at) })} · {t("devices.lastSync", { time: when(d.last_sync_at) })}
            </p>
            <p className="small">
              {/* The key the server bound to the device at enrollment. */}
              {d.key_fingerprint ? (
                <>
                  {t("devices.key")} <span className="mono key-fingerprint">{d.key_fingerprint}</span>
                </>
              ) : (
                t("devices.noKey")
              )}
            </p>
            {d.this_device && !d.key_matches ? (
              <p className="warning" id="device-key-mismatch">
                {t("devices.keyMismatch")}
              </p>
            ) : null}
            {d.this_device ? (
              <p className="small">{t("devices.thisDevice")}</p>
            ) : d.revoked_at ? (
              <p className="warning">{t("devices.revokedAt", { time: when(d.revoked_at) })}</p>
            ) : confirming === d.device_id ? (
              <div className="confirm" role="group" aria-label={t("devices.confirmLabel")} ref={revealOnMount}>
                <p className="warning">
                  {d.last_sync_at
                    ? t("devices.confirmLost", { device: deviceName(devices ?? [], d.device_id), time: when(d.last_sync_at) })
                    : t("devices.confirmLostNever", { device: deviceName(devices ?? [], d.device_id) })}
                </p>
                <p className="warning">{t("devices.confirm", { name: d.name })}</p>
                <label htmlFor={`revoke-pin-${d.device_id}`}>{t("devices.pin")}</label>
                <input
                  id={`revoke-pin-${d.device_id}`}
                  className="revoke-pin"
                  type="password"
                  inputMode="numeric"
                  autoComplete="off"
                  maxLength={12}
                  value={pin}
                  onChange={(e) => setPin(e.target.value.replace(/\D/g, ""))}
                />
                <div className="actions">
                  <button type="button" className="danger revoke-confirm" disabled={pin.length === 0} onClick={() => void revoke(d)}>
                    {t("devices.revokeNow")}
                  </button>
                  {/* The safe choice takes the focus from the button that went away. */}
                  <button type="button" className="secondary revoke-cancel" autoFocus onClick={() => setConfirming(null)}>
                    {t("common.cancel")}
                  </button>
                </div>
              </div>
            ) : (
              <button type="button" className="secondary revoke" onClick={() => setConfirming(d.device_id)}>
                {t("devices.revoke")}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
