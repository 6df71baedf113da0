// Tool approvals against real parts: the real Claude Code CLI in the real agent container, with
// Bash in the tool policy's `ask` list, talking to the scripted demo model through Armory's
// gateway. The CLI's permission prompt (a can_use_tool control request) becomes an approval on
// approval.onRequest and in the chat; a decision answers the CLI and the turn goes on. Every
// claim about a command is checked in the container (the file it would create exists or not).
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ApprovalStreamEvent } from "@/contracts/approvals";
import type { ProjectEvent } from "@/contracts/project-events";
import { sh } from "../support/agent-exec";
import { callerFor, signUp, type TestArmory, type TestUser } from "../support/armory";
import { startChatArmory, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { expectTrpcError } from "../support/trpc-errors";
import { chatStreams, streamedText } from "../support/chat-stream";
import { makeToken, tokenCaller } from "../support/trust";

type Caller = Awaited<ReturnType<typeof callerFor>>;

/** Reads approval.onRequest events one at a time. */
function approvalFeed(iterable: AsyncIterable<unknown>) {
  const it = iterable[Symbol.asyncIterator]();
  return {
    async next(limitMs = 60_000): Promise<ApprovalStreamEvent> {
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        it.next(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("no approval event in time")), limitMs))),
      ]).finally(() => clearTimeout(timer));
      if (r.done) throw new Error("approval stream ended");
      return r.value as ApprovalStreamEvent;
    },
    close: () => it.return?.(),
  };
}

/** Set ARMORY_RECORD_APPROVAL_FIXTURE=1 to (re)write the fixture from this run's CLI output. */
const FIXTURE = path.join(__dirname, "../fixtures/claude-code-stream-json/30-permission-prompt.ndjson");

describe("tool approvals with the real Claude Code CLI", () => {
  let fixture: ChatArmory | undefined;
  let armory: TestArmory;
  let owner: TestUser;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  let containerId: string;
  let templateId: string;
  const projectEvents: ProjectEvent[] = [];
  const cliLines: string[] = [];

  const { stream, lastSeq, untilEnd } = chatStreams(() => ({ caller, projectId, agentId }));
  const exists = async (file: string) => (await sh(containerId, `test -e ${file} && echo yes || echo no`)).trim() === "yes";

  beforeAll(async () => {
    fixture = await startChatArmory({ db: suiteDb("postgres"), name: "Approvals" });
    ({ armory, owner, caller, projectId } = fixture);
    // The built-in coder allows Bash; an `ask` rule wins over that.
    const template = await caller.template.create({ projectId, copyFrom: fixture.coderTemplateId, name: "asking-coder", toolPolicy: { allow: [], ask: ["Bash"], deny: [] } });
    expect(template.toolPolicy).toEqual({ allow: [], ask: ["Bash"], deny: [] });
    templateId = template.id;
    const agent = await caller.agent.create({ projectId, templateId, name: "asker", overrides: { memoryMb: 1024 }, start: true });
    expect(agent).toMatchObject({ toolPolicy: null, effectiveToolPolicy: { ask: ["Bash"] }, approvalTimeoutSec: 600, approvalTimeoutCustom: false });
    agentId = agent.id;
    containerId = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    armory.services.projectEvents.on((e) => projectEvents.push(e));
    if (process.env.ARMORY_RECORD_APPROVAL_FIXTURE) {
      armory.services.hub.onEvent(agentId, (e) => {
        if (e.type === "proc.line") cliLines.push(e.line);
      });
    }
  }, 600_000);

  afterAll(async () => {
    if (process.env.ARMORY_RECORD_APPROVAL_FIXTURE && cliLines.length) fs.writeFileSync(FIXTURE, cliLines.join("\n") + "\n");
    await fixture?.close();
  });

  it("refuses bad rules and timeouts in template and agent input with a clear 400", async () => {
    await expectTrpcError(
      caller.template.create({ projectId, copyFrom: templateId, name: "bad-policy", toolPolicy: { allow: [], ask: ["Bash(("], deny: [] } }),
      "BAD_REQUEST",
      /toolPolicy.*permission rule is a tool name/,
    );
    await expectTrpcError(
      caller.agent.create({ projectId, templateId, name: "bad-agent", overrides: { toolPolicy: { allow: [], ask: [], deny: ["rm -rf /"] } } }),
      "BAD_REQUEST",
      /permission rule is a tool name/,
    );
    await expectTrpcError(caller.agent.update({ projectId, agentId, approvalTimeoutSec: 1 }), "BAD_REQUEST", /at least 5 seconds/);
  });

  let sessionId: string;

  it("deny: the approval appears on approval.onRequest and in the chat, the command never runs, the model reads why, the turn finishes", async () => {
    const feed = approvalFeed((await caller.approval.onRequest({ projectId })) as AsyncIterable<unknown>);
    expect(await feed.next()).toEqual({ kind: "snapshot", pending: [] });
    const sent = await caller.chat.send({ projectId, agentId, message: "run `touch /workspace/denied.txt`" });
    sessionId = sent.sessionId;
    const live = await stream(sessionId);
    const requested = await feed.next();
    expect(requested.kind).toBe("requested");
    const approval = (requested as Extract<ApprovalStreamEvent, { kind: "requested" }>).approval;
    expect(approval).toMatchObject({
      agentId,
      agentName: "asker",
      sessionId,
      runId: sent.runId,
      toolName: "Bash",
      summary: "touch /workspace/denied.txt",
      status: "pending",
      canDecide: true,
      decidedBy: null,
    });
    expect(approval.input).toMatchObject({ command: "touch /workspace/denied.txt" });
    expect(approval.suggestedRule).toMatch(/^Bash\(/);
    expect(approval.expiresAt.getTime() - approval.createdAt.getTime()).toBeGreaterThan(590_000);
    // Notifications hear about it.
    expect(projectEvents).toContainEqual(expect.objectContaining({ type: "approval.needed", approvalId: approval.id, toolName: "Bash", sessionId }));
    expect(await exists("/workspace/denied.txt")).toBe(false);

    const decided = await caller.approval.decide({ projectId, approvalId: approval.id, decision: "deny", message: "Not in this workspace, please." });
    expect(decided).toMatchObject({ status: "denied", decidedBy: { kind: "user", id: owner.id }, message: "Not in this workspace, please.", canDecide: false });
    const onStream = await feed.next();
    expect(onStream).toMatchObject({ kind: "decided", approval: { id: approval.id, status: "denied" } });
    await feed.close();

    const events = await untilEnd(live, sent.runId);
    const req = events.find((e) => e.type === "approval_requested")!;
    expect(req.data).toMatchObject({ approvalId: approval.id, toolName: "Bash", summary: "touch /workspace/denied.txt" });
    const dec = events.find((e) => e.type === "approval_decided")!;
    expect(dec.data).toMatchObject({ approvalId: approval.id, status: "denied", decidedBy: { kind: "user" } });
    expect(events.at(-1)!.type).toBe("run_completed");
    // The denial's message reached the model as the tool's result.
    expect(streamedText(events)).toContain("Not in this workspace, please.");
    expect(await exists("/workspace/denied.txt")).toBe(false);
    // Deciding again is a conflict; an unknown approval is not found.
    await expectTrpcError(caller.approval.decide({ projectId, approvalId: approval.id, decision: "allow" }), "CONFLICT");
    await expectTrpcError(caller.approval.decide({ projectId, approvalId: crypto.randomUUID(), decision: "allow" }), "NOT_FOUND");
    // Audited: the request and the decision.
    const audit = await armory.services.db.prisma.auditEvent.findMany({ where: { requestId: `approval-${approval.id}` }, orderBy: { at: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["approval.request", "approval.denied"]);
  }, 120_000);

  it("allow: the turn resumes and the command runs", async () => {
    const after = await lastSeq(sessionId);
    const live = await stream(sessionId, after);
    const sent = await caller.chat.send({ projectId, agentId, sessionId, message: "run `touch /workspace/allowed.txt`" });
    const pending = await vi.waitFor(
      async () => {
        const [a] = await caller.approval.list({ projectId, agentId, status: "pending" });
        expect(a).toBeDefined();
        return a!;
      },
      { timeout: 60_000, interval: 100 },
    );
    expect(pending).toMatchObject({ runId: sent.runId, summary: "touch /workspace/allowed.txt", canDecide: true });
    const { requestId } = await armory.services.db.prisma.approval.findUniqueOrThrow({ where: { id: pending.id } });
    // What happens, in order, while approval.decide runs: the answer's write to the agent's daemon
    // (the one line the CLI waits for) and the decision's announcement (published after the
    // approval's row is updated). How fast this is, is measured by `npm run bench` (section approvals).
    const order: string[] = [];
    const answers: string[] = [];
    const hub = armory.services.hub;
    const request = hub.request.bind(hub);
    hub.request = ((id: string, method: string, params: { data?: string }, opts?: { timeoutMs?: number }) => {
      if (method === "proc.write" && params.data?.includes(`"control_response"`)) {
        order.push("answer written to the daemon");
        answers.push(params.data);
      }
      return (request as (...a: unknown[]) => Promise<unknown>)(id, method, params, opts);
    }) as typeof hub.request;
    const offChanges = armory.services.approvals.changes.on((c) => {
      if (c.approval.id === pending.id) order.push(`${c.kind} published`);
    });
    try {
      await caller.approval.decide({ projectId, approvalId: pending.id, decision: "allow" });
      order.push("decide returned");
    } finally {
      hub.request = request;
      offChanges();
    }
    // The CLI was answered first: before the approval's row was updated and the decision announced, before decide returned.
    expect(order).toEqual(["answer written to the daemon", "decided published", "decide returned"]);
    expect(answers).toHaveLength(1);
    expect(JSON.parse(answers[0]!)).toMatchObject({
      type: "control_response",
      response: { subtype: "success", request_id: requestId, response: { behavior: "allow", updatedInput: { command: "touch /workspace/allowed.txt" } } },
    });
    const events = await untilEnd(live, sent.runId);
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(await exists("/workspace/allowed.txt")).toBe(true);
    // The tool's result followed the decision: the result of the very tool call that asked, not an error.
    expect(pending.toolUseId).toEqual(expect.any(String));
    const requestedAt = events.findIndex((e) => e.type === "approval_requested");
    expect(requestedAt).toBeGreaterThanOrEqual(0);
    const toolResults = events
      .slice(requestedAt + 1)
      .filter((e) => e.type === "user")
      .flatMap((e) => ((e.data as { message?: { content?: unknown } }).message?.content as Record<string, unknown>[] | undefined) ?? [])
      .filter((c) => c.type === "tool_result");
    expect(toolResults).toContainEqual(expect.objectContaining({ tool_use_id: pending.toolUseId, is_error: false }));
  }, 120_000);

  it("remember for the session: the next call of the same rule runs without asking", async () => {
    let after = await lastSeq(sessionId);
    let live = await stream(sessionId, after);
    let sent = await caller.chat.send({ projectId, agentId, sessionId, message: "run `touch /workspace/first.txt`" });
    const pending = await vi.waitFor(
      async () => {
        const [a] = await caller.approval.list({ projectId, agentId, status: "pending" });
        expect(a).toBeDefined();
        return a!;
      },
      { timeout: 60_000, interval: 100 },
    );
    const decided = await caller.approval.decide({ projectId, approvalId: pending.id, decision: "allow", remember: "session" });
    expect(decided.remember).toBe("session");
    let events = await untilEnd(live, sent.runId);
    const rule = (events.find((e) => e.type === "approval_decided")!.data as { rule: string }).rule;
    expect(rule).toMatch(/^Bash\(touch/);
    expect(await exists("/workspace/first.txt")).toBe(true);
    const session = await armory.services.db.prisma.chatSession.findUniqueOrThrow({ where: { id: sessionId } });
    expect(session.approvalRules).toEqual([rule]);

    after = await lastSeq(sessionId);
    live = await stream(sessionId, after);
    sent = await caller.chat.send({ projectId, agentId, sessionId, message: "run `touch /workspace/second.txt`" });
    events = await untilEnd(live, sent.runId);
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(events.some((e) => e.type === "approval_requested")).toBe(false);
    expect(await exists("/workspace/second.txt")).toBe(true);

    // A fresh process (the warm one ended) does not know the rule: it asks, and Armory answers by the rule itself.
    armory.services.chat.recycleAgent(agentId);
    after = await lastSeq(sessionId);
    live = await stream(sessionId, after);
    sent = await caller.chat.send({ projectId, agentId, sessionId, message: "run `touch /workspace/third.txt`" });
    events = await untilEnd(live, sent.runId);
    expect(events.find((e) => e.type === "run_started")!.data).toMatchObject({ reusedProcess: false });
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(events.some((e) => e.type === "approval_requested")).toBe(false);
    expect(await exists("/workspace/third.txt")).toBe(true);
    const byRule = (await caller.approval.list({ projectId, agentId })).filter((x) => x.runId === sent.runId);
    expect(byRule).toHaveLength(1);
    expect(byRule[0]).toMatchObject({ status: "allowed", decidedBy: { kind: "rule", name: rule }, summary: "touch /workspace/third.txt", canDecide: false });
    const audit = await armory.services.db.prisma.auditEvent.findMany({ where: { requestId: `approval-${byRule[0]!.id}` } });
    expect(audit.map((x) => x.action)).toEqual(["approval.rule"]);
  }, 180_000);

  it("a viewer cannot decide (403); a machine token with an exec grant on the agent can", async () => {
    const viewer = await signUp(armory.services, { name: "Viewer" });
    await caller.project.members.add({ projectId, email: viewer.email, role: "viewer" });
    const viewerCaller = await callerFor(armory.services, viewer);
    // A bot account: a viewer whose token gets exec on this one agent by a trust grant.
    const bot = await signUp(armory.services, { name: "Chat-ops bot" });
    await caller.project.members.add({ projectId, email: bot.email, role: "viewer" });
    const { token, summary: { id: tokenId } } = await makeToken(armory.services, bot.id, { name: "chat-ops" });
    const grant = await caller.trust.create({ projectId, callerType: "token", callerId: tokenId, targetType: "agent", target: agentId, permissions: { exec: true } });
    expect(grant.permissions.exec).toBe(true);
    const botCaller = await tokenCaller(armory.services, token);

    const other = await caller.chat.send({ projectId, agentId, message: "run `touch /workspace/bot.txt`" });
    const live = await stream(other.sessionId);
    const pending = await vi.waitFor(
      async () => {
        const [a] = await viewerCaller.approval.list({ projectId, agentId, status: "pending" });
        expect(a).toBeDefined();
        return a!;
      },
      { timeout: 60_000, interval: 100 },
    );
    // Viewers read approvals but may not decide them.
    expect(pending.canDecide).toBe(false);
    await expectTrpcError(viewerCaller.approval.decide({ projectId, approvalId: pending.id, decision: "allow" }), "FORBIDDEN", /exec/);
    expect((await botCaller.approval.get({ projectId, approvalId: pending.id })).canDecide).toBe(true);
    const decided = await botCaller.approval.decide({ projectId, approvalId: pending.id, decision: "allow" });
    expect(decided.decidedBy).toEqual({ kind: "token", id: tokenId, name: "token chat-ops" });
    const events = await untilEnd(live, other.runId);
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(await exists("/workspace/bot.txt")).toBe(true);
  }, 120_000);

  it("times out: no decision within the agent's approval timeout denies the call, and the model reads why; the wait does not count against the turn timeout", async () => {
    const updated = await caller.agent.update({ projectId, agentId, approvalTimeoutSec: 20 });
    expect(updated).toMatchObject({ approvalTimeoutSec: 20, approvalTimeoutCustom: true });
    // A turn timeout shorter than the wait: only the time the turn works counts. (15 s: room for
    // the CLI's own work on a loaded machine, still well under the 20 s wait.)
    const { chat } = armory.services.config;
    const turnTimeout = chat.turnTimeoutSeconds;
    chat.turnTimeoutSeconds = 15;
    try {
      const sent = await caller.chat.send({ projectId, agentId, message: "run `touch /workspace/late.txt`" });
      const live = await stream(sent.sessionId);
      const events = await untilEnd(live, sent.runId, 90_000);
      const req = events.find((e) => e.type === "approval_requested")!;
      const dec = events.find((e) => e.type === "approval_decided")!;
      expect(dec.data).toMatchObject({ status: "expired", decidedBy: { kind: "timeout" } });
      const waited = dec.at.getTime() - req.at.getTime();
      expect(waited).toBeGreaterThanOrEqual(19_500);
      expect(waited).toBeLessThan(35_000);
      expect(events.at(-1)!.type).toBe("run_completed");
      expect(streamedText(events)).toContain("No one approved Bash");
      expect(await exists("/workspace/late.txt")).toBe(false);
    } finally {
      chat.turnTimeoutSeconds = turnTimeout;
    }
  }, 120_000);

  it("a turn stopped while it waits cancels its approval", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "run `touch /workspace/stopped.txt`" });
    const live = await stream(sent.sessionId);
    const pending = await vi.waitFor(
      async () => {
        const [a] = await caller.approval.list({ projectId, agentId, status: "pending" });
        expect(a).toBeDefined();
        return a!;
      },
      { timeout: 60_000, interval: 100 },
    );
    await caller.chat.interrupt({ projectId, agentId, sessionId: sent.sessionId });
    const events = await untilEnd(live, sent.runId);
    expect(events.at(-1)!.type).toBe("run_interrupted");
    expect((await caller.approval.get({ projectId, approvalId: pending.id })).status).toBe("cancelled");
    await expectTrpcError(caller.approval.decide({ projectId, approvalId: pending.id, decision: "allow" }), "CONFLICT");
    expect(await exists("/workspace/stopped.txt")).toBe(false);
  }, 120_000);

  it("a changed policy applies to the next turn: an agent override that allows Bash runs without asking", async () => {
    const updated = await caller.agent.update({ projectId, agentId, toolPolicy: { allow: ["Bash(touch:*)"], ask: [], deny: [] } });
    expect(updated.effectiveToolPolicy.allow).toEqual(["Bash(touch:*)"]);
    const after = await lastSeq(sessionId);
    const live = await stream(sessionId, after);
    const sent = await caller.chat.send({ projectId, agentId, sessionId, message: "run `touch /workspace/policy.txt`" });
    const events = await untilEnd(live, sent.runId);
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(events.some((e) => e.type === "approval_requested")).toBe(false);
    // The warm process of the old policy was not reused.
    expect(events.find((e) => e.type === "run_started")!.data).toMatchObject({ reusedProcess: false });
    expect(await exists("/workspace/policy.txt")).toBe(true);
  }, 120_000);

  it("an approval for Write shows the change as a diff against the file as it is in the container", async () => {
    await caller.agent.update({ projectId, agentId, toolPolicy: { allow: [], ask: ["Write"], deny: [] }, approvalTimeoutSec: null });
    // Claude Code only writes over a file it has read, which the scripted model cannot do: the
    // approval below is for a new file; the reader diffs use for existing files is checked first.
    await sh(containerId, "printf 'first line\\nold line\\n' > /workspace/notes.txt");
    expect(await armory.services.approvals.currentText(projectId, agentId, "/workspace/notes.txt")).toBe("first line\nold line\n");
    expect(await armory.services.approvals.currentText(projectId, agentId, "/workspace/missing.txt")).toBeNull();

    const sent = await caller.chat.send({ projectId, agentId, message: "write a file fresh.txt with new line" });
    const live = await stream(sent.sessionId);
    const pending = await vi.waitFor(
      async () => {
        const [a] = await caller.approval.list({ projectId, agentId, status: "pending" });
        expect(a).toBeDefined();
        return a!;
      },
      { timeout: 60_000, interval: 100 },
    );
    expect(pending).toMatchObject({ toolName: "Write", summary: "/workspace/fresh.txt", suggestedRule: expect.stringMatching(/^(Edit|Write)\(/) });
    expect(pending.diff).toContain("--- /workspace/fresh.txt");
    expect(pending.diff).toContain("@@ -0,0 +1,1 @@\n+new line\n");
    await caller.approval.decide({ projectId, approvalId: pending.id, decision: "deny" });
    const events = await untilEnd(live, sent.runId);
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(await exists("/workspace/fresh.txt")).toBe(false);
  }, 120_000);
});
