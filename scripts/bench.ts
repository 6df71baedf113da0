// `npm run bench`: measures Armory's hot paths against raw baselines in the same run and writes
// a JSON report to bench/results.json and prints a table. Figures are milliseconds unless named otherwise; `ratio` is
// Armory's p50 over the baseline's p50.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../src/server/config";
import { openDatabase, type OpenDatabaseOptions } from "../src/server/db";
import { ensureAgentImage } from "../src/server/runtime/docker/agent-image";
import { createDockerClient } from "../src/server/runtime/docker/client";
import { createLogger } from "../src/server/logger";
import { createServices } from "../src/server/services";
import { startHttp } from "../tests/support/http-server";
import { startPostgresCluster } from "../tests/support/postgres-cluster";
import { BENCH_SECTIONS, type BenchGoal } from "./bench/sections";
import { stats, time, type Stats } from "./bench/stats";
import { BENCH_PASSWORD, signedUpClient } from "./bench/client";
import { goalsOf, printComparison } from "./bench/compare";




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
    config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_SIGN_IN_RATE_LIMIT: "10000", ARMORY_SIGN_UP: "open" }),
    db,
    log: createLogger({ level: "silent", format: "json" }),
    authSecret: "bench-secret-bench-secret-bench-secret-0123",
  });
  const startupMs = performance.now() - openStarted;
  const http = await startHttp(() => services);
  try {
    const email = `bench-${Date.now()}@example.test`;
    const { trpc } = await signedUpClient(http.url, email);
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
        body: JSON.stringify({ email, password: BENCH_PASSWORD }),
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

/** Provisioning (agent.create+start → running) vs raw `docker run`, and agent.list with 1,000 agents. */
async function benchAgents(pgUrl: string) {
  const docker = createDockerClient();
  try {
    await docker.ping();
  } catch {
    return { skipped: "no Docker engine reachable", provisioning: undefined, agentList1000: undefined };
  }
  const tag = await ensureAgentImage({ docker });
  const db = await openDatabase({ databaseUrl: pgUrl });
  const services = await createServices({
    config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_SIGN_IN_RATE_LIMIT: "10000", ARMORY_SIGN_UP: "open", ARMORY_AGENT_IMAGE_AUTOBUILD: "false" }),
    db,
    log: createLogger({ level: "silent", format: "json" }),
    authSecret: "bench-secret-bench-secret-bench-secret-0123",
  });
  services.agents.startBackground();
  const http = await startHttp(() => services);
  const created: string[] = [];
  try {
    const { trpc } = await signedUpClient(http.url, `agents-${Date.now()}@example.test`);
    const project = await trpc.project.create.mutate({ name: "Bench agents" });
    const template = (await trpc.template.list.query({ projectId: project.id })).find((t) => t.name === "claude-coder")!;

    const RUNS = Number(process.env.BENCH_PROVISION_RUNS ?? 5);
    const armorySamples: number[] = [];
    const rawSamples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      const agent = await trpc.agent.create.mutate({ projectId: project.id, templateId: template.id, name: `bench-${i}`, start: true });
      armorySamples.push(performance.now() - t);
      created.push(agent.id);
      if (agent.observedState !== "running") throw new Error(`bench agent not running: ${agent.observedState}`);

      // The same image, limits and network, started by hand.
      t = performance.now();
      const c = await docker.createContainer({
        Image: tag,
        User: "1000:1000",
        HostConfig: { Init: true, CapDrop: ["ALL"], Memory: 2048 * 2 ** 20, NanoCpus: 2e9, PidsLimit: 512, NetworkMode: services.config.agentNetwork },
      });
      await c.start();
      rawSamples.push(performance.now() - t);
      await c.remove({ force: true });
    }
    for (const id of created) await trpc.agent.remove.mutate({ projectId: project.id, agentId: id, keepVolumes: false });
    created.length = 0;

    // 1,000 agents in one project (seeded rows: the dashboard query, not Docker, is measured).
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      id: crypto.randomUUID(),
      projectId: project.id,
      name: `seeded-${i}`,
      templateId: template.id,
      image: tag,
      model: template.model,
      memoryMb: 512,
      cpus: 1,
      pidsLimit: 256,
      env: { A: "1" },
      permissionMode: "acceptEdits",
      observedState: "exited" as const,
      workspaceVolume: `bench-ws-${i}`,
      sessionVolume: `bench-cl-${i}`,
    }));
    await db.prisma.agent.createMany({ data: rows });
    // The dashboard's call: one page of 100 (from the middle of the list); beside it the whole
    // list in one call (the only shape before paging).
    const listIterations = Number(process.env.BENCH_LIST_ITERATIONS ?? 100);
    const cursor = rows.map((r) => r.name).sort()[499]!;
    const page = await trpc.agent.list.query({ projectId: project.id, limit: 100, cursor });
    if (page.length !== 100 || page[0]!.name <= cursor) throw new Error("agent.list paging returned the wrong page");
    const list = await time(listIterations, () => trpc.agent.list.query({ projectId: project.id, limit: 100, cursor }));
    const whole = await time(Math.min(listIterations, 30), () => trpc.agent.list.query({ projectId: project.id }));
    const armory = stats(armorySamples);
    const raw = stats(rawSamples);
    return {
      provisioning: { runs: RUNS, armoryCreateAndStart: armory, rawDockerRun: raw, ratio: Math.round((armory.p50 / raw.p50) * 100) / 100, goal: "< 1.2" },
      agentList1000: { ...list, page: 100, wholeList: whole, goal: "p50 < 30 ms" },
      skipped: undefined,
    };
  } finally {
    await http.close();
    await services.close();
  }
}

// `--compare old.json`: after the run, the change per goal figure; `--compare old.json new.json`
// compares two saved reports without running anything.
const compareAt = process.argv.indexOf("--compare");
const compareWith = compareAt >= 0 ? process.argv[compareAt + 1] : undefined;
if (compareAt >= 0 && !compareWith) throw new Error("--compare needs the path of an earlier bench/results.json");
const compareTo = compareAt >= 0 ? process.argv[compareAt + 2] : undefined;
if (compareWith && compareTo) {
  printComparison(compareWith, goalsOf(compareWith), compareTo, goalsOf(compareTo));
  process.exit(0);
}
// Read before the run: the earlier report may be bench/results.json itself.
const goalsBefore = compareWith ? goalsOf(compareWith) : undefined;

const cluster = await startPostgresCluster();
try {
  const pgUrl = await cluster.createDatabase("armory_bench");
  const pgliteDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-bench-pglite-"));

  const only = process.env.BENCH_ONLY?.split(","); // e.g. BENCH_ONLY=chat runs one section
  const runCore = !only || only.includes("core");
  const results = runCore
    ? [await benchDatabase("pglite", { pgliteDir }), await benchDatabase("postgres", { databaseUrl: pgUrl })]
    : [];
  fs.rmSync(pgliteDir, { recursive: true, force: true });
  let agents: Awaited<ReturnType<typeof benchAgents>> | { skipped: string; provisioning?: undefined; agentList1000?: undefined } = { skipped: "BENCH_ONLY" };
  if (runCore) {
    agents = await benchAgents(await cluster.createDatabase("armory_bench_agents"));
  }

  const sections: Record<string, unknown> = {};
  const sectionRows: Record<string, string>[][] = [];
  const goals: BenchGoal[] = [];
  if (agents.provisioning && agents.agentList1000) {
    const ratio = agents.provisioning.ratio;
    goals.push({ name: "provisioning: agent.create+start vs docker run (p50 ratio)", value: ratio, unit: "x", goal: agents.provisioning.goal, met: ratio < 1.2 });
    const p50 = agents.agentList1000.p50;
    goals.push({ name: "dashboard: agent.list with 1,000 agents (PostgreSQL, a page of 100, p50)", value: p50, unit: "ms", goal: agents.agentList1000.goal, met: p50 < 30 });
  }
  for (const section of BENCH_SECTIONS) {
    if (only && !only.includes(section.name)) continue;
    process.stdout.write(`bench: ${section.name}...\n`);
    const r = await section.run();
    sections[section.name] = r.report;
    sectionRows.push(r.rows);
    goals.push(...(r.goals ?? []));
  }

  const report = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    iterations: ITER,
    agents,
    results,
    ...sections,
    goals,
  };
  fs.mkdirSync("bench", { recursive: true });
  const file = path.join("bench", "results.json");
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
  if (runCore) printTable(results);
  if (agents.provisioning && agents.agentList1000) {
    const p = agents.provisioning;
    console.table([
      { measure: "agent.create+start → running", "p50 / p99": `${p.armoryCreateAndStart.p50.toFixed(0)} / ${p.armoryCreateAndStart.p99.toFixed(0)} ms`, baseline: `docker run ${p.rawDockerRun.p50.toFixed(0)} ms`, ratio: `${p.ratio}x (goal ${p.goal})` },
      { measure: "agent.list, 1,000 agents (PostgreSQL), a page of 100", "p50 / p99": `${agents.agentList1000.p50.toFixed(1)} / ${agents.agentList1000.p99.toFixed(1)} ms`, baseline: `all 1,000 in one call ${agents.agentList1000.wholeList.p50.toFixed(1)} / ${agents.agentList1000.wholeList.p99.toFixed(1)} ms`, ratio: `goal ${agents.agentList1000.goal}` },
    ]);
  } else console.log(`agents: skipped (${agents.skipped})`);
  for (const rows of sectionRows) console.table(rows);
  process.stdout.write(`\nfull report: ${file}\n`);
  if (compareWith && goalsBefore) printComparison(compareWith, goalsBefore, file, goals);
} finally {
  await cluster.stop();
}
