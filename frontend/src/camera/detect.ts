// The face detector behind the camera's guidance: face-api's tiny face detector and its
// 68-point landmark net, on TensorFlow.js's WebAssembly backend (its CPU backend where
// WebAssembly cannot start), with the models' weights and the WebAssembly binaries
// shipped inside npm packages and served from the app's own files (nothing is fetched
// from anywhere else).

import * as faceapi from "@vladmandic/face-api/dist/face-api.esm.js";
import detectorManifest from "@vladmandic/face-api/model/tiny_face_detector_model-weights_manifest.json";
import detectorWeights from "@vladmandic/face-api/model/tiny_face_detector_model.bin?url";
import landmarkManifest from "@vladmandic/face-api/model/face_landmark_68_model-weights_manifest.json";
import landmarkWeights from "@vladmandic/face-api/model/face_landmark_68_model.bin?url";
// The WebAssembly binaries of the TensorFlow.js version face-api bundles (4.22.0).
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreaded from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";
import type { Face, Frame, Pixels } from "./guidance";
import { measure } from "./guidance";

/** The detector's input side in pixels (a multiple of 32): smaller is faster. */
export const INPUT_SIZE = 224;
/** Detections scoring lower are not faces. */
export const MIN_SCORE = 0.5;

interface Manifest {
  weights: { name: string; shape: number[]; dtype: string }[];
}

/** Reads the bytes of a model file the app serves (`fetch`), or, in tests, from disk. */
export type ReadModel = (url: string) => Promise<ArrayBuffer>;

const fetchModel: ReadModel = async (url) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`model file ${url}: ${response.status}`);
  return response.arrayBuffer();
};

/** TensorFlow.js's backends, in the order tried: WebAssembly (with SIMD where the
 * engine has it) is several times faster; the CPU one runs wherever JavaScript does. */
export type Backend = "wasm" | "cpu";
export const BACKENDS: Backend[] = ["wasm", "cpu"];

// face-api's typings leave out the engine's own functions, which its bundle exports.
const engine = faceapi.tf as unknown as {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  setWasmPaths(paths: Record<string, string>): void;
};

let ready: Promise<Backend> | null = null;

/** Starts the first backend of `order` that starts. */
async function startBackend(order: Backend[]): Promise<Backend> {
  for (const backend of order) {
    if (backend === "wasm") {
      engine.setWasmPaths({
        "tfjs-backend-wasm.wasm": wasmPlain,
        "tfjs-backend-wasm-simd.wasm": wasmSimd,
        "tfjs-backend-wasm-threaded-simd.wasm": wasmThreaded,
      });
    }
    const started = await engine.setBackend(backend).catch(() => false);
    if (started) {
      await engine.ready();
      return backend;
    }
  }
  throw new Error(`no backend of ${order.join(", ")} started`);
}

/** Loads both models once, on the first backend of `order` that starts (later calls
 * wait for the same load); resolves to that backend. */
export function loadModels(read: ReadModel = fetchModel, order: Backend[] = BACKENDS): Promise<Backend> {
  ready ??= (async () => {
    const backend = await startBackend(order);
    const load = async (net: faceapi.NeuralNetwork<unknown>, manifest: Manifest[], url: string) => {
      const specs = manifest.flatMap((group) => group.weights);
      const weights = faceapi.tf.io.decodeWeights(await read(url), specs as never);
      net.loadFromWeightMap(weights);
    };
    await load(faceapi.nets.tinyFaceDetector, detectorManifest as Manifest[], detectorWeights);
    await load(faceapi.nets.faceLandmark68Net, landmarkManifest as Manifest[], landmarkWeights);
    return backend;
  })().catch((e: unknown) => {
    ready = null;
    throw e;
  });
  return ready;
}

/** Moves the loaded models to another backend (the benchmark compares them). */
export async function switchBackend(backend: Backend): Promise<Backend> {
  return startBackend([backend]);
}

/** The faces in `pixels` with their landmarks, and the light of the face (of the
 * whole picture when there is not exactly one face). */
export async function detect(pixels: Pixels): Promise<Frame> {
  const faces = await findFaces(pixels);
  const only = faces.length === 1 ? faces[0] : undefined;
  return {
    width: pixels.width,
    height: pixels.height,
    faces,
    light: measure(pixels, only?.box),
  };
}

async function findFaces(pixels: Pixels): Promise<Face[]> {
  const { tf } = faceapi;
  const input = tf.tidy(() => {
    const rgb =
      pixels.channels === 3
        ? Int32Array.from(pixels.data)
        : Int32Array.from({ length: pixels.width * pixels.height * 3 }, (_, i) => {
            const o = Math.floor(i / 3) * 4 + (i % 3);
            return pixels.data[o] ?? 0;
          });
    return tf.tensor3d(rgb, [pixels.height, pixels.width, 3], "int32");
  });
  try {
    const found = await faceapi
      .detectAllFaces(
        input as unknown as faceapi.TNetInput,
        new faceapi.TinyFaceDetectorOptions({ inputSize: INPUT_SIZE, scoreThreshold: MIN_SCORE }),
      )
      .withFaceLandmarks();
    return found.map((f) => ({
      box: {
        x: f.detection.box.x,
        y: f.detection.box.y,
        width: f.detection.box.width,
        height: f.detection.box.height,
      },
      landmarks: f.landmarks.positions.map((p) => ({ x: p.x, y: p.y })),
    }));
  } finally {
    input.dispose();
  }
}
