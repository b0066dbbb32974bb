import { describe, expect, test } from "vitest";
import fixture from "./fixtures/astronaut-landmarks.json";
import type { Check, Judgement, Point } from "./guidance";
import { BlinkDetector, NodDetector, eyeAspect, eyesAspect } from "./liveness";
import { HOLD_MS, Shutter } from "./shutter";

const open: readonly Point[] = fixture.landmarks;

/** The same face with both eyes' lids brought `share` of the way together. */
function lids(share: number): Point[] {
  const out = open.map((p) => ({ ...p }));
  for (const from of [36, 42]) {
    const mid = (open[from]!.y + open[from + 3]!.y) / 2;
    for (const i of [1, 2, 4, 5]) {
      const p = out[from + i]!;
      p.y = p.y + (mid - p.y) * share;
    }
  }
  return out;
}

/** The same face with the nose tipped down by `share` of the eyes-to-chin span. */
function tipped(share: number): Point[] {
  const span = open[8]!.y - open[36]!.y;
  return open.map((p, i) => (i >= 30 && i <= 35 ? { x: p.x, y: p.y + share * span } : p));
}

describe("the eyes' aspect ratio", () => {
  test("open eyes of a real face are about 0.3, shut ones near 0", () => {
    expect(eyesAspect(open)).toBeGreaterThan(0.22);
    expect(eyesAspect(open)).toBeLessThan(0.4);
    expect(eyesAspect(lids(1))).toBeLessThan(0.05);
    expect(eyeAspect(lids(0.5), 36)).toBeCloseTo(eyeAspect(open, 36) / 2, 2);
  });

  test("an eye with no width is 0, not a division by zero", () => {
    const flat = open.map(() => ({ x: 1, y: 1 }));
    expect(eyeAspect(flat, 36)).toBe(0);
  });
});

describe("a blink", () => {
  const feed = (d: BlinkDetector, frames: [Point[] | readonly Point[], number][]) =>
    frames.map(([face, at]) => d.next(face, at));

  test("open, shut, open again within a second is a blink", () => {
    const seen = feed(new BlinkDetector(), [
      [open, 0],
      [open, 100],
      [open, 200],
      [lids(0.8), 300],
      [lids(0.9), 400],
      [open, 600],
    ]);
    expect(seen).toEqual([false, false, false, false, false, true]);
  });

  test("eyes kept shut for two seconds are not a blink", () => {
    const seen = feed(new BlinkDetector(), [
      [open, 0],
      [open, 100],
      [open, 200],
      [lids(0.9), 300],
      [lids(0.9), 1500],
      [open, 2300],
    ]);
    expect(seen).not.toContain(true);
  });

  test("a narrowing short of shut is not a blink", () => {
    const seen = feed(new BlinkDetector(), [
      [open, 0],
      [open, 100],
      [open, 200],
      [lids(0.2), 300],
      [open, 400],
    ]);
    expect(seen).not.toContain(true);
  });

  test("a face that starts with eyes half shut blinks against its own openness", () => {
    const half = lids(0.4);
    const seen = feed(new BlinkDetector(), [
      [half, 0],
      [half, 100],
      [half, 200],
      [lids(0.95), 300],
      [half, 500],
    ]);
    expect(seen.at(-1)).toBe(true);
  });
});

describe("a nod", () => {
  test("down and back within three seconds is a nod", () => {
    const d = new NodDetector();
    const seen = [
      d.next(open, 0),
      d.next(tipped(0.05), 300),
      d.next(tipped(0.12), 600),
      d.next(tipped(0.02), 1000),
    ];
    expect(seen).toEqual([false, false, false, true]);
  });

  test("a head that stays down, or only drifts, is not a nod", () => {
    const down = new NodDetector();
    expect([down.next(open, 0), down.next(tipped(0.12), 500), down.next(tipped(0.12), 1000)]).not.toContain(
      true,
    );
    const drift = new NodDetector();
    expect([drift.next(open, 0), drift.next(tipped(0.03), 500), drift.next(open, 1000)]).not.toContain(
      true,
    );
  });

  test("down, then back too late, is not a nod", () => {
    const d = new NodDetector();
    expect([d.next(open, 0), d.next(tipped(0.12), 500), d.next(open, 4000)]).not.toContain(true);
  });
});

describe("the automatic shutter", () => {
  const judged = (failed: Check[]): Judgement => ({
    failed,
    size: 0.4,
    pose: { yaw: 0, pitch: 0, roll: 0 },
    light: { brightness: 128, clipped: 0, sharpness: 0.6 },
    movement: 0,
  });

  test("every check holding for the whole moment takes the photo", () => {
    const s = new Shutter();
    expect(s.next(judged([]), 1000)).toEqual({ kind: "holding", progress: 0 });
    expect(s.next(judged([]), 1000 + HOLD_MS / 2)).toEqual({ kind: "holding", progress: 0.5 });
    expect(s.next(judged([]), 1000 + HOLD_MS)).toEqual({ kind: "take" });
  });

  test("a check failing on the way starts the moment again and says what to fix", () => {
    const s = new Shutter();
    s.next(judged([]), 0);
    expect(s.next(judged(["holdStill", "tooDark"]), HOLD_MS - 1)).toEqual({
      kind: "guide",
      check: "holdStill",
    });
    expect(s.next(judged([]), HOLD_MS)).toEqual({ kind: "holding", progress: 0 });
    expect(s.next(judged([]), 2 * HOLD_MS - 1).kind).toBe("holding");
    expect(s.next(judged([]), 2 * HOLD_MS)).toEqual({ kind: "take" });
  });
});
