import { approvalStreamEvent, type ApprovalStreamEvent, type ApprovalView } from "../../../../contracts/approvals";
import type { ApprovalChange, ApprovalRow, Decider } from "../../../approvals/service";
import { listenerStream } from "../../../streams/listener-stream";
import { DomainError, notFound } from "../../../domain/errors";
import { defaultRuleFor } from "../../../approvals/rules";
import { agentAllows, authorizeAgent } from "../../middleware/agent-access";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import { approvalDecideInput, approvalGetInput, approvalListInput, approvalListOutput, approvalOnRequestInput, approvalOutput } from "./schemas";
import { streamOf } from "../../stream-output";

type Ctx = Parameters<typeof agentAllows>[0];

function toView(row: ApprovalRow, canDecide: boolean): ApprovalView {
  const decidedBy: ApprovalView["decidedBy"] = row.decidedByKind
    ? { kind: row.decidedByKind as Decider["kind"], id: row.decidedById, name: row.decidedByName ?? row.decidedByKind }
    : null;
  return {
    id: row.id,
    projectId: row.projectId,
    agentId: row.agentId,
    agentName: row.agent.name,
    sessionId: row.sessionId,
    sessionTitle: row.session.title,
    runId: row.runId,
    toolName: row.toolName,
    toolUseId: row.toolUseId,
    input: row.input,
    summary: row.summary,
    diff: row.diff,
    // Always set when Armory records an approval; a row without one gets the same default.
    suggestedRule: row.suggestedRule ?? defaultRuleFor(row.toolName, row.input),
    status: row.status,
    decidedBy,
    message: row.message,
    remember: row.remember === "session" || row.remember === "agent" ? row.remember : null,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    decidedAt: row.decidedAt,
    // Only a pending approval can be decided.
    canDecide: row.status === "pending" && canDecide,
  };
}

/** Views with canDecide (permission exec on each approval's agent, by role or trust grant), one decision per agent. */
async function views(ctx: Ctx, rows: ApprovalRow[]): Promise<ApprovalView[]> {
  const byAgent = new Map<string, Promise<boolean>>();
  const may = (r: ApprovalRow) => {
    let p = byAgent.get(r.agentId);
    if (!p) byAgent.set(r.agentId, (p = agentAllows(ctx, { id: r.agentId, name: r.agent.name, projectId: r.projectId }, "exec")));
    return p;
  };
  return Promise.all(rows.map(async (r) => toView(r, r.status === "pending" && (await may(r)))));
}

// Reading approvals needs a project role (viewers included: they see what waits); deciding one
// needs permission exec on its agent, by role or trust grant (a machine token may be granted it).
export const approvalRouter = router({
  /** Newest first (at most 200), optionally of one agent and/or one status. */
  list: projectProcedure("viewer")
    .input(approvalListInput)
    .output(approvalListOutput)
    .query(async ({ ctx, input }) => {
      if (input.agentId) {
        const agent = await ctx.services.db.prisma.agent.findFirst({ where: { id: input.agentId, projectId: input.projectId }, select: { id: true } });
        if (!agent) throw notFound("Agent");
      }
      return views(ctx, await ctx.services.approvals.list(input.projectId, input));
    }),

  get: projectProcedure("viewer")
    .input(approvalGetInput)
    .output(approvalOutput)
    .query(async ({ ctx, input }) => {
      const [view] = await views(ctx, [await ctx.services.approvals.get(input.projectId, input.approvalId)]);
      return view!;
    }),

  /** Allow or deny a pending approval: the waiting turn resumes at once. 409 when it was already decided. */
  decide: projectProcedure("viewer")
    .input(approvalDecideInput)
    .output(approvalOutput)
    .mutation(async ({ ctx, input }) => {
      const row = await ctx.services.approvals.get(input.projectId, input.approvalId);
      await authorizeAgent(ctx, { id: row.agentId, name: row.agent.name, projectId: row.projectId }, "exec");
      if (row.status !== "pending") throw new DomainError("CONFLICT", `This approval is already ${row.status}.`);
      const decider: Decider = ctx.token
        ? { kind: "token", id: ctx.token.id, name: `token ${ctx.token.name}` }
        : { kind: "user", id: ctx.user.id, name: ctx.user.name || ctx.user.email };
      const decided = await ctx.services.approvals.decide(input.projectId, input.approvalId, input, decider, row);
      return toView(decided, false);
    }),

  /** What waits for a decision (a snapshot first), then every new request and every decision. */
  onRequest: projectProcedure("viewer")
    .input(approvalOnRequestInput)
    .output(streamOf(approvalStreamEvent))
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<ApprovalStreamEvent> {
      const { approvals, db } = ctx.services;
      if (input.agentId) {
        const agent = await db.prisma.agent.findFirst({ where: { id: input.agentId, projectId: input.projectId }, select: { id: true } });
        if (!agent) throw notFound("Agent");
      }
      // Listening before the snapshot is read, so nothing requested meanwhile is missed.
      const match = (c: ApprovalChange) => c.projectId === input.projectId && (!input.agentId || c.agentId === input.agentId);
      const early: ApprovalChange[] = [];
      const offEarly = approvals.changes.on((c) => match(c) && early.push(c));
      try {
        const pending = await approvals.list(input.projectId, { agentId: input.agentId, status: "pending" });
        const seen = new Set(pending.map((p) => p.id));
        yield { kind: "snapshot", pending: await views(ctx, pending) };
        const changes = listenerStream<ApprovalChange>((sink) => {
          offEarly();
          for (const c of early) sink.push(c);
          return approvals.changes.on((c) => match(c) && sink.push(c));
        }, signal);
        for await (const c of changes) {
          if (c.kind === "requested" && seen.has(c.approval.id)) continue;
          const [view] = await views(ctx, [c.approval]);
          yield { kind: c.kind, approval: view! };
        }
      } finally {
        offEarly();
      }
    }),
});
