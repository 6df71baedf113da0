// `npm run bench`: measures Armory's hot paths against raw baselines in the same run and writes
// a JSON report to bench/results.json and prints a table. Figures are milliseconds unless named otherwise; `ratio` is
// Armory's p50 over the baseline's p50.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "../src/server/api/root";
import { loadConfig } from "../src/server/config";
import { openDatabase, type OpenDatabaseOptions } from "../src/server/db";
import { createLogger } from "../src/server/logger";
import { createServices } from "../src/server/services";
import { startHttp } from "../tests/support/http-server";
import { startPostgresCluster } from "../tests/support/postgres-cluster";
import pg from "pg";

interface Stats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { n: s.length, p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), mean: round(s.reduce((a, b) => a + b, 0) / s.length) };
}

async function time(n: number, fn: () => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < Math.min(20, n); i++) await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return stats(samples);
}

function printTable(results: Awaited<ReturnType<typeof benchDatabase>>[]) {
  const rows: Record<string, string>[] = [];
  for (const r of results) {
    const fmt = (s: Stats) => `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} ms`;
    rows.push({ database: r.kind, measure: `project.list (${r.projectList.projects} projects) over HTTP`, "p50 / p99": fmt(r.projectList.armoryHttp), baseline: `raw SQL ${fmt(r.projectList.rawSql)}`, ratio: `${r.projectList.ratio}x` });
    rows.push({ database: r.kind, measure: "project.create over HTTP", "p50 / p99": fmt(r.projectCreate), baseline: "", ratio: "" });
    rows.push({ database: r.kind, measure: "GET /api/health", "p50 / p99": fmt(r.health), baseline: "", ratio: "" });
    rows.push({ database: r.kind, measure: "sign-in (password hash)", "p50 / p99": fmt(r.signIn), baseline: "", ratio: "" });
    rows.push({ database: r.kind, measure: "open + migrate", "p50 / p99": `${r.startupWithMigrationsMs} ms`, baseline: "", ratio: "" });
  }
  console.table(rows);
}

const ITER = Number(process.env.BENCH_ITERATIONS ?? 300);
const PROJECTS = 200;

async function benchDatabase(kind: "pglite" | "postgres", options: OpenDatabaseOptions) {
  const openStarted = performance.now();
  const db = await openDatabase(options);
  const services = await createServices({
    config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_SIGN_IN_RATE_LIMIT: "10000" }),
    db,
    log: createLogger({ level: "silent", format: "json" }),
    authSecret: "bench-secret-bench-secret-bench-secret-0123",
  });
  const startupMs = performance.now() - openStarted;
  const http = await startHttp(() => services);
  try {
    const email = `bench-${Date.now()}@example.test`;
    const password = "bench password 123";
    const signUp = await fetch(`${http.url}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: http.url },
      body: JSON.stringify({ name: "Bench", email, password }),
    });
    const cookie = signUp.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const trpc = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${http.url}/api/trpc`, transformer: superjson, headers: () => ({ cookie }) })],
    });
    for (let i = 0; i < PROJECTS; i++) await trpc.project.create.mutate({ name: `Project ${i}` });

    const raw = await time(ITER, () =>
      db.raw.query(
        `SELECT p.* , (SELECT count(*) FROM project_member c WHERE c."projectId" = p.id) AS members
         FROM project_member m JOIN project p ON p.id = m."projectId" WHERE m."userId" = (SELECT id FROM "user" WHERE email = $1)
         ORDER BY p."createdAt" DESC`,
        [email],
      ),
    );
    const list = await time(ITER, () => trpc.project.list.query());
    const create = await time(Math.min(ITER, 100), () => trpc.project.create.mutate({ name: "bench" }));
    const health = await time(ITER, () => fetch(`${http.url}/api/health`).then((r) => r.arrayBuffer()));
    const signIn = await time(10, () =>
      fetch(`${http.url}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: http.url },
        body: JSON.stringify({ email, password }),
      }).then((r) => r.arrayBuffer()),
    );
    return {
      kind,
      startupWithMigrationsMs: Math.round(startupMs),
      projectList: { projects: PROJECTS, armoryHttp: list, rawSql: raw, ratio: Math.round((list.p50 / raw.p50) * 100) / 100 },
      projectCreate: create,
      health,
      signIn,
    };
  } finally {
    await http.close();
    await services.close();
  }
}

const cluster = await startPostgresCluster();
try {
  const admin = new pg.Client({ connectionString: cluster.adminUrl });
  await admin.connect();
  await admin.query("CREATE DATABASE armory_bench");
  await admin.end();
  const pgUrl = cluster.adminUrl.replace(/\/postgres$/, "/armory_bench");
  const pgliteDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-bench-pglite-"));

  const results = [
    await benchDatabase("pglite", { pgliteDir }),
    await benchDatabase("postgres", { databaseUrl: pgUrl }),
  ];
  fs.rmSync(pgliteDir, { recursive: true, force: true });

  const report = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    iterations: ITER,
    results,
  };
  fs.mkdirSync("bench", { recursive: true });
  const file = path.join("bench", "results.json");
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
  printTable(results);
  process.stdout.write(`\nfull report: ${file}\n`);
} finally {
  await cluster.stop();
}
