import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", "dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that start servers and databases share two cores; files run in parallel, tests in a file in order.
    pool: "forks",
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
