import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Api, type ApplicationView, type AttachmentDef, type Service, toUiError } from "../api";
import { errorText } from "../errors";
import { CameraGuide } from "./CameraGuide";

/**
 * In resident mode, once she has agreed to her face photo: a camera for each photo slot
 * her consent covers (her face, and the half-body photo with her ID card), shown in her
 * text size and colours with the guidance read aloud. The photo is attached as the
 * volunteer's form attaches it, replacing what the slot held.
 */
export function ResidentCamera(props: {
  api: Api;
  app: ApplicationView;
  service: Service;
  /** Reloads the application once a photo is attached. */
  onAttached: () => Promise<unknown>;
}) {
  const { t, i18n } = useTranslation();
  const { api, app } = props;
  const [open, setOpen] = useState<AttachmentDef | null>(null);
  const [error, setError] = useState<string | null>(null);
  const slots = props.service.attachments.filter((a) => a.sensitive === "face" && a.accepts === "photo");
  if (open) {
    return (
      <CameraGuide
        mode={open.capture === "id_card" ? "id_card" : "face"}
        titleLevel={2}
        speak={(text) => void api.speak(text, i18n.language).catch(() => undefined)}
        onClose={() => setOpen(null)}
        onPhoto={(photo, quality) =>
          void (async () => {
            const slot = open.key;
            setOpen(null);
            try {
              const bytes = new Uint8Array(await photo.arrayBuffer());
              const sha256 = await api.attachFile(app.id, slot, `${slot}.jpg`, bytes, quality);
              // What the slot held before (a stamped copy goes with its original).
              for (const old of app.attachments) {
                if (old.slot === slot && !old.stamp && old.sha256 !== sha256) await api.removeAttachment(app.id, old.sha256);
              }
              setError(null);
              await props.onAttached();
            } catch (thrown) {
              const e = toUiError(thrown);
              setError(errorText(t, e.fields?.[0]?.code ?? e.code));
            }
          })()
        }
      />
    );
  }
  return (
    <div className="rm-camera" id="rm-camera">
      {slots.map((s) => (
        <button key={s.key} type="button" className="rm-button rm-primary" id={`rm-camera-${s.key}`} onClick={() => setOpen(s)}>
          {s.capture === "id_card" ? t("camera.openIdCard") : t("camera.open")}
        </button>
      ))}
      {error ? (
        <p role="alert" className="rm-error" id="rm-camera-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
