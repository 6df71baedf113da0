// Bench section "health": health.summary latency over HTTP with 50 running agents and with 1,000
// agents in the database, against the naive baseline (asking Docker for every container's stats
// per request), and the stats collector's CPU cost per running agent.
import { loadConfig } from "../../src/server/config";
import { openDatabase } from "../../src/server/db";
import { ensureAgentImage } from "../../src/server/runtime/docker/agent-image";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";
import { createLogger } from "../../src/server/logger";
import { createServices } from "../../src/server/services";
import { removeProjectDockerObjects } from "../../tests/support/docker";
import { startHttp } from "../../tests/support/http-server";
import { startPostgresCluster } from "../../tests/support/postgres-cluster";
import superjson from "superjson";
import { serialize as wireSerialize } from "../../src/server/api/wire";
import type { BenchGoal, BenchSection } from "./sections";
import { time, type Stats } from "./stats";
import { signedUpClient } from "./client";

const RUNNING = Number(process.env.BENCH_HEALTH_RUNNING ?? 50);
const TOTAL = 1000;
const ITERATIONS = Number(process.env.BENCH_HEALTH_ITERATIONS ?? 100);
const CPU_WINDOW_MS = Number(process.env.BENCH_HEALTH_CPU_WINDOW_MS ?? 10_000);




/** CPU time this process uses over `ms`, in percent of one core. */
async function cpuPercentOver(ms: number): Promise<number> {
  const start = process.cpuUsage();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / 1000 / (performance.now() - t)) * 100;
}

async function run() {
  const docker = createDockerClient();
  try {
    await docker.ping();
  } catch {
    return { report: { skipped: "no Docker engine reachable" }, rows: [{ measure: "health", "p50 / p99": "skipped: no Docker engine" }] };
  }
  await ensureAgentImage({ docker });
  const cluster = await startPostgresCluster();
  const db = await openDatabase({ databaseUrl: await cluster.createDatabase("armory_bench_health") });
  const services = await createServices({
    config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_SIGN_IN_RATE_LIMIT: "10000", ARMORY_SIGN_UP: "open", ARMORY_AGENT_IMAGE_AUTOBUILD: "false" }),
    db,
    log: createLogger({ level: "silent", format: "json" }),
    authSecret: "bench-secret-bench-secret-bench-secret-0123",
    // The collector alone is measured: no health probes during the run.
    selfHeal: { checkIntervalMs: 3_600_000, startGraceMs: 3_600_000 },
  });
  services.startBackground();
  const http = await startHttp(() => services);
  let projectId = "";
  try {
    const { trpc } = await signedUpClient(http.url, `health-${Date.now()}@example.test`);
    projectId = (await trpc.project.create.mutate({ name: "Bench health" })).id;
    const template = (await trpc.template.list.query({ projectId })).find((t) => t.name === "claude-coder")!;

    for (let i = 0; i < RUNNING; i += 5) {
      await Promise.all(
        Array.from({ length: Math.min(5, RUNNING - i) }, (_, k) =>
          trpc.agent.create.mutate({
            projectId,
            templateId: template.id,
            name: `health-${i + k}`,
            overrides: { memoryMb: 128, cpus: 0.1, pidsLimit: 64 },
            start: true,
          }),
        ),
      );
    }
    // Every running agent sampled at least once.
    const ids = (await db.prisma.agent.findMany({ where: { projectId }, select: { id: true } })).map((a) => a.id);
    for (let waited = 0; ids.some((id) => !services.health.collector.latest(id)); waited += 200) {
      if (waited > 60_000) throw new Error("the collector did not sample every agent within a minute");
      await new Promise((r) => setTimeout(r, 200));
    }
    const summary50 = await time(ITERATIONS, () => trpc.health.summary.query());
    const check = await trpc.health.summary.query();
    if (check.totals.running !== RUNNING || check.agents.some((a) => !a.resources)) throw new Error("summary incomplete");

    // The naive way: ask Docker for each running container's stats on every request.
    const containers = await docker.listContainers({ filters: { label: [`${LABELS.projectId}=${projectId}`] } });
    const naive = await time(3, () => Promise.all(containers.map((c) => docker.getContainer(c.Id).stats({ stream: false }))));

    // 1,000 agents in the database (the rest seeded as stopped): the query, not Docker, is measured.
    await db.prisma.agent.createMany({
      data: Array.from({ length: TOTAL - RUNNING }, (_, i) => ({
        projectId,
        name: `seeded-${i}`,
        templateId: template.id,
        image: template.image === "default" ? services.agentImage.defaultTag() : template.image,
        model: template.model,
        memoryMb: 512,
        cpus: 1,
        pidsLimit: 256,
        permissionMode: "acceptEdits",
        observedState: "exited" as const,
        workspaceVolume: `bench-ws-${i}`,
        sessionVolume: `bench-cl-${i}`,
      })),
    });
    // Collector cost: the same agents running, with and without the stats streams.
    const collectingCpu = await cpuPercentOver(CPU_WINDOW_MS);
    const streams = services.health.collector.streamCount;
    await services.health.collector.stop();
    const idleCpu = await cpuPercentOver(CPU_WINDOW_MS);
    const perAgent = Math.max(0, collectingCpu - idleCpu) / RUNNING;

    const summary1000 = await time(ITERATIONS, () => trpc.health.summary.query());
    const summaryProject = await time(ITERATIONS, () => trpc.health.summary.query({ projectId }));
    // The same HTTP path with almost no payload: what every call pays before and after the service.
    const projectList = await time(ITERATIONS, () => trpc.project.list.query());
    // Where the time goes: the service in-process (one query + views), and the response's
    // serialization by superjson (the transformer before) and by Armory's wire transformer.
    const userId = (await db.prisma.projectMember.findFirstOrThrow({ where: { projectId } })).userId;
    const service1000 = await time(ITERATIONS, () => services.health.summary(userId));
    const body = await services.health.summary(userId);
    const superjsonMs = await time(ITERATIONS, async () => JSON.stringify(superjson.serialize(body)));
    const wireMs = await time(ITERATIONS, async () => JSON.stringify(wireSerialize(body)));

    const report = {
      runningAgents: RUNNING,
      summary50Running: { ...summary50, goal: "p50 < 50 ms" },
      summary1000InDb: { ...summary1000, agents: TOTAL, running: RUNNING, goal: "p50 < 30 ms" },
      summary1000Profile: { serviceInProcess: service1000, superjsonSerialize: superjsonMs, wireSerialize: wireMs, bytes: JSON.stringify(wireSerialize(body)).length },
      summary1000OneProject: { ...summaryProject, agents: TOTAL, running: RUNNING },
      projectListSameRun: projectList,
      naiveDockerStatsPerRequest: naive,
      ratioVsNaive: Math.round((summary50.p50 / naive.p50) * 1000) / 1000,
      collector: {
        streams,
        processCpuIdlePercent: Math.round(idleCpu * 100) / 100,
        processCpuCollectingPercent: Math.round(collectingCpu * 100) / 100,
        cpuPercentPerRunningAgent: Math.round(perAgent * 1000) / 1000,
        windowMs: CPU_WINDOW_MS,
      },
    };
    const ms = (s: Stats, d = 1) => `${s.p50.toFixed(d)} / ${s.p99.toFixed(d)} ms`;
    const goals: BenchGoal[] = [
      { name: `health: health.summary with ${TOTAL} agents (HTTP, p50)`, value: summary1000.p50, unit: "ms", goal: "p50 < 30 ms", met: summary1000.p50 < 30 },
    ];
    return {
      report,
      goals,
      rows: [
        { measure: `health.summary, ${RUNNING} running agents (HTTP)`, "p50 / p99": ms(summary50), baseline: `Docker stats per request ${ms(naive, 0)}`, ratio: `${report.ratioVsNaive}x (goal p50 < 50 ms)` },
        { measure: `health.summary, ${TOTAL} agents in the database (HTTP)`, "p50 / p99": ms(summary1000), baseline: `service in-process ${ms(service1000)}`, ratio: "goal p50 < 30 ms" },
        { measure: `  its response serialized (${Math.round(report.summary1000Profile.bytes / 1024)} KiB)`, "p50 / p99": `wire ${ms(wireMs)}`, baseline: `superjson ${ms(superjsonMs)}`, ratio: "" },
        { measure: `health.summary({ projectId }), ${TOTAL} agents (the agent cards)`, "p50 / p99": ms(summaryProject), baseline: `project.list (HTTP floor) ${ms(projectList)}`, ratio: "" },
        { measure: "stats collector CPU per running agent", "p50 / p99": `${report.collector.cpuPercentPerRunningAgent}% of a core`, baseline: `idle ${report.collector.processCpuIdlePercent}%`, ratio: `${RUNNING} streams: ${report.collector.processCpuCollectingPercent}%` },
      ],
    };
  } finally {
    await http.close();
    await services.close();
    // Its containers, volumes and project network (with its relay).
    await removeProjectDockerObjects(projectId || undefined);
    await cluster.stop();
  }
}

export const healthBench: BenchSection = { name: "health", run };
