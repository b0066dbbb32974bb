// One capture of the resident's face, from the first frame to the kept photo: framing
// (guidance until the shutter is taken, by itself or by hand), then, where the
// resident can, a liveness step (a blink, or a nod), then done. Each frame's judgement
// goes in; what the screen should show and say comes out, and at the end the quality
// record that is kept with the photo.

import type { Check, Judgement, Point } from "./guidance";
import { CHECKS } from "./guidance";
import { BlinkDetector, NodDetector } from "./liveness";
import { Shutter } from "./shutter";

/** How the liveness step ended. */
export type Liveness = "blink" | "nod" | "skipped" | "not_asked";

/** What is kept with the photo: how it was taken and what held when it was (the
 * device checks it again: `PhotoQuality` in doorstep-core; the time is the device's). */
export interface QualityRecord {
  /** The guided camera, or a chosen file judged by the same checks. */
  source: "camera" | "file";
  /** Taken by itself when every check held, or by hand. */
  auto: boolean;
  passed: Check[];
  /** The checks that did not hold when the photo was taken by hand. */
  failed: Check[];
  /** The face's height against the frame's shorter side. */
  size: number;
  yaw: number | null;
  pitch: number | null;
  roll: number | null;
  brightness: number;
  sharpness: number;
  liveness: Liveness;
}

export type Phase =
  | { kind: "framing"; check: Check | null; progress: number }
  /** The photo is taken; the caller grabs the frame it was judged on. */
  | { kind: "taken" }
  | { kind: "liveness"; ask: "blink" | "nod" }
  | { kind: "done"; quality: QualityRecord };

const round = (v: number, places = 2) => Math.round(v * 10 ** places) / 10 ** places;

/** The quality record of a photo judged as `judgement` (liveness not yet asked). */
export function qualityOf(
  judgement: Judgement,
  source: QualityRecord["source"],
  auto: boolean,
): QualityRecord {
  return {
    source,
    auto,
    passed: CHECKS.filter((c) => !judgement.failed.includes(c)),
    failed: [...judgement.failed],
    size: round(judgement.size, 3),
    yaw: judgement.pose ? round(judgement.pose.yaw, 1) : null,
    pitch: judgement.pose ? round(judgement.pose.pitch, 1) : null,
    roll: judgement.pose ? round(judgement.pose.roll, 1) : null,
    brightness: round(judgement.light.brightness, 1),
    sharpness: round(judgement.light.sharpness, 3),
    liveness: "not_asked",
  };
}

/** How long a liveness step waits for a blink before asking for a nod instead (ms). */
export const BLINK_WAIT_MS = 8000;

export class CaptureSession {
  private shutter = new Shutter();
  private phase: Phase = { kind: "framing", check: null, progress: 0 };
  private quality: QualityRecord | null = null;
  private blink = new BlinkDetector();
  private nod = new NodDetector();
  private askedAt = 0;

  /** `automatic`: the shutter is taken by itself once every check holds; without it
   * (the ID-card photo, whose card no check sees) only by hand, the guidance saying
   * when every check holds. */
  constructor(
    private readonly withLiveness: boolean,
    private readonly automatic = true,
  ) {}

  get current(): Phase {
    return this.phase;
  }

  /** Feeds one frame's judgement (and its face's landmarks, for liveness) seen at `now`. */
  next(judgement: Judgement, landmarks: readonly Point[] | null, now: number): Phase {
    switch (this.phase.kind) {
      case "framing": {
        const state = this.shutter.next(judgement, now);
        if (state.kind === "take" && this.automatic) return this.take(judgement, true);
        if (state.kind === "take") {
          this.phase = { kind: "framing", check: null, progress: 1 };
          return this.phase;
        }
        this.phase =
          state.kind === "guide"
            ? { kind: "framing", check: state.check, progress: 0 }
            : { kind: "framing", check: null, progress: state.progress };
        return this.phase;
      }
      case "liveness": {
        if (landmarks === null || judgement.failed.includes("manyFaces")) return this.phase;
        if (this.phase.ask === "blink") {
          if (this.blink.next(landmarks, now)) return this.finish("blink");
          if (now - this.askedAt > BLINK_WAIT_MS) {
            this.phase = { kind: "liveness", ask: "nod" };
            this.askedAt = now;
          }
        } else if (this.nod.next(landmarks, now)) {
          return this.finish("nod");
        }
        return this.phase;
      }
      default:
        return this.phase;
    }
  }

  /** The volunteer presses the shutter: the photo is taken whatever failed, and kept
   * with the checks that did not hold. */
  takeByHand(judgement: Judgement): Phase {
    if (this.phase.kind !== "framing") return this.phase;
    return this.take(judgement, false);
  }

  /** The caller has grabbed the photo: on to the liveness step, or done. */
  photoKept(now: number): Phase {
    if (this.phase.kind !== "taken") return this.phase;
    if (!this.withLiveness) return this.finish("not_asked");
    this.phase = { kind: "liveness", ask: "blink" };
    this.askedAt = now;
    return this.phase;
  }

  /** The resident cannot blink or nod on request: the photo is kept without it. */
  skipLiveness(): Phase {
    if (this.phase.kind !== "liveness") return this.phase;
    return this.finish("skipped");
  }

  private take(judgement: Judgement, auto: boolean): Phase {
    this.quality = qualityOf(judgement, "camera", auto);
    this.phase = { kind: "taken" };
    return this.phase;
  }

  private finish(liveness: Liveness): Phase {
    if (this.quality === null) return this.phase;
    this.phase = { kind: "done", quality: { ...this.quality, liveness } };
    return this.phase;
  }
}
