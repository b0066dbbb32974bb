// The pension-certification camera's guidance: what a frame of the resident's face
// lacks, judged from the face detector's boxes and 68 landmarks and from the pixels of
// the face, in the order a person should fix it. Pure functions: the camera screen
// feeds them frames, the tests feed them landmark fixtures.
//
// Landmark indices follow the 68-point iBUG layout face-api returns: 0-16 the jaw
// (image left to right), 27-35 the nose (30 its tip), 36-41 and 42-47 the eyes (image
// left, then right; each from the outer corner clockwise), 48-67 the mouth, 8 the chin.

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Face {
  box: Box;
  /** The 68 landmarks, in frame pixels. */
  landmarks: readonly Point[];
}

/** What was measured of one frame. */
export interface Frame {
  width: number;
  height: number;
  faces: readonly Face[];
  /** Of the face (the whole frame when there is none): see `measure`. */
  light: Light;
}

/** Brightness and sharpness of a region, from `measure`. */
export interface Light {
  /** Mean luma, 0-255. */
  brightness: number;
  /** Share of pixels at or above 250 (blown out), 0-1. */
  clipped: number;
  /** Variance of the Laplacian of the region resampled to 64×64, against the variance of
   * its brightness: low when blurred, whatever the light. */
  sharpness: number;
}

/** A check a frame can fail, in the order guidance names them. */
export type Check =
  | "noFace"
  | "manyFaces"
  | "tooDark"
  | "tooBright"
  | "comeCloser"
  | "moveBack"
  | "faceScreen"
  | "holdStill";

export const CHECKS: readonly Check[] = [
  "noFace",
  "manyFaces",
  "tooDark",
  "tooBright",
  "comeCloser",
  "moveBack",
  "faceScreen",
  "holdStill",
];

/** The limits a frame is held to. */
export interface Limits {
  readonly minFaceSize: number;
  readonly maxFaceSize: number;
  readonly edgeMargin: number;
  readonly minBrightness: number;
  readonly maxBrightness: number;
  readonly maxClipped: number;
  readonly maxYaw: number;
  readonly maxPitch: number;
  readonly maxRoll: number;
  readonly minSharpness: number;
  readonly maxMovement: number;
}

/** The face photo's limits: the face large, square to the camera. */
export const LIMITS: Limits = {
  /** The face's height against the frame's shorter side. */
  minFaceSize: 0.3,
  maxFaceSize: 0.8,
  /** Space the face box must leave to each edge, against the face's height. */
  edgeMargin: 0.05,
  minBrightness: 70,
  maxBrightness: 200,
  maxClipped: 0.2,
  /** Degrees: turned left or right, up or down, tilted. */
  maxYaw: 15,
  maxPitch: 15,
  maxRoll: 10,
  minSharpness: 0.25,
  /** The landmarks' mean movement since the last frame, against the face's height. */
  maxMovement: 0.03,
};

/** The ID-card photo's: half body, the card held at the chest, so the face is smaller
 * (about a fifth to a third of the frame's shorter side); the rest as for the face. */
export const HALF_BODY_LIMITS: Limits = { ...LIMITS, minFaceSize: 0.14, maxFaceSize: 0.36 };

/** Head pose in degrees, estimated from the landmarks: yaw positive when the face turns to
 * the image's right, pitch positive when it tips down, roll positive clockwise. */
export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

/** How the frame was judged: the checks it failed (in `CHECKS` order) and its scores. */
export interface Judgement {
  failed: Check[];
  /** The face's height against the frame's shorter side (0 without one face). */
  size: number;
  pose: Pose | null;
  light: Light;
  /** Mean landmark movement since the previous frame, against the face's height. */
  movement: number;
}

const degrees = (radians: number) => (radians * 180) / Math.PI;

function mean(points: readonly Point[]): Point {
  const n = points.length || 1;
  return {
    x: points.reduce((s, p) => s + p.x, 0) / n,
    y: points.reduce((s, p) => s + p.y, 0) / n,
  };
}

function at(landmarks: readonly Point[], i: number): Point {
  const p = landmarks[i];
  if (p === undefined) throw new Error(`landmark ${i} missing`);
  return p;
}

function range(landmarks: readonly Point[], from: number, to: number): Point[] {
  const out: Point[] = [];
  for (let i = from; i <= to; i++) out.push(at(landmarks, i));
  return out;
}

/** The pose of a face from its 68 landmarks. */
export function pose(landmarks: readonly Point[]): Pose {
  if (landmarks.length !== 68) throw new Error(`expected 68 landmarks, got ${landmarks.length}`);
  const left = mean(range(landmarks, 36, 41));
  const right = mean(range(landmarks, 42, 47));
  const roll = Math.atan2(right.y - left.y, right.x - left.x);
  // Undo the tilt, so that turning and tipping are measured along the face's own axes.
  const centre = { x: (left.x + right.x) / 2, y: (left.y + right.y) / 2 };
  const cos = Math.cos(-roll);
  const sin = Math.sin(-roll);
  const upright = (p: Point): Point => ({
    x: centre.x + (p.x - centre.x) * cos - (p.y - centre.y) * sin,
    y: centre.y + (p.x - centre.x) * sin + (p.y - centre.y) * cos,
  });
  const jawLeft = upright(at(landmarks, 0));
  const jawRight = upright(at(landmarks, 16));
  const nose = upright(at(landmarks, 30));
  const chin = upright(at(landmarks, 8));
  // The nose tip sits midway between the jaw's ends when the face is square to the
  // camera, and moves toward the side it turns to (by about the sine of the angle).
  const across = (nose.x - jawLeft.x) / Math.max(jawRight.x - jawLeft.x, 1e-6);
  const yaw = degrees(Math.asin(Math.max(-1, Math.min(1, (across - 0.5) * 2))));
  // Down from the eyes, the nose tip sits about two fifths of the way to the chin when
  // the face is level; tipping the head down brings it lower.
  const down = (nose.y - centre.y) / Math.max(chin.y - centre.y, 1e-6);
  const pitch = (down - NOSE_LEVEL) * PITCH_DEGREES;
  return { yaw, pitch, roll: degrees(roll) };
}

/** Where the nose tip sits between the eyes and the chin with the face level. */
const NOSE_LEVEL = 0.4;
/** Degrees of pitch for the whole span from the eyes to the chin (a rough linear gauge). */
const PITCH_DEGREES = 150;

/** Mean landmark movement between two faces, against the face's height. */
export function movement(before: Face, after: Face): number {
  const n = Math.min(before.landmarks.length, after.landmarks.length);
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = at(before.landmarks, i);
    const b = at(after.landmarks, i);
    sum += Math.hypot(a.x - b.x, a.y - b.y);
  }
  return sum / n / Math.max(after.box.height, 1);
}

/** Judges one frame by `limits`; `previous`, the frame before it, tells whether the
 * head is still. */
export function judge(frame: Frame, previous?: Frame, limits: Limits = LIMITS): Judgement {
  const failed = new Set<Check>();
  const faces = frame.faces;
  const face = faces.length === 1 ? faces[0] : undefined;
  if (faces.length === 0) failed.add("noFace");
  if (faces.length > 1) failed.add("manyFaces");
  const { light } = frame;
  if (light.brightness < limits.minBrightness) failed.add("tooDark");
  if (light.brightness > limits.maxBrightness || light.clipped > limits.maxClipped) {
    failed.add("tooBright");
  }
  let size = 0;
  let facePose: Pose | null = null;
  let moved = 0;
  if (face !== undefined) {
    const { box } = face;
    size = box.height / Math.min(frame.width, frame.height);
    const margin = limits.edgeMargin * box.height;
    const cutOff =
      box.x < margin ||
      box.y < margin ||
      box.x + box.width > frame.width - margin ||
      box.y + box.height > frame.height - margin;
    if (size < limits.minFaceSize && !cutOff) failed.add("comeCloser");
    if (size > limits.maxFaceSize || cutOff) failed.add("moveBack");
    facePose = pose(face.landmarks);
    if (
      Math.abs(facePose.yaw) > limits.maxYaw ||
      Math.abs(facePose.pitch) > limits.maxPitch ||
      Math.abs(facePose.roll) > limits.maxRoll
    ) {
      failed.add("faceScreen");
    }
    const before = previous?.faces.length === 1 ? previous.faces[0] : undefined;
    if (before !== undefined) moved = movement(before, face);
    if (light.sharpness < limits.minSharpness || moved > limits.maxMovement) {
      failed.add("holdStill");
    }
  }
  return {
    failed: CHECKS.filter((c) => failed.has(c)),
    size,
    pose: facePose,
    light,
    movement: moved,
  };
}

/** Pixels of a frame: RGBA (canvas `ImageData`) or RGB, row by row. */
export interface Pixels {
  data: ArrayLike<number>;
  width: number;
  height: number;
  /** 4 for RGBA, 3 for RGB. */
  channels: 3 | 4;
}

const SAMPLE = 64;

/** Brightness, blown-out share and sharpness of `region` of `pixels` (all of it when
 * none is given), sampled on a 64×64 grid so that the figures do not depend on how
 * near the face is. */
export function measure(pixels: Pixels, region?: Box): Light {
  const x0 = Math.max(0, Math.floor(region?.x ?? 0));
  const y0 = Math.max(0, Math.floor(region?.y ?? 0));
  const x1 = Math.min(pixels.width, Math.ceil((region?.x ?? 0) + (region?.width ?? pixels.width)));
  const y1 = Math.min(
    pixels.height,
    Math.ceil((region?.y ?? 0) + (region?.height ?? pixels.height)),
  );
  const w = Math.max(x1 - x0, 1);
  const h = Math.max(y1 - y0, 1);
  const luma = new Float64Array(SAMPLE * SAMPLE);
  let sum = 0;
  let clipped = 0;
  for (let j = 0; j < SAMPLE; j++) {
    const y = Math.min(pixels.height - 1, y0 + Math.floor(((j + 0.5) * h) / SAMPLE));
    for (let i = 0; i < SAMPLE; i++) {
      const x = Math.min(pixels.width - 1, x0 + Math.floor(((i + 0.5) * w) / SAMPLE));
      const o = (y * pixels.width + x) * pixels.channels;
      const v =
        0.299 * (pixels.data[o] ?? 0) +
        0.587 * (pixels.data[o + 1] ?? 0) +
        0.114 * (pixels.data[o + 2] ?? 0);
      luma[j * SAMPLE + i] = v;
      sum += v;
      if (v >= 250) clipped++;
    }
  }
  let lapSum = 0;
  let lapSq = 0;
  let n = 0;
  for (let j = 1; j < SAMPLE - 1; j++) {
    for (let i = 1; i < SAMPLE - 1; i++) {
      const c = j * SAMPLE + i;
      const lap =
        (luma[c - 1] ?? 0) +
        (luma[c + 1] ?? 0) +
        (luma[c - SAMPLE] ?? 0) +
        (luma[c + SAMPLE] ?? 0) -
        4 * (luma[c] ?? 0);
      lapSum += lap;
      lapSq += lap * lap;
      n++;
    }
  }
  const count = SAMPLE * SAMPLE;
  const brightness = sum / count;
  let spread = 0;
  for (const v of luma) spread += (v - brightness) * (v - brightness);
  spread /= count;
  const lapMean = lapSum / n;
  const edges = lapSq / n - lapMean * lapMean;
  return {
    brightness,
    clipped: clipped / count,
    // Against the region's own contrast, so that a dim face is not taken for a blurred one.
    sharpness: spread > 1e-9 ? edges / spread : 0,
  };
}
