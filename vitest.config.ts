import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-process tests share two cores with the rest of the suite; fewer workers keeps them honest.
    maxWorkers: 2,
  },
});
