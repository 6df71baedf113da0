// A bench's Armory (services on an in-memory PGlite, served over real HTTP by the test harness's
// handler) and a signed-up user's tRPC client over real HTTP (cookie session), as the web app would call.
import { loadConfig } from "../../src/server/config";
import { openDatabase, type OpenDatabaseOptions } from "../../src/server/db";
import { ensureAgentImage } from "../../src/server/runtime/docker/agent-image";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { createLogger } from "../../src/server/logger";
import { createServices } from "../../src/server/services";
import { httpClient, startHttp } from "../../tests/support/http-server";

/**
 * Armory for a bench section, with its agent image present, background work started and HTTP up.
 * `env` adds configuration (e.g. ANTHROPIC_BASE_URL of the demo model for sections that run turns);
 * `database` another database than an in-memory PGlite.
 */
export async function startBenchArmory(env: Record<string, string> = {}, database: OpenDatabaseOptions = { pgliteDir: "memory://" }) {
  const docker = createDockerClient();
  await ensureAgentImage({ docker });
  const db = await openDatabase(database);
  const services = await createServices({
    config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_AGENT_IMAGE_AUTOBUILD: "false", ARMORY_SIGN_IN_RATE_LIMIT: "10000", ARMORY_SIGN_UP: "open", ARMORY_GATEWAY_PORT: "0", ...env }),
    db,
    log: createLogger({ level: "silent", format: "json" }),
    authSecret: "bench-secret-bench-secret-bench-secret-0123",
  });
  services.startBackground();
  const http = await startHttp(() => services);
  return { docker, db, services, http };
}

export const BENCH_PASSWORD = "bench password 123";

export async function signedUpClient(baseUrl: string, email: string) {
  const res = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl },
    body: JSON.stringify({ name: "Bench", email, password: BENCH_PASSWORD }),
  });
  if (!res.ok) throw new Error(`bench sign-up failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  return { cookie, trpc: httpClient(baseUrl, cookie) };
}
