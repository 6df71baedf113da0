// Model usage and budgets of a project, for the usage page and the budget.* / usage.* procedures.
// The model gateway writes the usage (UsageDay rows, one per agent, UTC day and model) and
// enforces the budgets (src/server/gateway/budgets.ts); this reads them and sets the budgets.
import type { PrismaClient } from "../db";
import { DomainError, notFound } from "../domain/errors";
import type { BudgetKeeper, UsageChange } from "../gateway/budgets";
import { monthKey, monthRange, utcDay } from "../gateway/budgets";
import { priceOf } from "../gateway/pricing";

export interface BudgetLimits {
  monthlyCostUsd: number | null;
  monthlyTokens: number | null;
}

export interface BudgetView extends BudgetLimits {
  projectId: string;
  agentId: string | null;
  /** The UTC month the usage is of ("2026-12"). */
  month: string;
  used: { costUsd: number; tokens: number };
}

export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** All of the above tokens (what a token budget counts). */
  tokens: number;
  costUsd: number;
}

export interface UsageSummary {
  /** The range, as UTC days (inclusive). */
  from: string;
  to: string;
  totals: UsageTotals;
  days: (UsageTotals & { day: string })[];
  agents: (UsageTotals & {
    agentId: string;
    agentName: string;
    /** The agent was deleted; its usage stays in the project's. */
    deleted: boolean;
    /** Some of its usage is of a model without a known price (counted as $0). */
    priceUnknown: boolean;
    budget: BudgetLimits;
    month: { costUsd: number; tokens: number };
  })[];
  models: (UsageTotals & { model: string; priceKnown: boolean })[];
  /** This UTC month against the project's budget. */
  month: { month: string; costUsd: number; tokens: number; budget: BudgetLimits };
}

/** Longest range usage.summary answers for. */
export const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;

const zero = (): UsageTotals => ({ requests: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, tokens: 0, costUsd: 0 });

function add(into: UsageTotals, row: { requests: number; inputTokens: bigint; outputTokens: bigint; cacheReadTokens: bigint; cacheCreationTokens: bigint; costUsd: number }): void {
  const [i, o, r, c] = [Number(row.inputTokens), Number(row.outputTokens), Number(row.cacheReadTokens), Number(row.cacheCreationTokens)];
  into.requests += row.requests;
  into.inputTokens += i;
  into.outputTokens += o;
  into.cacheReadTokens += r;
  into.cacheCreationTokens += c;
  into.tokens += i + o + r + c;
  into.costUsd += row.costUsd;
}

const dayString = (d: Date) => d.toISOString().slice(0, 10);

function limitsOf(row: { monthlyCostUsd: number | null; monthlyTokens: bigint | null } | undefined | null): BudgetLimits {
  return { monthlyCostUsd: row?.monthlyCostUsd ?? null, monthlyTokens: row?.monthlyTokens == null ? null : Number(row.monthlyTokens) };
}

export class UsageService {
  constructor(private readonly opts: { prisma: PrismaClient; budgets: BudgetKeeper }) {}

  private async agentOf(projectId: string, agentId: string): Promise<{ id: string; name: string }> {
    const agent = await this.opts.prisma.agent.findFirst({ where: { id: agentId, projectId }, select: { id: true, name: true } });
    if (!agent) throw notFound("Agent");
    return agent;
  }

  /** Usage recorded or budgets set in the project, until `signal` aborts. */
  changes(projectId: string, signal?: AbortSignal): AsyncGenerator<UsageChange> {
    return this.opts.budgets.changes.subscribe({ projectId }, signal);
  }

  /** The project's budget, or one agent's, with this month's usage against it. */
  async getBudget(projectId: string, agentId?: string, now = new Date()): Promise<BudgetView> {
    if (agentId) await this.agentOf(projectId, agentId);
    const row = await this.opts.prisma.budget.findUnique({ where: { id: agentId ?? projectId } });
    const used = await this.opts.budgets.monthUsage(agentId ? { agentId } : { projectId }, now);
    return { projectId, agentId: agentId ?? null, ...limitsOf(row), month: monthKey(now), used };
  }

  /** Sets (or, with both limits null, removes) a budget. A changed budget may be announced as reached again this month. */
  async setBudget(projectId: string, agentId: string | undefined, limits: BudgetLimits, userId: string): Promise<BudgetView> {
    if (agentId) await this.agentOf(projectId, agentId);
    const id = agentId ?? projectId;
    if (limits.monthlyCostUsd === null && limits.monthlyTokens === null) {
      await this.opts.prisma.budget.deleteMany({ where: { id } });
    } else {
      const data = {
        monthlyCostUsd: limits.monthlyCostUsd,
        monthlyTokens: limits.monthlyTokens === null ? null : BigInt(limits.monthlyTokens),
        costReachedMonth: null,
        tokensReachedMonth: null,
        updatedById: userId,
      };
      await this.opts.prisma.budget.upsert({ where: { id }, create: { id, projectId, agentId: agentId ?? null, ...data }, update: data });
    }
    this.opts.budgets.budgetChanged(projectId, agentId ?? null);
    return this.getBudget(projectId, agentId);
  }

  /** Usage by day, agent and model over [from, to] (UTC days; default: this month so far), and this month against the budgets. */
  async summary(projectId: string, range: { from?: Date; to?: Date } = {}, now = new Date()): Promise<UsageSummary> {
    const { start: monthStart } = monthRange(now);
    const from = utcDay(range.from ?? monthStart);
    const to = utcDay(range.to ?? now);
    if (to < from) throw new DomainError("BAD_REQUEST", "from: the range must start on or before its end (to).");
    const span = Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1;
    if (span > MAX_RANGE_DAYS) throw new DomainError("BAD_REQUEST", `from: the range may cover at most ${MAX_RANGE_DAYS} days (this one covers ${span}).`);

    const { prisma } = this.opts;
    const [rows, agents, budgets, monthRows] = await Promise.all([
      prisma.usageDay.findMany({ where: { projectId, day: { gte: from, lte: to } } }),
      prisma.agent.findMany({ where: { projectId }, select: { id: true, name: true }, orderBy: { name: "asc" } }),
      prisma.budget.findMany({ where: { projectId } }),
      prisma.usageDay.groupBy({
        by: ["agentId"],
        where: { projectId, day: { gte: monthStart, lt: monthRange(now).end } },
        _sum: { costUsd: true, inputTokens: true, outputTokens: true, cacheReadTokens: true, cacheCreationTokens: true },
      }),
    ]);

    const totals = zero();
    const days = new Map<string, UsageTotals & { day: string }>();
    for (let t = from.getTime(); t <= to.getTime(); t += DAY_MS) {
      const day = dayString(new Date(t));
      days.set(day, { day, ...zero() });
    }
    const byAgent = new Map<string, UsageTotals & { agentName: string; priceUnknown: boolean }>();
    const byModel = new Map<string, UsageTotals>();
    for (const row of rows) {
      add(totals, row);
      add(days.get(dayString(row.day))!, row);
      let a = byAgent.get(row.agentId);
      if (!a) byAgent.set(row.agentId, (a = { ...zero(), agentName: row.agentName, priceUnknown: false }));
      add(a, row);
      if (!priceOf(row.model)) a.priceUnknown = true;
      let m = byModel.get(row.model);
      if (!m) byModel.set(row.model, (m = zero()));
      add(m, row);
    }

    const monthByAgent = new Map(
      monthRows.map((g) => {
        const s = g._sum;
        const tokens = [s.inputTokens, s.outputTokens, s.cacheReadTokens, s.cacheCreationTokens].reduce<number>((x, y) => x + Number(y ?? 0n), 0);
        return [g.agentId, { costUsd: s.costUsd ?? 0, tokens }];
      }),
    );
    const budgetOf = new Map(budgets.map((b) => [b.id, b]));
    const live = new Set(agents.map((a) => a.id));
    const agentRows: UsageSummary["agents"] = [
      ...agents.map((a) => ({ agentId: a.id, agentName: a.name, deleted: false })),
      ...[...byAgent.entries()].filter(([id]) => !live.has(id)).map(([id, a]) => ({ agentId: id, agentName: a.agentName, deleted: true })),
    ].map((a) => {
      const u = byAgent.get(a.agentId);
      const { agentName: _name, priceUnknown, ...usage } = u ?? { ...zero(), agentName: a.agentName, priceUnknown: false };
      void _name;
      return { ...a, ...usage, priceUnknown, budget: limitsOf(budgetOf.get(a.agentId)), month: monthByAgent.get(a.agentId) ?? { costUsd: 0, tokens: 0 } };
    });
    agentRows.sort((x, y) => y.costUsd - x.costUsd || y.tokens - x.tokens || x.agentName.localeCompare(y.agentName));

    const month = [...monthByAgent.values()].reduce((s, m) => ({ costUsd: s.costUsd + m.costUsd, tokens: s.tokens + m.tokens }), { costUsd: 0, tokens: 0 });
    return {
      from: dayString(from),
      to: dayString(to),
      totals,
      days: [...days.values()],
      agents: agentRows,
      models: [...byModel.entries()].map(([model, m]) => ({ model, priceKnown: priceOf(model) !== null, ...m })).sort((x, y) => y.tokens - x.tokens),
      month: { month: monthKey(now), ...month, budget: limitsOf(budgetOf.get(projectId)) },
    };
  }
}
