import { describe, expect, test } from "vitest";
import fixture from "./fixtures/astronaut-landmarks.json";
import type { Check, Judgement, Point } from "./guidance";
import { BLINK_WAIT_MS, CaptureSession } from "./session";
import { HOLD_MS } from "./shutter";

const open: readonly Point[] = fixture.landmarks;
const shut = open.map((p, i) => {
  const eye = i >= 36 && i <= 47 ? (i < 42 ? 36 : 42) : -1;
  if (eye < 0 || [0, 3].includes(i - eye)) return p;
  return { x: p.x, y: (open[eye]!.y + open[eye + 3]!.y) / 2 };
});
const span = open[8]!.y - open[36]!.y;
const down = open.map((p, i) => (i >= 30 && i <= 35 ? { x: p.x, y: p.y + 0.12 * span } : p));

const judged = (failed: Check[] = []): Judgement => ({
  failed,
  size: 0.41234,
  pose: { yaw: 1.234, pitch: -7.26, roll: 2.81 },
  light: { brightness: 142.19, clipped: 0, sharpness: 0.60312 },
  movement: 0,
});

describe("a capture", () => {
  test("taken only by hand (the ID-card photo): every check holding says so, and waits", () => {
    const s = new CaptureSession(false, false);
    expect(s.next(judged(), open, 0)).toEqual({ kind: "framing", check: null, progress: 0 });
    // Held long enough: it would be taken by itself, but says it is ready instead.
    expect(s.next(judged(), open, HOLD_MS)).toEqual({ kind: "framing", check: null, progress: 1 });
    for (const at of [3 * HOLD_MS, 10 * HOLD_MS]) {
      expect(s.next(judged(), open, at).kind).toBe("framing");
    }
    expect(s.takeByHand(judged())).toEqual({ kind: "taken" });
    const done = s.photoKept(0);
    expect(done.kind === "done" && [done.quality.auto, done.quality.liveness]).toEqual([false, "not_asked"]);
  });

  test("framing: guidance until every check holds for the moment, then the photo is taken", () => {
    const s = new CaptureSession(false);
    expect(s.next(judged(["tooDark", "faceScreen"]), null, 0)).toEqual({
      kind: "framing",
      check: "tooDark",
      progress: 0,
    });
    expect(s.next(judged(), open, 100)).toEqual({ kind: "framing", check: null, progress: 0 });
    expect(s.next(judged(), open, 100 + HOLD_MS)).toEqual({ kind: "taken" });
    const done = s.photoKept(1000);
    expect(done).toEqual({
      kind: "done",
      quality: {
        source: "camera",
        auto: true,
        passed: [
          "noFace",
          "manyFaces",
          "tooDark",
          "tooBright",
          "comeCloser",
          "moveBack",
          "faceScreen",
          "holdStill",
        ],
        failed: [],
        size: 0.412,
        yaw: 1.2,
        pitch: -7.3,
        roll: 2.8,
        brightness: 142.2,
        sharpness: 0.603,
        liveness: "not_asked",
      },
    });
  });

  test("taken by hand, the checks that did not hold are kept with the photo", () => {
    const s = new CaptureSession(false);
    s.next(judged(["comeCloser"]), open, 0);
    expect(s.takeByHand(judged(["comeCloser", "holdStill"]))).toEqual({ kind: "taken" });
    const done = s.photoKept(60);
    expect(done.kind === "done" && done.quality.auto).toBe(false);
    expect(done.kind === "done" && done.quality.failed).toEqual(["comeCloser", "holdStill"]);
    expect(done.kind === "done" && done.quality.passed).not.toContain("comeCloser");
  });

  test("a blink after the photo completes the liveness step", () => {
    const s = new CaptureSession(true);
    s.takeByHand(judged());
    expect(s.photoKept(10)).toEqual({ kind: "liveness", ask: "blink" });
    for (const [face, at] of [
      [open, 100],
      [open, 200],
      [open, 300],
      [shut, 400],
    ] as const) {
      expect(s.next(judged(), face, at).kind).toBe("liveness");
    }
    const done = s.next(judged(), open, 600);
    expect(done.kind === "done" && done.quality.liveness).toBe("blink");
  });

  test("no blink for a while: a nod is asked for instead", () => {
    const s = new CaptureSession(true);
    s.takeByHand(judged());
    s.photoKept(0);
    expect(s.next(judged(), open, 100)).toEqual({ kind: "liveness", ask: "blink" });
    expect(s.next(judged(), open, BLINK_WAIT_MS + 200)).toEqual({ kind: "liveness", ask: "nod" });
    s.next(judged(), open, BLINK_WAIT_MS + 300);
    s.next(judged(), down, BLINK_WAIT_MS + 600);
    const done = s.next(judged(), open, BLINK_WAIT_MS + 900);
    expect(done.kind === "done" && done.quality.liveness).toBe("nod");
  });

  test("a resident who cannot: the liveness step is skipped and says so", () => {
    const s = new CaptureSession(true);
    s.takeByHand(judged());
    s.photoKept(0);
    const done = s.skipLiveness();
    expect(done.kind === "done" && done.quality.liveness).toBe("skipped");
  });

  test("frames without one face do not count toward liveness, and steps out of turn do nothing", () => {
    const s = new CaptureSession(true);
    expect(s.photoKept(0)).toEqual({ kind: "framing", check: null, progress: 0 });
    expect(s.skipLiveness().kind).toBe("framing");
    s.takeByHand(judged());
    expect(s.takeByHand(judged())).toEqual({ kind: "taken" });
    s.photoKept(0);
    expect(s.next(judged(["noFace"]), null, 100)).toEqual({ kind: "liveness", ask: "blink" });
    expect(s.next(judged(["manyFaces"]), open, 200)).toEqual({ kind: "liveness", ask: "blink" });
  });
});
