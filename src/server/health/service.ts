// Health views: the cross-project summary (one database query for the agents plus one for their
// newest activity, resources from the collector's memory, no Docker calls), one agent's detail
// with recent samples and its activity log, and stats snapshots.
import type { PrismaClient } from "../db";
import { agentLabels } from "../docker/containers";
import { notFound } from "../domain/errors";
import type { StatsCollector } from "./collector";
import type { HealthMonitor } from "./monitor";
import type { AgentHealthView, ResourceSampleView } from "../api/routers/health/schemas";

const agentSelect = {
  id: true,
  projectId: true,
  name: true,
  image: true,
  observedState: true,
  desiredState: true,
  statusDetail: true,
  oomKilled: true,
  exitCode: true,
  startedAt: true,
  finishedAt: true,
  containerId: true,
  containerConfigHash: true,
  memoryMb: true,
  cpus: true,
  restartPolicy: true,
  autoRestartCount: true,
  lastAutoRestartAt: true,
  project: { select: { name: true } },
  template: { select: { name: true } },
} as const;

function versionOf(image: string): string {
  const at = image.lastIndexOf(":");
  return at > image.lastIndexOf("/") ? image.slice(at + 1) : "latest";
}

function findHealthRows(prisma: PrismaClient, where: { userId?: string; projectId?: string; agentId?: string }) {
  return prisma.agent.findMany({
    where: {
      ...(where.userId ? { project: { members: { some: { userId: where.userId } } } } : {}),
      ...(where.projectId ? { projectId: where.projectId } : {}),
      ...(where.agentId ? { id: where.agentId } : {}),
    },
    select: agentSelect,
    orderBy: [{ projectId: "asc" }, { name: "asc" }],
  });
}
type HealthRow = Awaited<ReturnType<typeof findHealthRows>>[number];

type Activity = { id: string; agentId: string; kind: string; message: string; createdAt: Date };

export class HealthService {
  constructor(
    private readonly prisma: PrismaClient,
    readonly collector: StatsCollector,
    readonly monitor: HealthMonitor,
  ) {}

  private view(
    row: HealthRow,
    last: Activity | null,
    now: number,
  ): AgentHealthView {
    const running = row.observedState === "running";
    const { health, detail } = this.monitor.healthOf(row, now);
    const version = versionOf(row.image);
    const times = [last?.createdAt, row.startedAt, row.finishedAt].filter((d): d is Date => !!d);
    return {
      id: row.id,
      projectId: row.projectId,
      projectName: row.project.name,
      name: row.name,
      templateName: row.template.name,
      image: row.image,
      version,
      status: row.observedState,
      desiredState: row.desiredState,
      health,
      healthDetail: detail,
      startedAt: row.startedAt,
      uptimeSeconds: running && row.startedAt ? Math.max(0, Math.floor((now - row.startedAt.getTime()) / 1000)) : null,
      labels: agentLabels({
        agentId: row.id,
        projectId: row.projectId,
        templateName: row.template.name,
        version,
        configHash: row.containerConfigHash ?? "",
      }),
      resources: running ? this.collector.latest(row.id) : null,
      memoryMb: row.memoryMb,
      cpus: row.cpus,
      restartPolicy: row.restartPolicy,
      autoRestartCount: row.autoRestartCount,
      oomKilled: row.oomKilled,
      exitCode: row.exitCode,
      lastActivityAt: times.length ? new Date(Math.max(...times.map((d) => d.getTime()))) : null,
      lastActivity: last ? { id: last.id, kind: last.kind, message: last.message, createdAt: last.createdAt } : null,
    };
  }

  private rows(where: { userId?: string; projectId?: string; agentId?: string }) {
    return findHealthRows(this.prisma, where);
  }

  /** The newest activity entry per agent, in one query. */
  private async lastActivity(agentIds: string[]): Promise<Map<string, Activity>> {
    if (!agentIds.length) return new Map();
    const rows = await this.prisma.$queryRaw<Activity[]>`
      SELECT DISTINCT ON ("agentId") "id", "agentId", "kind", "message", "createdAt"
      FROM "agent_activity" WHERE "agentId" = ANY(${agentIds})
      ORDER BY "agentId", "createdAt" DESC`;
    return new Map(rows.map((r) => [r.agentId, r]));
  }

  /** Every agent in the projects the user is a member of (optionally one project). */
  async summary(userId: string, projectId?: string) {
    const rows = await this.rows({ userId, projectId });
    const last = await this.lastActivity(rows.map((r) => r.id));
    const now = Date.now();
    const agents = rows.map((r) => this.view(r, last.get(r.id) ?? null, now));
    const totals = { agents: agents.length, running: 0, healthy: 0, unhealthy: 0, cpuPercent: 0, memoryUsageMB: 0, memoryLimitMB: 0 };
    for (const a of agents) {
      if (a.status === "running") totals.running++;
      if (a.health === "healthy") totals.healthy++;
      if (a.health === "unhealthy" || a.health === "down" || a.health === "oom" || a.health === "crash-loop") totals.unhealthy++;
      if (a.resources) {
        totals.cpuPercent += a.resources.cpuPercent;
        totals.memoryUsageMB += a.resources.memoryUsageMB;
        totals.memoryLimitMB += a.resources.memoryLimitMB;
      }
    }
    totals.cpuPercent = Math.round(totals.cpuPercent * 100) / 100;
    totals.memoryUsageMB = Math.round(totals.memoryUsageMB * 100) / 100;
    totals.memoryLimitMB = Math.round(totals.memoryLimitMB * 100) / 100;
    return { agents, totals, generatedAt: new Date(now) };
  }

  async agent(projectId: string, agentId: string, samples: number) {
    const [row] = await this.rows({ projectId, agentId });
    if (!row) throw notFound("Agent");
    const activity = await this.prisma.agentActivity.findMany({
      where: { agentId },
      orderBy: { createdAt: "desc" },
      take: 50,
      select: { id: true, agentId: true, kind: true, message: true, createdAt: true },
    });
    const probe = this.monitor.probe(agentId);
    return {
      agent: this.view(row, activity[0] ?? null, Date.now()),
      samples: samples ? this.collector.history(agentId, samples) : [],
      lastCheck: probe ? { ok: probe.ok, message: probe.message, checkedAt: probe.checkedAt, failures: probe.failures } : null,
      pendingRestart: this.monitor.pendingRestart(agentId),
      activity: activity.map(({ agentId: _a, ...rest }) => rest),
    };
  }

  stats(agentId: string, running: boolean): { agentId: string; running: boolean; sample: ResourceSampleView | null } {
    return { agentId, running, sample: running ? this.collector.latest(agentId) : null };
  }
}
