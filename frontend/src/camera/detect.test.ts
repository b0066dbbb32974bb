// The detector and the guidance rules on a real photograph: scikit-image's astronaut
// (a NASA portrait in the public domain, shipped inside the scikit-image wheel from
// PyPI; `scripts/test-images.sh` takes it out, and `make test` runs that first). No
// personal photo is in the repository.

import fs from "node:fs";
import path from "node:path";
import { PNG } from "pngjs";
import { beforeAll, describe, expect, test } from "vitest";
import { type Backend, detect, loadModels, switchBackend } from "./detect";
import { fromDisk, serveWasmFromDisk } from "./modelFiles";
import type { Pixels } from "./guidance";
import { HALF_BODY_LIMITS, LIMITS, judge } from "./guidance";

const IMAGES =
  process.env.DOORSTEP_TEST_IMAGES ?? path.resolve(__dirname, "../../../target/test-images");

function readPng(file: string): Pixels {
  const where = path.join(IMAGES, file);
  if (!fs.existsSync(where)) {
    throw new Error(`${where} is missing: run scripts/test-images.sh (make test does)`);
  }
  const png = PNG.sync.read(fs.readFileSync(where));
  return { data: png.data, width: png.width, height: png.height, channels: 4 };
}

/** A picture `width`×`height` whose pixel (x, y) is `photo`'s at `from(x, y)` (black
 * outside it), each channel times `gain`. */
function remap(
  src: Pixels,
  width: number,
  height: number,
  from: (x: number, y: number) => [number, number],
  gain = 1,
): Pixels {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      data[o + 3] = 255;
      const [sx, sy] = from(x, y);
      if (sx < 0 || sy < 0 || sx >= src.width || sy >= src.height) continue;
      const i = (Math.floor(sy) * src.width + Math.floor(sx)) * 4;
      for (let c = 0; c < 3; c++) data[o + c] = (src.data[i + c] ?? 0) * gain;
    }
  }
  return { data, width, height, channels: 4 };
}

/** A box blur of `radius` pixels. */
function blur(src: Pixels, radius: number): Pixels {
  const { width, height } = src;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        let n = 0;
        for (let dy = -radius; dy <= radius; dy++) {
          for (let dx = -radius; dx <= radius; dx++) {
            const xx = Math.min(width - 1, Math.max(0, x + dx));
            const yy = Math.min(height - 1, Math.max(0, y + dy));
            sum += src.data[(yy * width + xx) * 4 + c] ?? 0;
            n++;
          }
        }
        data[(y * width + x) * 4 + c] = sum / n;
      }
    }
  }
  return { data, width, height, channels: 4 };
}

let photo: Pixels;
/** The 300×300 square around the face: near enough, well inside the frame. */
let square: Pixels;
const AROUND_FACE: [number, number] = [70, 0];

beforeAll(async () => {
  photo = readPng("astronaut.png");
  square = remap(photo, 300, 300, (x, y) => [x + AROUND_FACE[0], y + AROUND_FACE[1]]);
  // The WebAssembly binary is fetched by TensorFlow.js itself: served from disk, as the
  // app serves it from its own files.
  serveWasmFromDisk();
  // The app's order: WebAssembly first; it starts here, so the tests run on it.
  expect(await loadModels(fromDisk)).toBe("wasm");
}, 60_000);

/** `square` turned by `degrees` about its middle. */
function turned(degrees: number): Pixels {
  const r = (degrees * Math.PI) / 180;
  return remap(square, 300, 300, (x, y) => {
    const dx = x - 150;
    const dy = y - 130;
    return [150 + dx * Math.cos(r) + dy * Math.sin(r), 130 - dx * Math.sin(r) + dy * Math.cos(r)];
  });
}

// Each backend the app may run on gives the same guidance. The CPU backend takes about a
// second a frame alone, and several times that on a machine busy with other work: each
// test may take 30 s (the figures are the benchmark's, `npm run bench`).
describe.each<Backend>(["wasm", "cpu"])("the detector and the guidance on a real photograph (%s)", { timeout: 30_000 }, (backend) => {
  beforeAll(async () => {
    expect(await switchBackend(backend)).toBe(backend);
  }, 60_000);

  test("the portrait: one face, square to the camera, lit and sharp, but small", async () => {
    const frame = await detect(photo);
    expect(frame.faces).toHaveLength(1);
    expect(frame.faces[0]?.landmarks).toHaveLength(68);
    const j = judge(frame);
    expect(Math.abs(j.pose?.yaw ?? 99)).toBeLessThan(5);
    expect(Math.abs(j.pose?.roll ?? 99)).toBeLessThan(5);
    expect(Math.abs(j.pose?.pitch ?? 99)).toBeLessThan(LIMITS.maxPitch);
    expect(j.failed).toEqual(["comeCloser"]);
  });

  test("the same portrait is the right framing for the half-body photo with the ID card", async () => {
    const j = judge(await detect(photo), undefined, HALF_BODY_LIMITS);
    expect(j.failed).toEqual([]);
    // The close square is too close for it.
    expect(judge(await detect(square), undefined, HALF_BODY_LIMITS).failed).toEqual(["moveBack"]);
  });

  test("the square around the face passes every check", async () => {
    expect(judge(await detect(square)).failed).toEqual([]);
  });

  test("darkened to a quarter: too dark; brightened two and a half times: too bright", async () => {
    const dark = judge(await detect(remap(square, 300, 300, (x, y) => [x, y], 0.25)));
    expect(dark.failed).toEqual(["tooDark"]);
    const bright = judge(await detect(remap(square, 300, 300, (x, y) => [x, y], 2.5)));
    expect(bright.failed).toContain("tooBright");
    expect(bright.failed).not.toContain("tooDark");
  });

  test("turned a little it passes; turned 20 degrees it is told to face the screen", async () => {
    expect(judge(await detect(turned(4))).failed).toEqual([]);
    const tilted = judge(await detect(turned(20)));
    expect(tilted.failed).toEqual(["faceScreen"]);
    expect(tilted.pose?.roll ?? 0).toBeGreaterThan(LIMITS.maxRoll + 5);
  });

  test("cut by the frame's edge: move back", async () => {
    const cut = remap(photo, 300, 300, (x, y) => [x + 180, y]);
    expect(judge(await detect(cut)).failed).toEqual(["moveBack"]);
  });

  test("side by side twice: more than one face", async () => {
    const twice = remap(square, 600, 300, (x, y) => [x % 300, y]);
    const frame = await detect(twice);
    expect(frame.faces).toHaveLength(2);
    expect(judge(frame).failed).toEqual(["manyFaces"]);
  });

  test("blurred: hold still", async () => {
    expect(judge(await detect(blur(square, 1))).failed).toEqual(["holdStill"]);
  });

  test("an empty grey picture: no face", async () => {
    const frame = await detect({
      data: new Uint8ClampedArray(200 * 200 * 4).fill(128),
      width: 200,
      height: 200,
      channels: 4,
    });
    expect(judge(frame).failed).toEqual(["noFace"]);
  });
});
