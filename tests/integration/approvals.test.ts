// Approvals without a container: what an earlier Armory process left pending is cancelled at
// start (recover), lists and reads are bounded and scoped, bad input is a clear 400, and a
// trust grant's exec flag is what lets a machine token decide. The live path (the real CLI
// asking, deciding, timeouts) is tests/docker/approvals.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovalStreamEvent } from "@/contracts/approvals";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { insertAgentRow, makeToken, tokenCaller } from "../support/trust";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;

describe("approvals (pglite)", () => {
  let armory: TestArmory;
  let owner: TestUser;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  let sessionId: string;
  let runId: string;

  /** A pending approval as a turn of an earlier Armory process would have left it. */
  async function leftPending(command: string, createdAt = new Date()) {
    return armory.services.db.prisma.approval.create({
      data: {
        projectId,
        agentId,
        sessionId,
        runId,
        requestId: crypto.randomUUID(),
        toolName: "Bash",
        input: { command },
        summary: command,
        suggestedRule: "Bash(ls:*)",
        createdAt,
        expiresAt: new Date(createdAt.getTime() + 600_000),
      },
    });
  }

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    owner = await signUp(armory.services, { name: "Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Approvals" })).id;
    agentId = (await insertAgentRow(armory.services, projectId, "asker")).id;
    const { store } = armory.services.chat;
    const session = await store.createSession({ projectId, agentId, title: "Listing", userId: owner.id });
    sessionId = session.id;
    runId = (await store.createRun({ sessionId, agentId, projectId, userId: owner.id, message: "run `ls /`", mode: "warm" })).id;
  });
  afterAll(async () => {
    await armory?.close();
  });

  it("lists newest first with the agent and the session, filters by agent and status, bounded", async () => {
    const a = await leftPending("ls /", new Date(Date.now() - 2000));
    const b = await leftPending("ls /tmp", new Date(Date.now() - 1000));
    const list = await caller.approval.list({ projectId, status: "pending" });
    expect(list.map((x) => x.id)).toEqual([b.id, a.id]);
    expect(list[0]).toMatchObject({ agentName: "asker", sessionTitle: "Listing", toolName: "Bash", summary: "ls /tmp", status: "pending", canDecide: true, decidedBy: null });
    expect(await caller.approval.list({ projectId, agentId, limit: 1 })).toHaveLength(1);
    expect(await caller.approval.list({ projectId, status: "denied" })).toEqual([]);
    await expectTrpcError(caller.approval.list({ projectId, limit: 500 }), "BAD_REQUEST", /at most 200/);
    await expectTrpcError(caller.approval.list({ projectId, status: "maybe" as never }), "BAD_REQUEST");
    // Another project's agent is not found here.
    const otherProject = (await caller.project.create({ name: "Other" })).id;
    const otherAgent = (await insertAgentRow(armory.services, otherProject, "elsewhere")).id;
    await expectTrpcError(caller.approval.list({ projectId, agentId: otherAgent }), "NOT_FOUND");
    await expectTrpcError(caller.approval.get({ projectId: otherProject, approvalId: a.id }), "NOT_FOUND");
  });

  it("refuses bad decisions with a clear 4xx", async () => {
    const p = await leftPending("ls /var");
    await expectTrpcError(caller.approval.decide({ projectId, approvalId: "nope", decision: "allow" }), "BAD_REQUEST", /approvalId must be an approval id/);
    await expectTrpcError(caller.approval.decide({ projectId, approvalId: p.id, decision: "maybe" as never }), "BAD_REQUEST");
    await expectTrpcError(caller.approval.decide({ projectId, approvalId: p.id, decision: "deny", remember: "session" }), "BAD_REQUEST", /only an allow/);
    await expectTrpcError(caller.approval.decide({ projectId, approvalId: crypto.randomUUID(), decision: "deny" }), "NOT_FOUND");
  });

  it("remember for the agent adds the rule to the agent's own policy (copied from its template's)", async () => {
    const p = await leftPending("ls /etc");
    const decided = await caller.approval.decide({ projectId, approvalId: p.id, decision: "allow", remember: "agent" });
    expect(decided).toMatchObject({ status: "allowed", remember: "agent", decidedBy: { kind: "user", id: owner.id } });
    const agent = await caller.agent.get({ projectId, agentId });
    expect(agent.toolPolicy!.allow).toContain("Bash(ls:*)");
    expect(agent.effectiveToolPolicy.allow).toContain("Bash(ls:*)");
    // The template's deny rules are kept in the copy.
    const template = await armory.services.db.prisma.template.findFirstOrThrow({ where: { id: (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).templateId } });
    expect(agent.toolPolicy!.deny).toEqual((template.toolPolicy as { deny: string[] }).deny);
    // null: back to the template's policy.
    const reset = await caller.agent.update({ projectId, agentId, toolPolicy: null });
    expect(reset.toolPolicy).toBeNull();
    expect(reset.effectiveToolPolicy).toEqual(template.toolPolicy);
  });

  it("a viewer reads but cannot decide; a token decides only with a grant's exec flag", async () => {
    const viewer = await signUp(armory.services, { name: "Viewer" });
    await caller.project.members.add({ projectId, email: viewer.email, role: "viewer" });
    const viewerCaller = await callerFor(armory.services, viewer);
    const p = await leftPending("ls /home");
    expect((await viewerCaller.approval.get({ projectId, approvalId: p.id })).canDecide).toBe(false);
    await expectTrpcError(viewerCaller.approval.decide({ projectId, approvalId: p.id, decision: "allow" }), "FORBIDDEN", /exec permission/);
    const { token, summary } = await makeToken(armory.services, viewer.id, { name: "bot" });
    const bot = await tokenCaller(armory.services, token);
    await expectTrpcError(bot.approval.decide({ projectId, approvalId: p.id, decision: "allow" }), "FORBIDDEN");
    const grant = await caller.trust.create({ projectId, callerType: "token", callerId: summary.id, targetType: "agent", target: agentId, permissions: { exec: true } });
    expect(grant.permissions).toMatchObject({ exec: true, chat: false });
    expect(await bot.trust.check({ projectId, agentId, permission: "exec" })).toMatchObject({ allowed: true });
    const decided = await bot.approval.decide({ projectId, approvalId: p.id, decision: "deny", message: "Not from a bot." });
    expect(decided).toMatchObject({ status: "denied", message: "Not from a bot.", decidedBy: { kind: "token", id: summary.id, name: "token bot" } });
    // Refusals and the decision are audited.
    const refused = await armory.services.db.prisma.auditEvent.findFirst({ where: { action: "approval.decide", allowed: false, userId: viewer.id } });
    expect(refused).not.toBeNull();
    const audit = await armory.services.db.prisma.auditEvent.findMany({ where: { requestId: `approval-${p.id}` } });
    expect(audit.map((x) => x.action)).toEqual(["approval.denied"]);
    // Without the flag again, the token cannot.
    await caller.trust.update({ projectId, grantId: grant.id, permissions: { exec: false } });
    expect(await bot.trust.check({ projectId, agentId, permission: "exec" })).toMatchObject({ allowed: false });
  });

  it("at start, approvals an earlier process left pending are cancelled, announced and no longer decidable", async () => {
    const p = await leftPending("ls /root");
    const feed = ((await caller.approval.onRequest({ projectId })) as AsyncIterable<ApprovalStreamEvent>)[Symbol.asyncIterator]();
    const snapshot = (await feed.next()).value as ApprovalStreamEvent;
    expect(snapshot.kind).toBe("snapshot");
    expect((snapshot as Extract<ApprovalStreamEvent, { kind: "snapshot" }>).pending.map((x) => x.id)).toContain(p.id);
    const cancelled = await armory.services.approvals.recover();
    expect(cancelled).toBeGreaterThanOrEqual(1);
    const change = (await feed.next()).value as ApprovalStreamEvent;
    expect(change).toMatchObject({ kind: "decided", approval: { status: "cancelled", decidedBy: { kind: "system" } } });
    await feed.return?.();
    expect(await caller.approval.list({ projectId, status: "pending" })).toEqual([]);
    await expectTrpcError(caller.approval.decide({ projectId, approvalId: p.id, decision: "allow" }), "CONFLICT");
  });
});
