// Tool approvals: a chat turn's Claude Code asked before a tool call (a can_use_tool control
// request). A remembered rule (the conversation's, or the agent's policy `allow`) answers at once;
// otherwise a pending Approval is stored, announced (chat event approval_requested, project event
// approval.needed, approval.onRequest) and the turn waits: decide() answers the CLI at once, the
// agent's approval timeout denies it with a message the model reads, and a turn that ends
// (interrupted, process gone, Armory restarting) cancels what it still waits for. Every request
// and every decision is written to the audit log.
import type { ApprovalDecidedEventData, ApprovalRequestedEventData, ApprovalStatus } from "../../contracts/approvals";
import { APPROVAL_TIMEOUT_DEFAULT_SEC } from "../../contracts/approvals";
import type { PrismaClient } from "../db";
import type { Approval, Prisma } from "../db/generated/client";
import { DomainError, notFound } from "../domain/errors";
import { AgentEventBus, type ProjectEventBus } from "../events/agent-event-bus";
import type { Logger } from "../logger";
import { writeAuditEvent } from "../trust/audit";
import type { CanUseToolRequest, PermissionAnswer } from "./control";
import { renderDiff } from "./diff";
import { effectivePolicy } from "./policy";
import { defaultRuleFor, firstMatch, summarize } from "./rules";
import type { Cluster } from "../cluster";

export type ApprovalRow = Approval & { agent: { name: string }; session: { title: string } };
const rowInclude = { agent: { select: { name: true } }, session: { select: { title: true } } } as const;

export interface Decider {
  kind: "user" | "token" | "rule" | "timeout" | "system";
  id: string | null;
  name: string;
}

/** What the stream (approval.onRequest) and its subscribers see. */
export interface ApprovalChange {
  projectId: string;
  agentId: string;
  kind: "requested" | "decided";
  approval: ApprovalRow;
}

/** The turn a request belongs to, and how to talk back to it. */
export interface ApprovalTurn {
  projectId: string;
  agentId: string;
  agentName: string;
  sessionId: string;
  runId: string;
  /** The agent's approvalTimeoutSec (null: the default). */
  timeoutSec: number | null;
  /** Writes the answer to the CLI (one control_response line). */
  respond: (requestId: string, answer: PermissionAnswer) => void;
  /** Appends an event to the conversation (approval_requested / approval_decided). */
  emit: (type: "approval_requested" | "approval_decided", data: unknown) => void;
  /** Told when the turn starts and stops waiting for a person (the turn timeout pauses meanwhile). */
  onWaiting?: (waiting: boolean) => void;
}

interface Waiter {
  approvalId: string;
  turn: ApprovalTurn;
  request: CanUseToolRequest;
  timer: NodeJS.Timeout;
  /** Ends handleRequest's wait (the CLI was answered, or the request was cancelled). */
  done: () => void;
}

export interface ApprovalServiceOptions {
  prisma: PrismaClient;
  log: Logger;
  /** Where approval.needed is published (notifications subscribe there). */
  events?: ProjectEventBus;
  /** Reads a file of the agent's container as text (null: it does not exist), for Write/Edit diffs. */
  readFile?: (projectId: string, agentId: string, path: string) => Promise<string | null>;
}

/** Lists return at most this many approvals. */
export const APPROVAL_LIST_MAX = 200;

function minutes(sec: number): string {
  if (sec < 60) return `${sec} seconds`;
  const m = Math.round(sec / 6) / 10;
  return `${m} minute${m === 1 ? "" : "s"}`;
}

/** The columns every approval row takes from the CLI's request and the turn that got it. */
function requestRow(turn: ApprovalTurn, request: CanUseToolRequest, summary: string) {
  return {
    projectId: turn.projectId,
    agentId: turn.agentId,
    sessionId: turn.sessionId,
    runId: turn.runId,
    requestId: request.requestId,
    toolName: request.toolName,
    toolUseId: request.toolUseId,
    input: request.input as Prisma.InputJsonObject,
    summary,
  };
}

export class ApprovalService {
  private readonly waiters = new Map<string, Waiter>(); // by approval id
  private readonly settling = new Set<string>();
  readonly changes = new AgentEventBus<ApprovalChange>();

  constructor(private readonly opts: ApprovalServiceOptions) {}

  private get prisma() {
    return this.opts.prisma;
  }

  /** Rules Armory allows by itself in this session: the conversation's remembered rules and the agent's effective `allow`. */
  async rememberedRules(agentId: string, sessionId: string): Promise<string[]> {
    const [session, agent] = await Promise.all([
      this.prisma.chatSession.findUnique({ where: { id: sessionId }, select: { approvalRules: true } }),
      this.prisma.agent.findUnique({ where: { id: agentId }, select: { toolPolicy: true, template: { select: { toolPolicy: true } } } }),
    ]);
    const agentRules = agent ? effectivePolicy(agent, agent.template).allow : [];
    return [...(session?.approvalRules ?? []), ...agentRules];
  }

  private async audit(row: Pick<Approval, "id" | "projectId" | "agentId">, agentName: string, action: string, allowed: boolean, reason: string, decider?: Decider): Promise<void> {
    await writeAuditEvent(this.prisma, {
      userId: decider?.kind === "user" ? decider.id : null,
      userEmail: null,
      tokenId: decider?.kind === "token" ? decider.id : null,
      tokenPrefix: null,
      action,
      type: "approval",
      permission: "exec",
      projectId: row.projectId,
      agentId: row.agentId,
      agentName,
      allowed,
      reason,
      outcome: "ok",
      requestId: `approval-${row.id}`,
      ip: null,
      userAgent: null,
    }).catch((err: unknown) => this.opts.log.error({ err, approvalId: row.id }, "could not write an approval to the audit log"));
  }

  /**
   * Handles one can_use_tool request of a turn: answers at once when a remembered rule covers it,
   * else records a pending approval and answers when it is decided, expires or is cancelled.
   * Resolves once the CLI has been answered (or the request was cancelled).
   */
  async handleRequest(turn: ApprovalTurn, request: CanUseToolRequest): Promise<void> {
    const { toolName, input } = request;
    const summary = summarize(toolName, input);
    const rules = await this.rememberedRules(turn.agentId, turn.sessionId).catch(() => [] as string[]);
    const rule = firstMatch(rules, toolName, input);
    const suggestedRule = request.suggestedRules[0] ?? defaultRuleFor(toolName, input);
    const now = new Date();
    if (rule) {
      turn.respond(request.requestId, { behavior: "allow", updatedInput: input });
      // Answered: what follows only records it (a failure is logged, never a second answer).
      await this.recordRuleAllow(turn, request, { summary, suggestedRule, rule, now }).catch((err: unknown) =>
        this.opts.log.error({ err, runId: turn.runId }, "could not record a tool call allowed by a remembered rule"),
      );
      return;
    }

    const timeoutSec = turn.timeoutSec ?? APPROVAL_TIMEOUT_DEFAULT_SEC;
    const diff = await renderDiff(toolName, input, this.opts.readFile ? (p) => this.currentText(turn.projectId, turn.agentId, p) : null);
    const expiresAt = new Date(Date.now() + timeoutSec * 1000);
    const row = await this.prisma.approval.create({
      data: {
        ...requestRow(turn, request, summary),
        diff,
        suggestedRule,
        expiresAt,
      },
      include: rowInclude,
    });
    const settled = new Promise<void>((done) => {
      const timer = setTimeout(() => {
        void this.settle(row.id, {
          status: "expired",
          decider: { kind: "timeout", id: null, name: "timeout" },
          message: `No one approved ${toolName} (${summary}) within ${minutes(timeoutSec)}, so it was denied. Do not retry it; tell the user it needs an approval.`,
        }).catch((err: unknown) => this.opts.log.error({ err, approvalId: row.id }, "could not expire an approval"));
      }, timeoutSec * 1000);
      timer.unref();
      this.waiters.set(row.id, { approvalId: row.id, turn, request, timer, done });
    });
    turn.onWaiting?.(true);
    const data: ApprovalRequestedEventData = {
      approvalId: row.id,
      toolName,
      toolUseId: request.toolUseId,
      input,
      summary,
      diff,
      suggestedRule,
      expiresAt: expiresAt.toISOString(),
    };
    turn.emit("approval_requested", data);
    this.changes.publish({ projectId: row.projectId, agentId: row.agentId, kind: "requested", approval: row });
    this.opts.events?.publish({
      type: "approval.needed",
      projectId: row.projectId,
      agentId: row.agentId,
      agentName: turn.agentName,
      at: row.createdAt,
      path: `/projects/${row.projectId}/agents/${row.agentId}?session=${row.sessionId}`,
      approvalId: row.id,
      sessionId: row.sessionId,
      toolName,
      summary,
      expiresAt,
    });
    void this.audit(row, turn.agentName, "approval.request", true, `Claude Code asked to use ${toolName} (${summary}); waiting for a decision until ${expiresAt.toISOString()}.`);
    await settled;
  }

  private async recordRuleAllow(turn: ApprovalTurn, request: CanUseToolRequest, d: { summary: string; suggestedRule: string; rule: string; now: Date }): Promise<void> {
    const { toolName } = request;
    const { summary, suggestedRule, rule, now } = d;
    const row = await this.prisma.approval.create({
      data: {
        ...requestRow(turn, request, summary),
        suggestedRule,
        status: "allowed",
        decidedByKind: "rule",
        decidedByName: rule,
        rule,
        message: `Allowed by the remembered rule ${rule}.`,
        createdAt: now,
        expiresAt: now,
        decidedAt: now,
      },
    });
    await this.audit(row, turn.agentName, "approval.rule", true, `${toolName} (${summary}) was allowed by the remembered rule ${rule}.`, { kind: "rule", id: null, name: rule });
  }

  /**
   * Moves a pending approval to its final status (once: a second attempt is a 409), answers the
   * CLI when its turn still waits, and tells everyone. `remember` adds `rule` to the session or agent.
   */
  private async settle(
    approvalId: string,
    d: { status: Exclude<ApprovalStatus, "pending">; decider: Decider; message: string | null; remember?: "session" | "agent" | null; rule?: string | null },
  ): Promise<ApprovalRow> {
    // One settlement at a time per approval in this process; the database's conditional update
    // below decides between processes.
    if (this.settling.has(approvalId)) throw new DomainError("CONFLICT", "This approval is being decided right now.");
    this.settling.add(approvalId);
    try {
      return await this.settleOnce(approvalId, d);
    } finally {
      this.settling.delete(approvalId);
    }
  }

  private async settleOnce(
    approvalId: string,
    d: { status: Exclude<ApprovalStatus, "pending">; decider: Decider; message: string | null; remember?: "session" | "agent" | null; rule?: string | null },
  ): Promise<ApprovalRow> {
    // A turn of this process waiting for it: claiming its waiter is the (synchronous) guard against a
    // second decision, so the CLI is answered before any database write: the turn resumes at once.
    const waiter = this.waiters.get(approvalId);
    if (waiter) {
      this.waiters.delete(approvalId);
      clearTimeout(waiter.timer);
      if (d.status === "allowed") {
        waiter.turn.respond(waiter.request.requestId, { behavior: "allow", updatedInput: waiter.request.input, rememberRules: d.rule ? [d.rule] : undefined });
      } else if (d.status !== "cancelled") {
        waiter.turn.respond(waiter.request.requestId, { behavior: "deny", message: d.message ?? "The user denied this tool call." });
      }
      waiter.turn.onWaiting?.(false);
      waiter.done();
    }
    const decidedAt = new Date();
    const { count } = await this.prisma.approval.updateMany({
      where: { id: approvalId, status: "pending" },
      data: {
        status: d.status,
        decidedByKind: d.decider.kind,
        decidedById: d.decider.id,
        decidedByName: d.decider.name,
        message: d.message,
        remember: d.remember ?? null,
        rule: d.rule ?? null,
        decidedAt,
      },
    });
    if (count === 0) {
      if (!waiter) throw new DomainError("CONFLICT", "This approval was already decided (or it expired or was cancelled).");
      this.opts.log.warn({ approvalId }, "an approval a turn waited for was no longer pending in the database");
    }
    const row = await this.prisma.approval.findUniqueOrThrow({ where: { id: approvalId }, include: rowInclude });
    if (d.remember && d.rule) await this.remember(row, d.remember, d.rule);
    const data: ApprovalDecidedEventData = { approvalId, status: d.status, decidedBy: d.decider, remember: d.remember ?? null, rule: d.rule ?? null, message: d.message };
    waiter?.turn.emit("approval_decided", data);
    this.changes.publish({ projectId: row.projectId, agentId: row.agentId, kind: "decided", approval: row });
    const verb = { allowed: "allowed", denied: "denied", expired: "denied (no decision in time)", cancelled: "cancelled" }[d.status];
    await this.audit(
      row,
      row.agent.name,
      `approval.${d.status}`,
      d.status === "allowed",
      `${row.toolName} (${row.summary}) was ${verb} by ${d.decider.kind} ${d.decider.name}${d.remember && d.rule ? `; ${d.rule} is now allowed for the ${d.remember}` : ""}.`,
      d.decider,
    );
    return row;
  }

  private async remember(row: ApprovalRow, where: "session" | "agent", rule: string): Promise<void> {
    if (where === "session") {
      const s = await this.prisma.chatSession.findUnique({ where: { id: row.sessionId }, select: { approvalRules: true } });
      if (s && !s.approvalRules.includes(rule)) await this.prisma.chatSession.update({ where: { id: row.sessionId }, data: { approvalRules: { push: rule } } });
      return;
    }
    const agent = await this.prisma.agent.findUnique({ where: { id: row.agentId }, select: { toolPolicy: true, template: { select: { toolPolicy: true } } } });
    if (!agent) return;
    const policy = effectivePolicy(agent, agent.template);
    if (policy.allow.includes(rule)) return;
    await this.prisma.agent.update({ where: { id: row.agentId }, data: { toolPolicy: { ...policy, allow: [...policy.allow, rule] } } });
  }

  /** A person's or a token's decision. 404 for an unknown approval (or one of another project), 409 when already decided. */
  async decide(
    projectId: string,
    approvalId: string,
    input: { decision: "allow" | "deny"; remember?: "session" | "agent"; message?: string },
    decider: Decider,
    /** The approval as the caller just read it (saves reading it again on the way to the CLI). */
    read?: ApprovalRow,
    /** Decide it on this instance (another instance routed it here). */
    here = false,
  ): Promise<ApprovalRow> {
    const row = read && read.id === approvalId && read.projectId === projectId ? read : await this.get(projectId, approvalId);
    if (row.status !== "pending") throw new DomainError("CONFLICT", `This approval is already ${row.status}.`);
    if (input.remember && input.decision !== "allow") throw new DomainError("BAD_REQUEST", "remember: only an allow can be remembered.");
    // Several instances: the turn waiting for it runs where the agent's daemon is.
    if (!here && this.cluster && !this.waiters.has(approvalId)) {
      const r = await this.cluster.route("approval.decide", row.agentId, { projectId, approvalId, input, decider }, 30_000);
      if (r.routed) return r.result as ApprovalRow;
    }
    const message = input.message?.trim() || null;
    return this.settle(approvalId, {
      status: input.decision === "allow" ? "allowed" : "denied",
      decider,
      message: input.decision === "deny" ? (message ?? `${decider.name} denied this tool call.`) : message,
      remember: input.remember ?? null,
      rule: input.remember ? (row.suggestedRule ?? defaultRuleFor(row.toolName, row.input)) : null,
    });
  }

  /** The turn that waits for these ended (interrupted, process gone): its pending approvals are cancelled. */
  async cancelRun(runId: string, reason: string): Promise<number> {
    const pending = await this.prisma.approval.findMany({ where: { runId, status: "pending" }, select: { id: true } });
    let n = 0;
    for (const p of pending) {
      try {
        await this.settle(p.id, { status: "cancelled", decider: { kind: "system", id: null, name: "Armory" }, message: reason });
        n++;
      } catch (err) {
        if (!(err instanceof DomainError && err.code === "CONFLICT")) throw err;
      }
    }
    return n;
  }

  /** The CLI withdrew a request (control_cancel_request). */
  async cancelRequest(runId: string, requestId: string): Promise<void> {
    const row = await this.prisma.approval.findFirst({ where: { runId, requestId, status: "pending" }, select: { id: true } });
    if (row) await this.settle(row.id, { status: "cancelled", decider: { kind: "system", id: null, name: "Claude Code" }, message: "Claude Code withdrew the request." }).catch(() => {});
  }

  /**
   * At start: approvals an earlier Armory process left pending have no turn waiting any more
   * (their turns were ended by the chat service's recover()): cancel them.
   */
  /** Several instances (src/server/cluster/): a decision goes to the instance whose turn waits for it. */
  useCluster(cluster: Pick<Cluster, "route" | "serve">): void {
    this.cluster = cluster;
    cluster.serve("approval.decide", (p) => {
      const a = p as { projectId: string; approvalId: string; input: Parameters<ApprovalService["decide"]>[2]; decider: Decider };
      return this.decide(a.projectId, a.approvalId, a.input, a.decider, undefined, true);
    });
  }
  private cluster: Pick<Cluster, "route" | "serve"> | null = null;

  /** `agentIds`: only these agents' approvals (their turns died with another Armory instance). */
  async recover(agentIds?: string[]): Promise<number> {
    const stale = await this.prisma.approval.findMany({
      where: { status: "pending", id: { notIn: [...this.waiters.keys()] }, ...(agentIds ? { agentId: { in: agentIds } } : {}) },
      select: { id: true },
    });
    let n = 0;
    for (const s of stale) {
      await this.settle(s.id, { status: "cancelled", decider: { kind: "system", id: null, name: "Armory" }, message: "Armory restarted while this approval was pending; its turn was stopped." })
        .then(() => n++)
        .catch(() => {});
    }
    if (n) this.opts.log.warn({ approvals: n }, "approvals left pending by a previous start were cancelled");
    return n;
  }

  async get(projectId: string, approvalId: string): Promise<ApprovalRow> {
    const row = await this.prisma.approval.findFirst({ where: { id: approvalId, projectId }, include: rowInclude });
    if (!row) throw notFound("Approval");
    return row;
  }

  /** Newest first, at most `limit` (≤ APPROVAL_LIST_MAX). */
  list(projectId: string, filter: { agentId?: string; status?: ApprovalStatus; limit?: number } = {}): Promise<ApprovalRow[]> {
    return this.prisma.approval.findMany({
      where: { projectId, agentId: filter.agentId, status: filter.status },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: Math.min(filter.limit ?? APPROVAL_LIST_MAX, APPROVAL_LIST_MAX),
      include: rowInclude,
    });
  }

  /** A file of the agent's container as text, as diffs see it (null: it does not exist or is not text). */
  async currentText(projectId: string, agentId: string, filePath: string): Promise<string | null> {
    if (!this.opts.readFile) throw new DomainError("PRECONDITION_FAILED", "This Armory cannot read agents' files.");
    return this.opts.readFile(projectId, agentId, filePath);
  }

  /** Approvals waiting for a decision in this Armory process (tests, metrics). */
  get waitingCount(): number {
    return this.waiters.size;
  }

  close(): void {
    for (const w of this.waiters.values()) clearTimeout(w.timer);
  }
}
