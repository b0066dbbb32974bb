// A photo chosen as a file, judged by the camera's checks when it is attached, so that
// a dark or turned photo is seen now rather than at the government counter.

import type { Frame, Limits, Pixels } from "./guidance";
import { LIMITS, judge } from "./guidance";
import type { QualityRecord } from "./session";
import { qualityOf } from "./session";

/** The quality record of a chosen photo, from the detector's view of it. */
export function judgeStill(frame: Frame, limits: Limits = LIMITS): QualityRecord {
  return qualityOf(judge(frame, undefined, limits), "file", false);
}

/** The judged size of a chosen photo: at most this wide, like a camera frame. */
const STILL_WIDTH = 640;

/** The pixels of `source` (a video frame or a decoded image, `width`×`height`) drawn
 * into `canvas` scaled to at most `maxWidth` wide: what the detector is given. */
export function drawPixels(
  canvas: HTMLCanvasElement,
  source: CanvasImageSource,
  width: number,
  height: number,
  maxWidth: number,
): Pixels {
  const scale = Math.min(1, maxWidth / width);
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) throw new Error("no 2d canvas");
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  // ImageData's fields are getters on its prototype: a spread would lose them.
  return { data: image.data, width: image.width, height: image.height, channels: 4 };
}

/** The pixels of an image file, scaled to at most 640 wide (in the window; a browser's
 * image decoding). */
export async function pixelsOf(file: Blob): Promise<Pixels> {
  const bitmap = await createImageBitmap(file);
  try {
    return drawPixels(document.createElement("canvas"), bitmap, bitmap.width, bitmap.height, STILL_WIDTH);
  } finally {
    bitmap.close();
  }
}

/** A chosen photo judged by the detector; `null` when it cannot be (the photo is then
 * attached without a quality record). */
export async function judgeFile(file: Blob, limits: Limits = LIMITS): Promise<QualityRecord | null> {
  try {
    const detector = await import("./detect");
    await detector.loadModels();
    return judgeStill(await detector.detect(await pixelsOf(file)), limits);
  } catch {
    return null;
  }
}
