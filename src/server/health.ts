// Liveness with a database round trip, for /api/health and the compose healthcheck.
import packageJson from "../../package.json";
import type { Services } from "./services";

export interface HealthReport {
  status: "ok" | "degraded";
  version: string;
  uptimeSeconds: number;
  database: { kind: "postgres" | "pglite"; status: "ok" | "unreachable"; latencyMs?: number; error?: string };
}

export const ARMORY_VERSION: string = packageJson.version;

export async function checkHealth(services: Services, timeoutMs = 2000): Promise<HealthReport> {
  const started = performance.now();
  let database: HealthReport["database"];
  try {
    await Promise.race([
      services.db.raw.query("SELECT 1"),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    database = { kind: services.db.kind, status: "ok", latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (err) {
    database = { kind: services.db.kind, status: "unreachable", error: (err as Error).message };
  }
  return {
    status: database.status === "ok" ? "ok" : "degraded",
    version: ARMORY_VERSION,
    uptimeSeconds: Math.round((Date.now() - services.startedAt.getTime()) / 1000),
    database,
  };
}

/** The /api/health response: the report, 200 when healthy and 503 when not, never cached. */
export async function healthResponse(services: Services): Promise<Response> {
  const report = await checkHealth(services);
  return Response.json(report, {
    status: report.status === "ok" ? 200 : 503,
    headers: { "cache-control": "no-store" },
  });
}
