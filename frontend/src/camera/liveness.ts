// The liveness step after the photo: a blink, seen in the eyes' aspect ratio, or a nod,
// seen in the head's pitch. Each detector is fed one face per frame, with its time.

import type { Point } from "./guidance";
import { pose } from "./guidance";

function dist(a: Point | undefined, b: Point | undefined): number {
  if (a === undefined || b === undefined) return 0;
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** The eye aspect ratio (Soukupová and Čech, 2016) of the eye whose six landmarks start
 * at `from`: the lids' two openings over the eye's width; about 0.3 open, under 0.2 shut. */
export function eyeAspect(landmarks: readonly Point[], from: number): number {
  const p = (i: number) => landmarks[from + i];
  const width = dist(p(0), p(3));
  if (width === 0) return 0;
  return (dist(p(1), p(5)) + dist(p(2), p(4))) / (2 * width);
}

/** Both eyes' mean aspect ratio. */
export function eyesAspect(landmarks: readonly Point[]): number {
  return (eyeAspect(landmarks, 36) + eyeAspect(landmarks, 42)) / 2;
}

/** Eyes count as shut below this share of their open aspect, and open again above the next. */
const SHUT = 0.7;
const REOPENED = 0.9;
/** A blink closes and opens again within this time (ms); longer is eyes kept shut. */
const BLINK_MS = 1000;
/** Frames of open eyes before a blink can be seen: how open this resident's eyes are. */
const BASELINE_FRAMES = 3;

export class BlinkDetector {
  private open: number[] = [];
  private shutAt: number | null = null;

  /** Feeds a face's landmarks seen at `now`; true once a blink has been seen. */
  next(landmarks: readonly Point[], now: number): boolean {
    const aspect = eyesAspect(landmarks);
    if (this.open.length < BASELINE_FRAMES) {
      this.open.push(aspect);
      return false;
    }
    const baseline = [...this.open].sort((a, b) => a - b)[Math.floor(this.open.length / 2)] ?? 0;
    if (this.shutAt === null) {
      if (aspect < baseline * SHUT) this.shutAt = now;
      return false;
    }
    if (aspect > baseline * REOPENED) {
      const quick = now - this.shutAt <= BLINK_MS;
      this.shutAt = null;
      return quick;
    }
    return false;
  }
}

/** A nod: the head tips down by this many degrees from where it started, then comes back. */
const NOD_DEGREES = 10;
/** …within this time (ms). */
const NOD_MS = 3000;

export class NodDetector {
  private start: number | null = null;
  private downAt: number | null = null;

  /** Feeds a face's landmarks seen at `now`; true once a nod has been seen. */
  next(landmarks: readonly Point[], now: number): boolean {
    const { pitch } = pose(landmarks);
    if (this.start === null) {
      this.start = pitch;
      return false;
    }
    if (this.downAt === null) {
      if (pitch - this.start > NOD_DEGREES) this.downAt = now;
      else this.start = Math.min(this.start, pitch);
      return false;
    }
    if (now - this.downAt > NOD_MS) {
      this.downAt = null;
      this.start = pitch;
      return false;
    }
    return pitch - this.start < NOD_DEGREES / 2;
  }
}
