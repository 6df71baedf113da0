import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname, "src") } },
  test: {
    include: ["src/**/*.test.ts", "tests/**/*.test.ts"],
    // tests/compose builds the container images and runs docker-compose (minutes): `npm test` runs it
    // as its last phase, `npm run test:compose` (ARMORY_TEST_COMPOSE=1) alone.
    // tests/swarm builds a two-node Docker Swarm (two more engines, the agent image copied into
    // each): `npm run test:swarm` (ARMORY_TEST_SWARM=1), which `npm test` runs after the suites.
    exclude: [
      "tests/e2e/**",
      "node_modules/**",
      ...(process.env.ARMORY_TEST_COMPOSE === "1" ? [] : ["tests/compose/**"]),
      ...(process.env.ARMORY_TEST_SWARM === "1" ? [] : ["tests/swarm/**"]),
    ],
    globalSetup: ["tests/support/global-setup.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: keep parallelism modest; PGlite start-up is CPU-bound.
    pool: "forks",
    maxWorkers: 2,
  },
});
