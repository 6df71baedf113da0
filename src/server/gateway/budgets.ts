// Usage records and budgets, kept by the model gateway. Every request an agent makes through the
// gateway is added to its UsageDay row (project, agent, UTC day, model) with its cost at list
// price (./pricing.ts). Before a request is forwarded, the agent's and its project's usage this
// UTC calendar month is compared with their monthly budgets (cost in USD, tokens = input of every
// kind + output); a budget reached refuses the request (the gateway answers 402 billing_error,
// which the Claude Code CLI does not retry), remembers the refusal for the chat service (the
// turn then ends with "budget reached"), and publishes `budget.reached` once per budget, limit
// and month.
import { AgentEventBus, type ProjectEventBus } from "../events/agent-event-bus";
import type { PrismaClient } from "../db";
import type { Logger } from "../logger";
import { costOf, type TokenUsage } from "./pricing";
import { formatTokenCount, formatUsd } from "../../lib/format";

/** "2026-12": the UTC calendar month of `at`. */
export function monthKey(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** The UTC calendar day of `at`, as midnight UTC (what a DATE column holds). */
export function utcDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/** The UTC calendar month of `at`: its first day and the first day of the next month (exclusive). */
export function monthRange(at: Date): { start: Date; end: Date } {
  return { start: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)), end: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)) };
}


export interface BudgetRefusal {
  agentId: string;
  projectId: string;
  scope: "agent" | "project";
  limit: "cost" | "tokens";
  used: number;
  max: number;
  message: string;
  at: Date;
}

export interface MonthUsage {
  costUsd: number;
  tokens: number;
}

/** A project's usage or budgets changed (the usage page refetches). */
export interface UsageChange {
  projectId: string;
  agentId: string;
  kind: "usage" | "budget";
  at: Date;
}

interface AgentInfo {
  projectId: string;
  name: string;
  until: number;
}

/** How long an agent's project and name are reused (renames reach usage rows within this). */
const AGENT_TTL_MS = 5_000;

export class BudgetKeeper {
  private agents = new Map<string, AgentInfo>();
  private refusals = new Map<string, BudgetRefusal>();
  /** Every recorded request and budget change, per project (usage.onChange). */
  readonly changes = new AgentEventBus<UsageChange>();

  constructor(private readonly opts: { prisma: PrismaClient; log: Logger; events?: ProjectEventBus }) {}

  private async agent(agentId: string): Promise<AgentInfo | null> {
    const cached = this.agents.get(agentId);
    if (cached && cached.until > Date.now()) return cached;
    const row = await this.opts.prisma.agent.findUnique({ where: { id: agentId }, select: { projectId: true, name: true } });
    if (!row) return null;
    if (this.agents.size > 10_000) this.agents.clear();
    const info = { ...row, until: Date.now() + AGENT_TTL_MS };
    this.agents.set(agentId, info);
    return info;
  }

  /** Usage this UTC month of one agent or of a whole project (deleted agents' usage included). */
  async monthUsage(where: { agentId: string } | { projectId: string }, at = new Date()): Promise<MonthUsage> {
    const { start, end } = monthRange(at);
    const sum = await this.opts.prisma.usageDay.aggregate({
      where: { ...where, day: { gte: start, lt: end } },
      _sum: { costUsd: true, inputTokens: true, outputTokens: true, cacheReadTokens: true, cacheCreationTokens: true },
    });
    const s = sum._sum;
    const tokens = [s.inputTokens, s.outputTokens, s.cacheReadTokens, s.cacheCreationTokens].reduce<number>((a, b) => a + Number(b ?? 0n), 0);
    return { costUsd: s.costUsd ?? 0, tokens };
  }

  /**
   * Null when the agent may make a model request now; otherwise the budget it reached (the agent's
   * own first, then its project's), remembered for budgetRefusal().
   */
  async check(agentId: string, now = new Date()): Promise<BudgetRefusal | null> {
    const info = await this.agent(agentId);
    if (!info) return null;
    const budgets = await this.opts.prisma.budget.findMany({ where: { id: { in: [agentId, info.projectId] } } });
    const ordered = [budgets.find((b) => b.id === agentId), budgets.find((b) => b.id === info.projectId && b.agentId === null)];
    for (const budget of ordered) {
      if (!budget || (budget.monthlyCostUsd === null && budget.monthlyTokens === null)) continue;
      const scope = budget.agentId ? ("agent" as const) : ("project" as const);
      const used = await this.monthUsage(scope === "agent" ? { agentId } : { projectId: info.projectId }, now);
      let refusal: BudgetRefusal | null = null;
      if (budget.monthlyCostUsd !== null && used.costUsd >= budget.monthlyCostUsd) {
        const whose = scope === "agent" ? `agent ${info.name} used ${formatUsd(used.costUsd)} of its ${formatUsd(budget.monthlyCostUsd)} monthly budget` : `agent ${info.name}'s project used ${formatUsd(used.costUsd)} of its ${formatUsd(budget.monthlyCostUsd)} monthly budget`;
        refusal = { agentId, projectId: info.projectId, scope, limit: "cost", used: used.costUsd, max: budget.monthlyCostUsd, message: `Armory budget reached: ${whose}.`, at: now };
      } else if (budget.monthlyTokens !== null && used.tokens >= Number(budget.monthlyTokens)) {
        const max = Number(budget.monthlyTokens);
        const whose = scope === "agent" ? `agent ${info.name} used ${formatTokenCount(used.tokens)} of its ${formatTokenCount(max)} monthly tokens` : `agent ${info.name}'s project used ${formatTokenCount(used.tokens)} of its ${formatTokenCount(max)} monthly tokens`;
        refusal = { agentId, projectId: info.projectId, scope, limit: "tokens", used: used.tokens, max, message: `Armory budget reached: ${whose}.`, at: now };
      }
      if (!refusal) continue;
      this.refusals.set(agentId, refusal);
      await this.announce(budget.id, refusal, info.name);
      return refusal;
    }
    return null;
  }

  /** Publishes budget.reached unless this budget's limit was already announced this month. */
  private async announce(budgetId: string, r: BudgetRefusal, agentName: string): Promise<void> {
    const month = monthKey(r.at);
    const field = r.limit === "cost" ? "costReachedMonth" : "tokensReachedMonth";
    // One row update decides it, so concurrent refusals (or several Armory processes) announce once.
    const { count } = await this.opts.prisma.budget.updateMany({
      where: { id: budgetId, OR: [{ [field]: null }, { [field]: { not: month } }] },
      data: { [field]: month },
    });
    if (count === 0) return;
    this.opts.log.info({ agentId: r.agentId, projectId: r.projectId, scope: r.scope, limit: r.limit, used: r.used, max: r.max }, "budget reached");
    this.opts.events?.publish({
      type: "budget.reached",
      projectId: r.projectId,
      agentId: r.agentId,
      agentName,
      at: r.at,
      path: `/projects/${r.projectId}/usage`,
      scope: r.scope,
      limit: r.limit,
      used: r.used,
      max: r.max,
      sessionId: null,
    });
  }

  /** The agent's last budget refusal at or after `since` (the chat service asks when a turn fails). */
  budgetRefusal(agentId: string, since: Date): BudgetRefusal | null {
    const r = this.refusals.get(agentId);
    return r && r.at.getTime() >= since.getTime() ? r : null;
  }

  /** Adds one request's usage to the agent's row for today and this model. */
  async record(agentId: string, model: string, usage: TokenUsage, now = new Date()): Promise<void> {
    const info = await this.agent(agentId);
    if (!info) return;
    const costUsd = costOf(model, usage);
    const day = utcDay(now);
    const add = {
      requests: 1,
      inputTokens: BigInt(usage.inputTokens),
      outputTokens: BigInt(usage.outputTokens),
      cacheReadTokens: BigInt(usage.cacheReadTokens),
      cacheCreationTokens: BigInt(usage.cacheCreationTokens),
      costUsd,
    };
    await this.opts.prisma.usageDay.upsert({
      where: { projectId_agentId_day_model: { projectId: info.projectId, agentId, day, model } },
      create: { projectId: info.projectId, agentId, agentName: info.name, day, model, ...add },
      update: {
        agentName: info.name,
        requests: { increment: 1 },
        inputTokens: { increment: add.inputTokens },
        outputTokens: { increment: add.outputTokens },
        cacheReadTokens: { increment: add.cacheReadTokens },
        cacheCreationTokens: { increment: add.cacheCreationTokens },
        costUsd: { increment: costUsd },
      },
    });
    this.changes.publish({ projectId: info.projectId, agentId, kind: "usage", at: now });
  }

  /** A budget was set: its limits apply from the next request and may be announced again this month. */
  budgetChanged(projectId: string, agentId: string | null): void {
    if (agentId) {
      this.agents.delete(agentId);
      this.refusals.delete(agentId);
    } else {
      for (const [id, r] of this.refusals) if (r.projectId === projectId) this.refusals.delete(id);
    }
    this.changes.publish({ projectId, agentId: agentId ?? "", kind: "budget", at: new Date() });
  }
}
