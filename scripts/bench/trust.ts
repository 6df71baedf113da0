// Bench section "trust": what authentication and authorization cost per call over real HTTP on
// PostgreSQL — a machine token (hash lookup + constant-time compare) against a cookie session
// (better-auth's session lookup), and an agent-targeted query (trust decision + audit entry)
// against a plain project query with the same token.
import { createTRPCClient, httpLink } from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "../../src/server/api/root";
import { loadConfig } from "../../src/server/config";
import { openDatabase } from "../../src/server/db";
import { createLogger } from "../../src/server/logger";
import { createServices } from "../../src/server/services";
import { createToken } from "../../src/server/trust/tokens";
import { startHttp } from "../../tests/support/http-server";
import { startPostgresCluster } from "../../tests/support/postgres-cluster";
import { insertAgentRow } from "../../tests/support/trust";
import type { BenchSection } from "./sections";

const ITER = Number(process.env.BENCH_ITERATIONS ?? 300);

interface Stats {
  n: number;
  p50: number;
  p99: number;
}

function pct(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0) * 1000) / 1000;
}

/** Runs the calls round-robin, so load from elsewhere on the machine hits each of them alike. */
async function measureInterleaved(fns: (() => Promise<unknown>)[]) {
  for (let i = 0; i < 20; i++) for (const fn of fns) await fn();
  const samples: number[][] = fns.map(() => []);
  for (let i = 0; i < ITER; i++) {
    for (const [k, fn] of fns.entries()) {
      const t = performance.now();
      await fn();
      samples[k]!.push(performance.now() - t);
    }
  }
  return samples.map((s) => ({ n: s.length, p50: pct(s, 0.5), p99: pct(s, 0.99) }));
}

export const trustBench: BenchSection = {
  name: "trust",
  async run() {
    const cluster = await startPostgresCluster();
    try {
      const services = await createServices({
        config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_SIGN_IN_RATE_LIMIT: "10000", ARMORY_SIGN_UP: "open", ARMORY_AGENT_IMAGE_AUTOBUILD: "false" }),
        db: await openDatabase({ databaseUrl: await cluster.createDatabase("armory_bench_trust") }),
        log: createLogger({ level: "silent", format: "json" }),
        authSecret: "bench-secret-bench-secret-bench-secret-0123",
      });
      const http = await startHttp(() => services);
      try {
        const email = `bench-trust-${Date.now()}@example.test`;
        const res = await services.auth.api.signUpEmail({ body: { name: "Bench", email, password: "bench password 123" }, asResponse: true });
        const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
        const userId = ((await res.json()) as { user: { id: string } }).user.id;
        const client = (headers: Record<string, string>) =>
          createTRPCClient<AppRouter>({ links: [httpLink({ url: `${http.url}/api/trpc`, transformer: superjson, headers })] });
        const bySession = client({ cookie });
        const project = await bySession.project.create.mutate({ name: "bench" });
        const agent = await insertAgentRow(services, project.id, "bench-agent");
        const { token } = await createToken(services.db.prisma, userId, { name: "bench", scopes: ["read"] });
        const byToken = client({ authorization: `Bearer ${token}` });
        const input = { projectId: project.id };

        const [session, tokenAuth, agentGet] = (await measureInterleaved([
          () => bySession.project.get.query(input),
          () => byToken.project.get.query(input),
          () => byToken.agent.get.query({ ...input, agentId: agent.id }),
        ])) as [Stats, Stats, Stats];
        const auditRows = await services.db.prisma.auditEvent.count({ where: { action: "agent.get" } });
        const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
        const report = {
          iterations: ITER,
          projectGetCookieSession: session,
          projectGetBearerToken: tokenAuth,
          tokenVsSessionRatio: ratio(tokenAuth.p50, session.p50),
          agentGetWithTrustDecisionAndAudit: agentGet,
          agentGetVsProjectGetRatio: ratio(agentGet.p50, tokenAuth.p50),
          auditEntriesWritten: auditRows,
        };
        const fmt = (s: { p50: number; p99: number }) => `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} ms`;
        return {
          report,
          rows: [
            { measure: "project.get, cookie session (HTTP, PostgreSQL)", "p50 / p99": fmt(session), baseline: "", ratio: "" },
            { measure: "project.get, Bearer token", "p50 / p99": fmt(tokenAuth), baseline: `cookie ${fmt(session)}`, ratio: `${report.tokenVsSessionRatio}x` },
            { measure: "agent.get, token + trust decision + audit entry", "p50 / p99": fmt(agentGet), baseline: `project.get ${fmt(tokenAuth)}`, ratio: `${report.agentGetVsProjectGetRatio}x` },
          ],
        };
      } finally {
        await http.close();
        await services.close();
      }
    } finally {
      await cluster.stop();
    }
  },
};
