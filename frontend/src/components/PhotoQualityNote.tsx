import { useTranslation } from "react-i18next";
import { formatDate } from "../dates";
import type { Attachment } from "../generated/types";

/**
 * How a photo was taken, beside the photo: by itself with every check passed, or by
 * hand with what did not hold; the liveness step; the measured figures. Nothing for a
 * chosen file; a record that does not read is said to be so, not shown. A copy the
 * device stamped says what it stamped, and that the original is kept.
 */
export function PhotoQualityNote(props: { attachment: Attachment; id: string }) {
  const { t, i18n } = useTranslation();
  const { quality, quality_unreadable: unreadable, stamp } = props.attachment;
  if (stamp) {
    return (
      <p className="photo-quality" id={`${props.id}-stamped`} data-quality="stamped">
        {t("camera.stamped", { date: formatDate(stamp.date, i18n.language), name: stamp.by })}
      </p>
    );
  }
  if (unreadable) {
    return (
      <p className="warning photo-quality" id={props.id} data-quality="unreadable">
        {t("camera.quality.unreadable")}
      </p>
    );
  }
  if (!quality) return null;
  const n = (v: number, digits = 0) =>
    new Intl.NumberFormat(i18n.language, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(v);
  const failed = quality.failed.map((c) => t(`camera.check.${c}`)).join(t("camera.quality.separator"));
  return (
    <div
      className="photo-quality"
      id={props.id}
      data-quality={quality.source === "file" ? "file" : quality.auto ? "auto" : "by-hand"}
    >
      <p>
        {quality.source === "file"
          ? failed
            ? t("camera.quality.fileFailed", { failed })
            : t("camera.quality.filePassed")
          : quality.auto
            ? t("camera.quality.auto")
            : t("camera.quality.byHand", { failed: failed || t("camera.quality.none") })}
      </p>
      <p>{t(`camera.quality.liveness.${quality.liveness}`)}</p>
      <p className="hint">
        {t("camera.quality.figures", {
          size: n(quality.size * 100),
          brightness: n(quality.brightness),
          sharpness: n(quality.sharpness, 2),
        })}
        {quality.yaw !== null && quality.pitch !== null && quality.roll !== null
          ? t("camera.quality.join") +
            t("camera.quality.angles", { yaw: n(quality.yaw), pitch: n(quality.pitch), roll: n(quality.roll) })
          : ""}
      </p>
    </div>
  );
}
