// Browser tests against the production build, served by Armory's own server (server.ts), on a
// fresh embedded database per run. The server builds the app itself when the build is missing
// or stale, hence the generous start-up timeout.
import path from "node:path";
import { defineConfig } from "@playwright/test";

const PORT = Number(process.env.ARMORY_E2E_PORT ?? 3107);
const BASE_URL = `http://127.0.0.1:${PORT}`;

// Computed once in the runner process and inherited by workers, so every process agrees on it.
process.env.ARMORY_E2E_DATA_DIR ??= path.join("test-results", `e2e-data-${Date.now()}`);

export default defineConfig({
  testDir: "tests/e2e",
  outputDir: "test-results/playwright",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    baseURL: BASE_URL,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--headless",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
    screenshot: "on",
    trace: "retain-on-failure",
  },
  webServer: {
    command: "node --import tsx server.ts",
    env: {
      PORT: String(PORT),
      ARMORY_DATA_DIR: process.env.ARMORY_E2E_DATA_DIR,
      ARMORY_BIND_ADDRESS: "127.0.0.1",
      LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
      // The specs sign up several people each. The door (invite mode, the default) is proven on an
      // Armory of its own by admin-invitations.spec.ts, and over HTTP by tests/integration/instance.test.ts.
      ARMORY_SIGN_UP: "open",
      // notifications.spec.ts sends webhooks to a receiver on this machine's loopback.
      ARMORY_WEBHOOKS_ALLOW_PRIVATE: "true",
      // git.spec.ts clones from a git server on this machine (reached through the egress proxy).
      ARMORY_EGRESS_ALLOW_PRIVATE: "true",
    },
    url: `${BASE_URL}/api/health`,
    timeout: 240_000,
    reuseExistingServer: false,
    // SIGTERM lets Armory close the embedded database cleanly.
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
    stdout: "ignore",
    stderr: "pipe",
  },
});
