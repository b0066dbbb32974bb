// When the camera takes the photo by itself: once every check has held for a moment.
// A check failing again starts the moment over.

import type { Check, Judgement } from "./guidance";

/** How long every check must hold before the shutter is taken, in milliseconds. */
export const HOLD_MS = 800;

export type ShutterState =
  /** Something to fix: the first check that failed, for the guidance line. */
  | { kind: "guide"; check: Check }
  /** All checks hold; the photo is taken once `progress` reaches 1. */
  | { kind: "holding"; progress: number }
  | { kind: "take" };

export class Shutter {
  private since: number | null = null;

  constructor(private readonly holdMs: number = HOLD_MS) {}

  /** Feeds the judgement of the frame seen at `now` (milliseconds). */
  next(judgement: Judgement, now: number): ShutterState {
    const first = judgement.failed[0];
    if (first !== undefined) {
      this.since = null;
      return { kind: "guide", check: first };
    }
    if (this.since === null) this.since = now;
    const held = now - this.since;
    if (held >= this.holdMs) {
      this.since = null;
      return { kind: "take" };
    }
    return { kind: "holding", progress: held / this.holdMs };
  }
}
