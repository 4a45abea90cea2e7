import { defineConfig } from "vitest/config";

// Every test file runs twice: against the debug and the release build of the core.
const project = (build: "debug" | "release") => ({
  extends: true as const,
  test: { name: build, env: { MBUFPOOL_BUILD: build } },
});

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    projects: [project("debug"), project("release")],
    testTimeout: 60_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
