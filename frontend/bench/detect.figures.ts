// The camera's detector on this machine: from nothing loaded to the first guidance, and
// per frame at the size the window judges (480 pixels wide), on WebAssembly and on the
// CPU backend measured in the same run (the ratio is the figure to compare across
// machines), with the process's memory. The frame is scikit-image's astronaut
// (`scripts/test-images.sh`), so both nets run on every frame (a face is found, its
// landmarks placed). Figures are printed, never judged.

import fs from "node:fs";
import path from "node:path";
import { PNG } from "pngjs";
import { test } from "vitest";
import { type Backend, detect, loadModels, switchBackend } from "../src/camera/detect";
import { fromDisk, serveWasmFromDisk } from "../src/camera/modelFiles";
import { judge, type Pixels } from "../src/camera/guidance";

const IMAGES = process.env.DOORSTEP_TEST_IMAGES ?? path.resolve(__dirname, "../../target/test-images");
/** Frames per backend (the CPU backend is slow: fewer). */
const FRAMES: Record<Backend, number> = { wasm: 60, cpu: 8 };

/** A 480×360 frame, as the window reads a 4:3 camera: the astronaut scaled to 480 wide
 * (square pixels), its top 360 rows (the face and shoulders). */
function frame(): Pixels {
  const png = PNG.sync.read(fs.readFileSync(path.join(IMAGES, "astronaut.png")));
  const [w, h] = [480, 360];
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = Math.floor((x * png.width) / w);
      const sy = Math.floor((y * png.height) / w);
      for (let c = 0; c < 4; c++) data[(y * w + x) * 4 + c] = png.data[(sy * png.width + sx) * 4 + c] ?? 0;
    }
  }
  return { data, width: w, height: h, channels: 4 };
}

const mib = (bytes: number) => (bytes / 1_048_576).toFixed(0);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

test("detector figures", async () => {
  serveWasmFromDisk();
  const pixels = frame();
  const rssBefore = process.memoryUsage().rss;
  const opened = performance.now();
  const backend = await loadModels(fromDisk);
  const loaded = performance.now();
  const first = judge(await detect(pixels));
  const firstGuidance = performance.now();
  console.log(
    `camera opened → models loaded on ${backend}: ${(loaded - opened).toFixed(0)} ms; ` +
      `→ first guidance (${first.failed.join(", ") || "every check passed"}): ${(firstGuidance - opened).toFixed(0)} ms`,
  );
  const means: Partial<Record<Backend, number>> = {};
  for (const b of ["wasm", "cpu"] as const) {
    await switchBackend(b);
    await detect(pixels); // warm: kernels compiled, tensors moved
    const times: number[] = [];
    for (let i = 0; i < FRAMES[b]; i++) {
      const t0 = performance.now();
      judge(await detect(pixels));
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const mean = times.reduce((a, t) => a + t, 0) / times.length;
    means[b] = mean;
    console.log(
      `${b}: ${times.length} frames 480×360, mean ${mean.toFixed(1)} ms, p50 ${quantile(times, 0.5).toFixed(1)} ms, ` +
        `p95 ${quantile(times, 0.95).toFixed(1)} ms: ${(1000 / mean).toFixed(1)} frames of guidance per second`,
    );
  }
  console.log(`cpu / wasm per frame: ${((means.cpu ?? NaN) / (means.wasm ?? NaN)).toFixed(1)}×`);
  console.log(`process memory: ${mib(rssBefore)} MiB before the models, ${mib(process.memoryUsage().rss)} MiB after`);
});
