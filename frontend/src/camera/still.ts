// A photo chosen as a file, judged by the camera's checks when it is attached, so that
// a dark or turned photo is seen now rather than at the government counter.

import type { Frame, Pixels } from "./guidance";
import { CHECKS, judge } from "./guidance";
import type { QualityRecord } from "./session";

const round = (v: number, places: number) => Math.round(v * 10 ** places) / 10 ** places;

/** The quality record of a chosen photo, from the detector's view of it. */
export function judgeStill(frame: Frame): QualityRecord {
  const j = judge(frame);
  return {
    source: "file",
    auto: false,
    passed: CHECKS.filter((c) => !j.failed.includes(c)),
    failed: j.failed,
    size: round(j.size, 3),
    yaw: j.pose ? round(j.pose.yaw, 1) : null,
    pitch: j.pose ? round(j.pose.pitch, 1) : null,
    roll: j.pose ? round(j.pose.roll, 1) : null,
    brightness: round(j.light.brightness, 1),
    sharpness: round(j.light.sharpness, 3),
    liveness: "not_asked",
  };
}

/** The judged size of a chosen photo: at most this wide, like a camera frame. */
const STILL_WIDTH = 640;

/** The pixels of an image file, scaled to at most 640 wide (in the window; a browser's
 * image decoding). */
export async function pixelsOf(file: Blob): Promise<Pixels> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, STILL_WIDTH / bitmap.width);
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) throw new Error("no 2d canvas");
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  return { data: image.data, width: image.width, height: image.height, channels: 4 };
}

/** A chosen photo judged by the detector; `null` when it cannot be (the photo is then
 * attached without a quality record). */
export async function judgeFile(file: Blob): Promise<QualityRecord | null> {
  try {
    const detector = await import("./detect");
    await detector.loadModels();
    return judgeStill(await detector.detect(await pixelsOf(file)));
  } catch {
    return null;
  }
}
