import { defineConfig } from "vitest/config";

// `npm run bench`: figures printed, never judged (BENCHMARKS.md keeps them).
export default defineConfig({
  test: {
    environment: "jsdom",
    include: ["bench/**/*.figures.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
