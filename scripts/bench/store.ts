// Bench section "store": how many chat events per second Armory stores, on PostgreSQL and on
// PGlite (on disk, as in production). 100 sessions receive 1,000 token events each, interleaved
// as 100 streaming turns would deliver them, through ChatEventBus.emit (the path every CLI line
// takes: numbered per session, stored in group-committed multi-row statements, then published).
// Every session's seqs are then checked: 1..1,000, none missing, none twice.
// Baselines in the same run: the database's ceiling for the same rows (pre-numbered multi-row
// INSERTs of 2,000 rows, no counter), and one statement per event (a writer without group commit).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/server/config";
import { openDatabase, type OpenDatabaseOptions } from "../../src/server/db";
import { createLogger } from "../../src/server/logger";
import { createServices } from "../../src/server/services";
import { startHttp } from "../../tests/support/http-server";
import { startPostgresCluster } from "../../tests/support/postgres-cluster";
import { signedUpClient } from "./client";
import type { BenchGoal, BenchSection, BenchSectionResult } from "./sections";

const SESSIONS = Number(process.env.BENCH_STORE_SESSIONS ?? 100);
const EVENTS = Number(process.env.BENCH_STORE_EVENTS ?? 1000);
const NAIVE_EVENTS = 2000;

/** One token delta as the CLI writes it (what most stored events are). */
const delta = (i: number) => ({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `token ${i} ` } });

async function measure(kind: "postgres" | "pglite", options: OpenDatabaseOptions) {
  const db = await openDatabase(options);
  const services = await createServices({
    config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_SIGN_IN_RATE_LIMIT: "10000", ARMORY_SIGN_UP: "open", ARMORY_AGENT_IMAGE_AUTOBUILD: "false" }),
    db,
    log: createLogger({ level: "silent", format: "json" }),
    authSecret: "bench-secret-bench-secret-bench-secret-0123",
  });
  const http = await startHttp(() => services);
  try {
    const { trpc } = await signedUpClient(http.url, `store-${kind}-${Date.now()}@example.test`);
    const project = await trpc.project.create.mutate({ name: "Bench store" });
    const template = (await trpc.template.list.query({ projectId: project.id })).find((t) => t.name === "claude-coder")!;
    const agent = await db.prisma.agent.create({
      data: {
        projectId: project.id,
        name: "store",
        templateId: template.id,
        image: "armory-agent:bench",
        model: template.model,
        memoryMb: 512,
        cpus: 1,
        pidsLimit: 256,
        permissionMode: "acceptEdits",
        workspaceVolume: "bench-ws",
        sessionVolume: "bench-cl",
      },
    });
    const store = services.chat.store;
    const newSessions = async (n: number) => {
      const ids: { session: string; run: string }[] = [];
      for (let i = 0; i < n; i++) {
        const s = await store.createSession({ projectId: project.id, agentId: agent.id, title: `store ${i}`, userId: null });
        const r = await store.createRun({ sessionId: s.id, agentId: agent.id, projectId: project.id, userId: null, message: "bench", mode: "warm" });
        ids.push({ session: s.id, run: r.id });
      }
      return ids;
    };

    // Armory: every event through the bus, interleaved across sessions, none awaited singly.
    const sessions = await newSessions(SESSIONS);
    const t0 = performance.now();
    const writes: Promise<unknown>[] = [];
    for (let i = 1; i <= EVENTS; i++) for (const s of sessions) writes.push(services.chat.bus.emit(s.session, { runId: s.run, type: "stream_event", data: delta(i) }));
    await Promise.all(writes);
    const busMs = performance.now() - t0;
    const stored = SESSIONS * EVENTS;
    // Every session 1..EVENTS, each once, in the order emitted.
    let wrong = 0;
    for (const s of sessions) {
      const rows = await db.raw.query<{ seq: number; i: string }>(`SELECT seq, data->'delta'->>'text' AS i FROM chat_event WHERE "sessionId" = $1 ORDER BY seq`, [s.session]);
      if (rows.length !== EVENTS) wrong++;
      else if (rows.some((r, k) => r.seq !== k + 1 || r.i !== `token ${k + 1} `)) wrong++;
    }

    // Ceiling: the same rows pre-numbered, multi-row INSERTs of 2,000 (no counter, no publishing).
    const [ceiling] = await newSessions(1);
    const rows = Array.from({ length: stored }, (_, k) => [ceiling!.session, k + 1, ceiling!.run, "stream_event", JSON.stringify(delta(k))]);
    const t1 = performance.now();
    for (let k = 0; k < rows.length; k += 2000) {
      const chunk = rows.slice(k, k + 2000);
      const values = chunk.map((_, j) => `($${j * 5 + 1}, $${j * 5 + 2}, $${j * 5 + 3}, $${j * 5 + 4}, $${j * 5 + 5}::jsonb, now())`).join(",");
      await db.raw.query(`INSERT INTO chat_event ("sessionId", seq, "runId", type, data, "createdAt") VALUES ${values}`, chunk.flat());
    }
    const ceilingMs = performance.now() - t1;

    // A writer without group commit: one append (one statement) per event, awaited in turn.
    const [naive] = await newSessions(1);
    const t2 = performance.now();
    for (let i = 0; i < NAIVE_EVENTS; i++) await store.append(naive!.session, [{ runId: naive!.run, type: "stream_event", data: delta(i) }]);
    const naiveMs = performance.now() - t2;

    const perSec = (n: number, ms: number) => Math.round(n / (ms / 1000));
    return {
      kind,
      sessions: SESSIONS,
      eventsPerSession: EVENTS,
      stored,
      wallMs: Math.round(busMs),
      eventsPerSec: perSec(stored, busMs),
      sessionsWrong: wrong,
      baselineMultiRowInsertPerSec: perSec(stored, ceilingMs),
      baselineOneStatementPerEventPerSec: perSec(NAIVE_EVENTS, naiveMs),
    };
  } finally {
    await http.close();
    await services.close();
  }
}

async function run(): Promise<BenchSectionResult> {
  const cluster = await startPostgresCluster();
  const pgliteDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-bench-store-"));
  try {
    const postgres = await measure("postgres", { databaseUrl: await cluster.createDatabase("armory_bench_store") });
    const pglite = await measure("pglite", { pgliteDir });
    const goals: BenchGoal[] = [
      {
        name: "store: chat events stored per second (PostgreSQL, 100 sessions, checked gap-free)",
        value: postgres.eventsPerSec,
        unit: "events/s",
        goal: ">= 20000",
        met: postgres.eventsPerSec >= 20_000 && postgres.sessionsWrong === 0,
      },
    ];
    const row = (r: typeof postgres) => ({
      measure: `chat events stored/s, ${r.kind} (${r.sessions} sessions × ${r.eventsPerSession}, ChatEventBus.emit)`,
      "p50 / p99": `${r.eventsPerSec} events/s (${r.sessionsWrong} sessions wrong)`,
      baseline: `multi-row INSERT ${r.baselineMultiRowInsertPerSec}/s; one statement per event ${r.baselineOneStatementPerEventPerSec}/s`,
      "ratio/goal": r.kind === "postgres" ? "goal >= 20000/s" : "",
    });
    return { report: { postgres, pglite }, rows: [row(postgres), row(pglite)], goals };
  } finally {
    fs.rmSync(pgliteDir, { recursive: true, force: true });
    await cluster.stop();
  }
}

export const storeBench: BenchSection = { name: "store", run };
