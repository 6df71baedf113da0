// The pre-warmed Claude Code process (src/server/chat/warm-pool.ts) against real parts: the real
// CLI in the real agent container, started through the agent's daemon when the daemon connects,
// waiting with a pre-assigned --session-id; the first turn of a new conversation is written to it.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runExec } from "../support/agent-exec";
import type { TestArmory } from "../support/armory";
import { startChatArmory, type Caller, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { docker } from "../support/docker";
import { chatStreams, streamedText } from "../support/chat-stream";

describe("a pre-warmed Claude Code process for an agent's next new conversation", () => {
  let fixture: ChatArmory | undefined;
  let armory: TestArmory;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  let containerId: string;
  /** Every proc.spawn Armory asked the daemon for: its argv. */
  const spawns: string[][] = [];
  const { stream, untilEnd } = chatStreams(() => ({ caller, projectId, agentId }));

  const claudePids = async () =>
    (await runExec(docker, containerId, { cmd: ["sh", "-c", "pgrep -x claude || true"] })).stdout
      .split("\n")
      .filter(Boolean)
      .map(Number);
  const argsOf = async (pid: number) => (await runExec(docker, containerId, { cmd: ["sh", "-c", `tr '\\0' ' ' < /proc/${pid}/cmdline`] })).stdout;
  /** The agent's pre-warmed process once one is ready (and, given, not that one). */
  const nextPrewarmed = async (not?: number) => {
    await vi.waitFor(
      () => {
        const p = armory.services.chat.prewarmedOf(agentId);
        expect(p?.pid).toBeTypeOf("number");
        expect(p!.pid).not.toBe(not);
      },
      { timeout: 60_000, interval: 100 },
    );
    return armory.services.chat.prewarmedOf(agentId)!;
  };
  const newConversation = async (message: string) => {
    const sent = await caller.chat.send({ projectId, agentId, message });
    const events = await untilEnd(await stream(sent.sessionId), sent.runId);
    const session = (await caller.chat.sessions({ projectId, agentId })).sessions.find((s) => s.id === sent.sessionId)!;
    return { sent, events, session, started: events.find((e) => e.type === "run_started")!.data as Record<string, unknown> };
  };

  beforeAll(async () => {
    fixture = await startChatArmory({ db: suiteDb("pglite"), name: "Prewarm" });
    ({ armory, caller, projectId } = fixture);
    const hub = armory.services.hub;
    const request = hub.request.bind(hub);
    vi.spyOn(hub, "request").mockImplementation(((agent: string, method: string, params: unknown, o?: unknown) => {
      if (method === "proc.spawn") spawns.push((params as { argv: string[] }).argv);
      return (request as (...a: unknown[]) => unknown)(agent, method, params, o);
    }) as typeof hub.request);
    const agent = await caller.agent.create({ projectId, templateId: fixture.coderTemplateId, name: "prewarmed", overrides: { memoryMb: 1024 }, start: true });
    agentId = agent.id;
    containerId = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
  }, 600_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await fixture?.close();
  });

  it("is started when the agent's daemon connects; a new conversation's first turn takes it, no spawn at send time", async () => {
    const pre = await nextPrewarmed();
    // A real CLI process in the container, waiting with the pre-assigned session id.
    expect(await claudePids()).toContain(pre.pid);
    const args = await argsOf(pre.pid!);
    expect(args).toContain(`--session-id ${pre.claudeSessionId}`);
    expect(args).toContain("--input-format stream-json");
    expect(args).not.toContain("--resume");

    const before = spawns.length;
    const { sent, events, session, started } = await newConversation("Hello, warm agent");
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(streamedText(events)).toContain('You said: "Hello, warm agent"');
    expect(started).toMatchObject({ prewarmed: true, reusedProcess: false, resumed: false });
    // The conversation is the pre-assigned Claude session, run by the very process started before.
    expect(session.claudeSessionId).toBe(pre.claudeSessionId);
    expect(armory.services.chat.processOf(sent.sessionId)!.pid).toBe(pre.pid);
    // No process was started for the turn: the only spawn since is the next pre-warmed one.
    const since = spawns.slice(before);
    expect(since.filter((argv) => !argv.includes("--session-id"))).toEqual([]);
    // The next one is ready for the next new conversation, with its own session id.
    const next = await nextPrewarmed(pre.pid!);
    expect(next.claudeSessionId).not.toBe(pre.claudeSessionId);
    expect(await claudePids()).toEqual(expect.arrayContaining([pre.pid, next.pid]));
    const second = await newConversation("A second conversation");
    expect(second.started).toMatchObject({ prewarmed: true });
    expect(second.session.claudeSessionId).toBe(next.claudeSessionId);
    expect(second.events.at(-1)!.type).toBe("run_completed");
  }, 180_000);

  it("is discarded when the agent's settings changed since it started: the turn starts its own process with the new settings", async () => {
    const pre = await nextPrewarmed();
    const agent = await caller.agent.get({ projectId, agentId });
    const permissionMode = agent.permissionMode === "acceptEdits" ? "default" : "acceptEdits";
    await caller.agent.update({ projectId, agentId, permissionMode });
    const before = spawns.length;
    const { events, session, started, sent } = await newConversation("After a settings change");
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(started).toMatchObject({ prewarmed: false });
    expect(session.claudeSessionId).not.toBe(pre.claudeSessionId);
    const own = spawns.slice(before).filter((argv) => !argv.includes("--session-id"));
    expect(own).toHaveLength(1);
    expect(own[0]!.join(" ")).toContain(`--permission-mode ${permissionMode}`);
    expect(armory.services.chat.processOf(sent.sessionId)!.pid).not.toBe(pre.pid);
    // The stale process is gone from the container; a fresh one with the new settings replaces it.
    await expect.poll(claudePids, { timeout: 20_000 }).not.toContain(pre.pid);
    const next = await nextPrewarmed(pre.pid!);
    expect(await argsOf(next.pid!)).toContain(`--permission-mode ${permissionMode}`);
    const again = await newConversation("With the new settings");
    expect(again.started).toMatchObject({ prewarmed: true });
  }, 180_000);

  it("is not used when the agent's memory notes changed since it started: the first turn sees the new notes", async () => {
    const pre = await nextPrewarmed();
    const notes = "The favourite colour of the user is teal.";
    const wrote = await runExec(docker, containerId, { cmd: ["sh", "-c", `mkdir -p /home/agent/.claude && printf '%s' '${notes}' > /home/agent/.claude/memory.md`], user: "1000:1000" });
    expect(wrote.exitCode).toBe(0);
    const before = fixture!.model.requests.length;
    const { events, started, session } = await newConversation("What do you remember?");
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(started).toMatchObject({ prewarmed: false });
    expect(session.claudeSessionId).not.toBe(pre.claudeSessionId);
    const system = JSON.stringify(fixture!.model.requests.slice(before).map((r) => r.system));
    expect(system).toContain(notes);
    await expect.poll(claudePids, { timeout: 20_000 }).not.toContain(pre.pid);
    // Its replacement read the new notes: the next new conversation takes it.
    await nextPrewarmed(pre.pid!);
    const before2 = fixture!.model.requests.length;
    const again = await newConversation("And now?");
    expect(again.started).toMatchObject({ prewarmed: true });
    expect(JSON.stringify(fixture!.model.requests.slice(before2).map((r) => r.system))).toContain(notes);
  }, 180_000);

  it("is replaced when the agent's instructions change (config reload)", async () => {
    armory.services.agentConfig.start();
    const pre = await nextPrewarmed();
    const reloaded = new Promise<void>((resolve) => {
      const off = armory.services.agentConfig.onReload((e) => {
        if (e.agentId !== agentId) return;
        off();
        resolve();
      });
    });
    const wrote = await runExec(docker, containerId, { cmd: ["sh", "-c", "echo '# Be brief.' > /workspace/CLAUDE.md"], user: "1000:1000" });
    expect(wrote.exitCode).toBe(0);
    await reloaded;
    await pre.exited;
    await expect.poll(claudePids, { timeout: 20_000 }).not.toContain(pre.pid);
    const next = await nextPrewarmed(pre.pid!);
    expect(await claudePids()).toContain(next.pid);
  }, 180_000);

  it("never outlives its agent: stopping the agent ends it", async () => {
    const pre = await nextPrewarmed();
    await caller.agent.stop({ projectId, agentId });
    await pre.exited;
    expect(armory.services.chat.prewarmedOf(agentId)).toBeNull();
    expect((await docker.getContainer(containerId).inspect()).State.Running).toBe(false);
  }, 180_000);
});
