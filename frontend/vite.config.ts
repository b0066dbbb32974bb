import { defineConfig } from "vitest/config";

// Tauri serves the built files from frontend/dist; nothing here fetches from the network.
export default defineConfig({
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
