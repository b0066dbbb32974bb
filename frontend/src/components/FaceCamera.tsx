import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { QualityRecord } from "../camera/session";
import { CameraGuide } from "./CameraGuide";

/**
 * The camera button of a face-photo slot (or of the half-body photo with the ID card): it opens the guided camera only once the
 * resident has agreed to a face photo (in resident mode), and closes it when the photo
 * is kept.
 */
export function FaceCamera(props: {
  slot: string;
  /** The face photo (with liveness), or the half-body photo holding the ID card. */
  mode: "face" | "id_card";
  consented: boolean;
  disabled: boolean;
  speak: (text: string) => void;
  onPhoto: (photo: Blob, quality: QualityRecord) => void;
}) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  if (open) {
    return (
      <CameraGuide
        mode={props.mode}
        speak={props.speak}
        onPhoto={(photo, quality) => {
          setOpen(false);
          props.onPhoto(photo, quality);
        }}
        onClose={() => setOpen(false)}
      />
    );
  }
  return (
    <>
      <button
        type="button"
        className="secondary file-button"
        id={`camera-${props.slot}`}
        disabled={props.disabled || !props.consented}
        aria-describedby={props.consented ? undefined : `camera-${props.slot}-consent`}
        onClick={() => setOpen(true)}
      >
        {props.mode === "id_card" ? t("camera.openIdCard") : t("camera.open")}
      </button>
      {props.consented ? null : (
        <p className="hint" id={`camera-${props.slot}-consent`}>
          {t("camera.consentFirst")}
        </p>
      )}
    </>
  );
}
