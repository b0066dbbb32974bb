import { describe, expect, test } from "vitest";
import fixture from "./fixtures/astronaut-landmarks.json";
import type { Box, Face, Frame, Light, Point } from "./guidance";
import { CHECKS, LIMITS, judge, measure, movement, pose } from "./guidance";

// A real face's landmarks (see the fixture's `source`), moved about to make each case.
const real: Face = { box: fixture.box, landmarks: fixture.landmarks };
const good: Light = { brightness: 128, clipped: 0, sharpness: 0.6 };

function map(face: Face, f: (p: Point) => Point): Face {
  // The box around the moved box's corners, as a detector would draw it.
  const { x, y, width, height } = face.box;
  const corners = [
    f({ x, y }),
    f({ x: x + width, y }),
    f({ x, y: y + height }),
    f({ x: x + width, y: y + height }),
  ];
  const xs = corners.map((p) => p.x);
  const ys = corners.map((p) => p.y);
  const box: Box = {
    x: Math.min(...xs),
    y: Math.min(...ys),
    width: Math.max(...xs) - Math.min(...xs),
    height: Math.max(...ys) - Math.min(...ys),
  };
  return { box, landmarks: face.landmarks.map(f) };
}

const shift = (dx: number, dy: number) => (p: Point) => ({ x: p.x + dx, y: p.y + dy });
const centre = { x: real.box.x + real.box.width / 2, y: real.box.y + real.box.height / 2 };
const scale = (k: number) => (p: Point) => ({
  x: centre.x + (p.x - centre.x) * k,
  y: centre.y + (p.y - centre.y) * k,
});
const rotate = (deg: number) => (p: Point) => {
  const r = (deg * Math.PI) / 180;
  const dx = p.x - centre.x;
  const dy = p.y - centre.y;
  return {
    x: centre.x + dx * Math.cos(r) - dy * Math.sin(r),
    y: centre.y + dx * Math.sin(r) + dy * Math.cos(r),
  };
};
/** Moves landmarks `from`..`to` (the nose, the mouth) by (dx, dy). */
function moveParts(face: Face, parts: [number, number][], dx: number, dy: number): Face {
  return {
    box: face.box,
    landmarks: face.landmarks.map((p, i) =>
      parts.some(([a, b]) => i >= a && i <= b) ? { x: p.x + dx, y: p.y + dy } : p,
    ),
  };
}

// The photo is 512×512 with the face a quarter of its height: a half-body portrait.
const frame = (faces: Face[], light: Light = good, width = 512, height = 512): Frame => ({
  width,
  height,
  faces,
  light,
});
// The same face in a 300×300 crop around it: near enough, well inside the frame.
const cropped = map(real, shift(-80, -40));
const inCrop = (face: Face, light: Light = good) => frame([face], light, 300, 300);

describe("the guidance rules", () => {
  test("the real portrait is frontal and lit but the face is small: come closer", () => {
    const j = judge(frame([real]));
    expect(j.failed).toEqual(["comeCloser"]);
    expect(j.size).toBeCloseTo(fixture.box.height / 512, 3);
    expect(Math.abs(j.pose?.yaw ?? 99)).toBeLessThan(5);
    expect(Math.abs(j.pose?.roll ?? 99)).toBeLessThan(5);
  });

  test("cropped around the face, every check holds", () => {
    expect(judge(inCrop(cropped)).failed).toEqual([]);
  });

  test("no face, and more than one face, are said first", () => {
    expect(judge(frame([], { brightness: 10, clipped: 0, sharpness: 0 })).failed).toEqual([
      "noFace",
      "tooDark",
    ]);
    const other = map(cropped, shift(150, 0));
    expect(judge(inCrop(cropped)).failed).toEqual([]);
    expect(judge(frame([cropped, other], good, 600, 300)).failed).toEqual(["manyFaces"]);
  });

  test("too dark and too bright, at their edges", () => {
    const at = (brightness: number, clipped = 0) =>
      judge(inCrop(cropped, { brightness, clipped, sharpness: 0.6 })).failed;
    expect(at(LIMITS.minBrightness)).toEqual([]);
    expect(at(LIMITS.minBrightness - 1)).toEqual(["tooDark"]);
    expect(at(LIMITS.maxBrightness)).toEqual([]);
    expect(at(LIMITS.maxBrightness + 1)).toEqual(["tooBright"]);
    expect(at(150, LIMITS.maxClipped)).toEqual([]);
    expect(at(150, LIMITS.maxClipped + 0.01)).toEqual(["tooBright"]);
  });

  test("come closer and move back, by size", () => {
    // Size is the face's height against the frame's shorter side.
    const sized = (k: number) => {
      const face = map(real, scale(k));
      const side = 1200;
      const placed = map(face, shift(side / 2 - centre.x, side / 2 - centre.y));
      return judge(frame([placed], good, side, side));
    };
    const atSize = (size: number) => sized((size * 1200) / real.box.height);
    expect(atSize(LIMITS.minFaceSize - 0.01).failed).toEqual(["comeCloser"]);
    expect(atSize(LIMITS.minFaceSize + 0.01).failed).toEqual([]);
    expect(atSize(LIMITS.maxFaceSize - 0.01).failed).toEqual([]);
    expect(atSize(LIMITS.maxFaceSize + 0.01).failed).toEqual(["moveBack"]);
  });

  test("a face cut by the frame's edge is told to move back, never to come closer", () => {
    for (const [dx, dy] of [
      [-75, 0],
      [0, -35],
      [110, 0],
      [0, 160],
    ] as const) {
      expect(judge(inCrop(map(cropped, shift(dx, dy)))).failed).toEqual(["moveBack"]);
    }
    // Small and at the edge of a big frame: cut off is what to fix.
    expect(judge(frame([map(real, shift(-148, 0))])).failed).toEqual(["moveBack"]);
  });

  test("a tilted head: within the limit holds, beyond it is told to face the screen", () => {
    const roll0 = pose(real.landmarks).roll;
    const tilted = (deg: number) => judge(inCrop(map(cropped, rotate(deg - roll0))));
    expect(tilted(LIMITS.maxRoll - 1).failed).toEqual([]);
    expect(tilted(LIMITS.maxRoll + 1).failed).toEqual(["faceScreen"]);
    expect(tilted(-(LIMITS.maxRoll + 1)).failed).toEqual(["faceScreen"]);
    expect(tilted(25).pose?.roll).toBeCloseTo(25, 5);
  });

  test("a turned head: the nose and mouth off the face's middle", () => {
    const width = real.box.width;
    const turned = (share: number) =>
      judge(
        inCrop(
          moveParts(
            cropped,
            [
              [27, 35],
              [48, 67],
            ],
            share * width,
            0,
          ),
        ),
      );
    expect(turned(0.05).failed).toEqual([]);
    expect(turned(0.2).failed).toEqual(["faceScreen"]);
    expect(turned(0.2).pose?.yaw).toBeGreaterThan(LIMITS.maxYaw);
    expect(turned(-0.2).pose?.yaw).toBeLessThan(-LIMITS.maxYaw);
  });

  test("a head tipped down or up: the nose tip low or high between the eyes and the chin", () => {
    const span = real.landmarks[8]!.y - real.landmarks[36]!.y;
    const tipped = (share: number) =>
      judge(inCrop(moveParts(cropped, [[30, 35]], 0, share * span)));
    expect(tipped(0).failed).toEqual([]);
    expect(tipped(0.2).failed).toEqual(["faceScreen"]);
    expect(tipped(0.2).pose?.pitch).toBeGreaterThan(LIMITS.maxPitch);
    expect(tipped(-0.12).pose?.pitch).toBeLessThan(-LIMITS.maxPitch);
  });

  test("hold still: a blurred face, or one that moved since the last frame", () => {
    const blurred = { ...good, sharpness: LIMITS.minSharpness - 1 };
    expect(judge(inCrop(cropped, blurred)).failed).toEqual(["holdStill"]);
    const h = real.box.height;
    const before = inCrop(cropped);
    const little = inCrop(map(cropped, shift(0.01 * h, 0)));
    const much = inCrop(map(cropped, shift(0.05 * h, 0)));
    expect(judge(little, before).failed).toEqual([]);
    expect(judge(much, before).failed).toEqual(["holdStill"]);
    expect(judge(much, before).movement).toBeCloseTo(0.05, 2);
    expect(movement(cropped, cropped)).toBe(0);
  });

  test("several faults are listed in the order a person fixes them", () => {
    const dark = { brightness: 20, clipped: 0, sharpness: 0.1 };
    const j = judge(frame([map(map(real, scale(0.8)), rotate(30))], dark));
    expect(j.failed).toEqual(["tooDark", "comeCloser", "faceScreen", "holdStill"]);
    expect([...j.failed].sort((a, b) => CHECKS.indexOf(a) - CHECKS.indexOf(b))).toEqual(j.failed);
  });

  test("landmarks that are not 68 points are refused", () => {
    expect(() => pose(real.landmarks.slice(0, 5))).toThrow(/68 landmarks/);
  });
});

describe("measuring the face's pixels", () => {
  const image = (width: number, height: number, f: (x: number, y: number) => number) => {
    const data = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 4;
        data[o] = data[o + 1] = data[o + 2] = f(x, y);
        data[o + 3] = 255;
      }
    }
    return { data, width, height, channels: 4 as const };
  };

  test("an even grey is as bright as its value, flat and not blown out", () => {
    const light = measure(image(100, 80, () => 90));
    expect(light.brightness).toBeCloseTo(90, 6);
    expect(light.sharpness).toBeCloseTo(0, 6);
    expect(light.clipped).toBe(0);
  });

  test("white is blown out; a fine pattern is sharp; its blur is not", () => {
    expect(measure(image(64, 64, () => 255)).clipped).toBe(1);
    const checks = measure(image(128, 128, (x, y) => (((x >> 1) + (y >> 1)) % 2 ? 200 : 40)));
    expect(checks.sharpness).toBeGreaterThan(LIMITS.minSharpness * 10);
    const ramp = measure(image(128, 128, (x) => x * 2));
    expect(ramp.sharpness).toBeLessThan(LIMITS.minSharpness);
  });

  test("only the region is measured, and RGB reads as RGBA does", () => {
    const half = image(100, 100, (x) => (x < 50 ? 20 : 220));
    expect(measure(half, { x: 0, y: 0, width: 50, height: 100 }).brightness).toBeCloseTo(20, 6);
    expect(measure(half, { x: 50, y: 0, width: 50, height: 100 }).brightness).toBeCloseTo(220, 6);
    const rgb = new Uint8Array(10 * 10 * 3).fill(77);
    expect(measure({ data: rgb, width: 10, height: 10, channels: 3 }).brightness).toBeCloseTo(77, 6);
  });

  test("a region reaching past the frame is clipped to it", () => {
    const light = measure(image(40, 40, () => 100), { x: -20, y: 30, width: 100, height: 100 });
    expect(light.brightness).toBeCloseTo(100, 6);
  });
});
