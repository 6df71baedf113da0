// Health views: the cross-project summary (one database query for the agents plus one for their
// newest activity, resources from the collector's memory, no Docker calls), one agent's detail
// with recent samples and its activity log, and stats snapshots.
import type { PrismaClient } from "../db";
import { Prisma } from "../db/generated/client";
import { agentLabels } from "../runtime";
import { notFound } from "../domain/errors";
import type { StatsCollector } from "./collector";
import type { HealthMonitor } from "./monitor";
import type { AgentHealthRowView, AgentHealthView, ResourceSampleView } from "../api/routers/health/schemas";

function versionOf(image: string): string {
  const at = image.lastIndexOf(":");
  return at > image.lastIndexOf("/") ? image.slice(at + 1) : "latest";
}

/** One agent row with what the health views need (project and template names, newest activity). */
interface HealthRow {
  id: string;
  projectId: string;
  name: string;
  image: string;
  observedState: AgentHealthView["status"];
  desiredState: AgentHealthView["desiredState"];
  statusDetail: string | null;
  oomKilled: boolean;
  exitCode: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  containerId: string | null;
  containerConfigHash: string | null;
  memoryMb: number;
  cpus: number;
  restartPolicy: AgentHealthView["restartPolicy"];
  autoRestartCount: number;
  lastAutoRestartAt: Date | null;
  projectName: string;
  templateName: string;
  activityId: string | null;
  activityKind: string | null;
  activityMessage: string | null;
  activityAt: Date | null;
}

/**
 * Agents (of the user's projects, one project, or one agent) in ONE query: joined with their
 * project and template names and their newest activity entry.
 */
function findHealthRows(prisma: PrismaClient, where: { userId?: string; projectId?: string; agentId?: string; projectIds?: string[] }): Promise<HealthRow[]> {
  const conditions = [
    where.userId ? Prisma.sql`EXISTS (SELECT 1 FROM "project_member" m WHERE m."projectId" = a."projectId" AND m."userId" = ${where.userId})` : null,
    where.projectIds?.length ? Prisma.sql`a."projectId" IN (${Prisma.join(where.projectIds)})` : null,
    where.projectId ? Prisma.sql`a."projectId" = ${where.projectId}` : null,
    where.agentId ? Prisma.sql`a."id" = ${where.agentId}` : null,
  ].filter((c): c is Prisma.Sql => c !== null);
  const filter = conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
  return prisma.$queryRaw<HealthRow[]>`
    SELECT a."id", a."projectId", a."name", a."image", a."observedState"::text AS "observedState",
      a."desiredState"::text AS "desiredState", a."statusDetail", a."oomKilled", a."exitCode", a."startedAt",
      a."finishedAt", a."containerId", a."containerConfigHash", a."memoryMb", a."cpus",
      a."restartPolicy"::text AS "restartPolicy", a."autoRestartCount", a."lastAutoRestartAt",
      p."name" AS "projectName", t."name" AS "templateName",
      la."id" AS "activityId", la."kind" AS "activityKind", la."message" AS "activityMessage", la."createdAt" AS "activityAt"
    FROM "agent" a
    JOIN "project" p ON p."id" = a."projectId"
    JOIN "template" t ON t."id" = a."templateId"
    LEFT JOIN LATERAL (
      SELECT x."id", x."kind", x."message", x."createdAt" FROM "agent_activity" x
      WHERE x."agentId" = a."id" ORDER BY x."createdAt" DESC LIMIT 1
    ) la ON true
    ${filter}
    ORDER BY p."name", a."projectId", a."name"`;
}

function uptimeOf(row: HealthRow, now: number): number | null {
  return row.observedState === "running" && row.startedAt ? Math.max(0, Math.floor((now - row.startedAt.getTime()) / 1000)) : null;
}

/** The newest of: the last activity entry, the last start, the last stop. */
function lastActivityAt(row: HealthRow): Date | null {
  let t = -Infinity;
  for (const d of [row.activityAt, row.startedAt, row.finishedAt]) if (d && d.getTime() > t) t = d.getTime();
  return t === -Infinity ? null : new Date(t);
}

export class HealthService {
  constructor(
    private readonly prisma: PrismaClient,
    readonly collector: StatsCollector,
    readonly monitor: HealthMonitor,
  ) {}

  /** The summary's row of one agent: what the health table and the agent cards show. */
  private rowView(row: HealthRow, now: number): AgentHealthRowView {
    const { health, detail } = this.monitor.healthOf(row, now);
    const sample = row.observedState === "running" ? this.collector.latest(row.id) : null;
    return {
      id: row.id,
      projectId: row.projectId,
      projectName: row.projectName,
      name: row.name,
      templateName: row.templateName,
      version: versionOf(row.image),
      status: row.observedState,
      health,
      healthDetail: detail,
      uptimeSeconds: uptimeOf(row, now),
      resources: sample ? { cpuPercent: sample.cpuPercent, memoryUsageMB: sample.memoryUsageMB, memoryLimitMB: sample.memoryLimitMB } : null,
      lastActivityAt: lastActivityAt(row),
      lastActivity: row.activityId ? { kind: row.activityKind!, message: row.activityMessage! } : null,
    };
  }

  /** Everything about one agent (health.agent). */
  private view(row: HealthRow, now: number): AgentHealthView {
    const last = row.activityId
      ? { id: row.activityId, kind: row.activityKind!, message: row.activityMessage!, createdAt: row.activityAt! }
      : null;
    const running = row.observedState === "running";
    const { health, detail } = this.monitor.healthOf(row, now);
    const version = versionOf(row.image);
    return {
      id: row.id,
      projectId: row.projectId,
      projectName: row.projectName,
      name: row.name,
      templateName: row.templateName,
      image: row.image,
      version,
      status: row.observedState,
      desiredState: row.desiredState,
      health,
      healthDetail: detail,
      startedAt: row.startedAt,
      uptimeSeconds: uptimeOf(row, now),
      labels: agentLabels({
        agentId: row.id,
        projectId: row.projectId,
        templateName: row.templateName,
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
      lastActivityAt: lastActivityAt(row),
      lastActivity: last ? { id: last.id, kind: last.kind, message: last.message, createdAt: last.createdAt } : null,
    };
  }

  private rows(where: { userId?: string; projectId?: string; agentId?: string; projectIds?: string[] }) {
    return findHealthRows(this.prisma, where);
  }

  /**
   * Every agent in the projects the user is a member of (optionally one project); `projectIds`
   * (a machine token's project limit, when it has one) narrows that to those projects.
   */
  async summary(userId: string, projectId?: string, opts: { projectIds?: string[] } = {}) {
    const rows = await this.rows({ userId, projectId, projectIds: opts.projectIds });
    const now = Date.now();
    const agents = rows.map((r) => this.rowView(r, now));
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
      agent: this.view(row, Date.now()),
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
