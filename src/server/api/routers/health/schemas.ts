// health.* input and output schemas: live resources, health and self-heal of agents.
import { z } from "zod";
import { HEALTH_STATES, RESTART_POLICIES } from "../../../health/states";
import { projectIdSchema } from "../../schemas/ids";
import { agentRef, DESIRED_STATES, OBSERVED_STATES } from "../agent/schemas";

export const resourceSample = z.object({
  time: z.date(),
  /** Percent of one core (200 = two cores busy). */
  cpuPercent: z.number(),
  memoryUsageMB: z.number(),
  memoryLimitMB: z.number(),
  networkRxMB: z.number(),
  networkTxMB: z.number(),
  blockReadMB: z.number(),
  blockWriteMB: z.number(),
  pids: z.number(),
});
export type ResourceSampleView = z.infer<typeof resourceSample>;

export const activityEntry = z.object({
  id: z.string(),
  /** crashed | oom | unhealthy | healthy | restarted | restart-failed | crash-loop | gave-up | policy */
  kind: z.string(),
  message: z.string(),
  createdAt: z.date(),
});

export const agentHealth = z.object({
  id: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  name: z.string(),
  templateName: z.string(),
  image: z.string(),
  version: z.string(),
  status: z.enum(OBSERVED_STATES),
  desiredState: z.enum(DESIRED_STATES),
  health: z.enum(HEALTH_STATES),
  /** Why the health is what it is (null when healthy or stopped). */
  healthDetail: z.string().nullable(),
  startedAt: z.date().nullable(),
  /** Seconds since the container started, while it runs. */
  uptimeSeconds: z.number().nullable(),
  /** The container's Docker labels (empty when the summary was asked without labels). */
  labels: z.record(z.string(), z.string()),
  /** The newest resource sample while the agent runs (null when stopped or not sampled yet). */
  resources: resourceSample.nullable(),
  memoryMb: z.number(),
  cpus: z.number(),
  restartPolicy: z.enum(RESTART_POLICIES),
  autoRestartCount: z.number(),
  oomKilled: z.boolean(),
  exitCode: z.number().nullable(),
  /** The newest of: the last activity entry, the last start, the last stop. */
  lastActivityAt: z.date().nullable(),
  lastActivity: activityEntry.nullable(),
});
export type AgentHealthView = z.infer<typeof agentHealth>;

/**
 * One agent in the summary: what the health table and the agent cards show (the fleet-wide view
 * stays small: 1,000 agents are a few hundred KiB). Everything else about one agent (labels,
 * limits, restart policy, exit, the full resource sample) is in health.agent.
 */
export const agentHealthRow = z.object({
  id: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  name: z.string(),
  templateName: z.string(),
  version: z.string(),
  status: z.enum(OBSERVED_STATES),
  health: z.enum(HEALTH_STATES),
  /** Why the health is what it is (null when healthy or stopped). */
  healthDetail: z.string().nullable(),
  /** Seconds since the container started, while it runs. */
  uptimeSeconds: z.number().nullable(),
  /** From the newest resource sample while the agent runs (null when stopped or not sampled yet). */
  resources: resourceSample.pick({ cpuPercent: true, memoryUsageMB: true, memoryLimitMB: true }).nullable(),
  /** The newest of: the last activity entry, the last start, the last stop. */
  lastActivityAt: z.date().nullable(),
  lastActivity: activityEntry.pick({ kind: true, message: true }).nullable(),
});
export type AgentHealthRowView = z.infer<typeof agentHealthRow>;

export const healthSummaryInput = z
  .object({
    projectId: projectIdSchema.optional(),
  })
  .optional();
export const healthSummaryOutput = z.object({
  agents: z.array(agentHealthRow),
  totals: z.object({
    agents: z.number(),
    running: z.number(),
    healthy: z.number(),
    unhealthy: z.number(),
    cpuPercent: z.number(),
    memoryUsageMB: z.number(),
    memoryLimitMB: z.number(),
  }),
  generatedAt: z.date(),
});

export const healthAgentInput = agentRef.extend({
  /** How many recent samples to return (about one per second). */
  samples: z.number().int().min(0).max(3600).default(300),
});
export const healthAgentOutput = z.object({
  agent: agentHealth,
  samples: z.array(resourceSample),
  lastCheck: z.object({ ok: z.boolean(), message: z.string(), checkedAt: z.date(), failures: z.number() }).nullable(),
  pendingRestart: z.object({ at: z.date(), reason: z.string() }).nullable(),
  activity: z.array(activityEntry),
});

export const healthStatsOutput = z.object({ agentId: z.string(), running: z.boolean(), sample: resourceSample.nullable() });

export const restartPolicyInput = agentRef.extend({ policy: z.enum(RESTART_POLICIES) });
export const restartPolicyOutput = z.object({ agentId: z.string(), policy: z.enum(RESTART_POLICIES) });
