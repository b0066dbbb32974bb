import { defineConfig } from "vitest/config";

// Tauri serves the built files from frontend/dist; nothing here fetches from the network.
export default defineConfig({
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    // The face detector's chunk (TensorFlow.js with its kernels, 1.3 MB) is loaded only
    // when a camera opens.
    chunkSizeWarningLimit: 1400,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
