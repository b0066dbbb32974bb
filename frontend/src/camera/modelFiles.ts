// For tests and the benchmark in Node: the detector's files (models and WebAssembly
// binaries) read from node_modules, as the app serves them from its own files.

import fs from "node:fs";
import path from "node:path";

const FRONTEND = path.resolve(__dirname, "../..");

/** Reads a model file the way the app's server would serve it, from node_modules. */
export async function fromDisk(url: string): Promise<ArrayBuffer> {
  const at = url.indexOf("/node_modules/");
  const file = path.resolve(FRONTEND, url.slice(at + 1).split("?")[0] ?? "");
  const bytes = fs.readFileSync(file);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** TensorFlow.js fetches its WebAssembly binary itself: served from disk too. */
export function serveWasmFromDisk(): void {
  globalThis.fetch = (async (url: string | URL | Request) =>
    new Response(await fromDisk(String(url)), { headers: { "content-type": "application/wasm" } })) as typeof fetch;
}
