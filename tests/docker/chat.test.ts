// Chat against real parts: the real Claude Code CLI in the real agent container, talking to
// Armory's model gateway (reached on the agent network's gateway address), which forwards to the
// scripted demo model running as the upstream. Events are read through chat.stream exactly as a
// client would, including reconnects with afterSeq and an Armory restart mid-turn.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAgentImage } from "@/server/docker/agent-image";
import { runExec } from "@/server/docker/exec";
import { startDemoModelServer, type DemoModelServer } from "@/server/gateway/demo-model";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { docker, removeProjectDockerObjects } from "../support/docker";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;

describe("chat with the real Claude Code CLI through the gateway", () => {
  let armory: TestArmory;
  let model: DemoModelServer;
  let owner: TestUser;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  let containerId: string;

  /** chat.stream as an iterator of events (unwrapping the tracked envelopes that carry the seq as SSE id). */
  async function stream(sessionId: string, afterSeq = 0) {
    const iterable = (await caller.chat.stream({ projectId, agentId, sessionId, afterSeq })) as AsyncIterable<unknown>;
    const inner = iterable[Symbol.asyncIterator]();
    const it: AsyncIterator<{ id: string; data: ChatStreamEvent }> = {
      next: async () => {
        const r = await inner.next();
        if (r.done) return { done: true, value: undefined };
        const v = r.value as [string, ChatStreamEvent] | { id: string; data: ChatStreamEvent };
        const value = Array.isArray(v) ? { id: v[0], data: v[1] } : v;
        expect(value.id).toBe(String(value.data.seq));
        return { done: false, value };
      },
      return: async () => (await inner.return?.()) ?? { done: true, value: undefined },
    };
    return it;
  }
  const lastSeq = async (sessionId: string) =>
    (await caller.chat.sessions({ projectId, agentId })).sessions.find((s) => s.id === sessionId)!.lastSeq;

  /** Reads events until the run's terminal event; returns them all (in order). */
  async function untilEnd(it: AsyncIterator<{ id: string; data: ChatStreamEvent }>, runId: string, limitMs = 60_000) {
    const seen: ChatStreamEvent[] = [];
    const guard = setTimeout(() => void it.return?.(), limitMs);
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) throw new Error(`stream ended early; last: ${JSON.stringify(seen.slice(-3)).slice(0, 2000)}`);
        seen.push(r.value.data);
        if (r.value.data.runId === runId && ["run_completed", "run_failed", "run_interrupted"].includes(r.value.data.type)) return seen;
      }
    } finally {
      clearTimeout(guard);
    }
  }

  const text = (events: ChatStreamEvent[]) =>
    events
      .filter((e) => e.type === "stream_event")
      .map((e) => {
        const d = e.data as { event?: { type?: string; delta?: { type?: string; text?: string } } };
        return d.event?.type === "content_block_delta" && d.event.delta?.type === "text_delta" ? d.event.delta.text ?? "" : "";
      })
      .join("");

  const seqsOf = (events: ChatStreamEvent[]) => events.map((e) => e.seq);
  const contiguous = (seqs: number[]) => seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    model = await startDemoModelServer();
    armory = await startTestArmory("pglite", {
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: "sk-upstream-test-key-never-in-containers",
      ARMORY_GATEWAY_PORT: "0",
      ARMORY_CHAT_IDLE_SECONDS: "120",
    });
    owner = await signUp(armory.services, { name: "Chat Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Chat" })).id;
    const templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    const agent = await caller.agent.create({ projectId, templateId, name: "chatty", overrides: { memoryMb: 1024 }, start: true });
    agentId = agent.id;
    containerId = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
  }, 600_000);

  afterAll(async () => {
    await armory?.close();
    await removeProjectDockerObjects(projectId);
    await model?.close();
  });

  let firstSession: string;

  it("runs a text turn: tokens stream in, the result is stored with usage, the model key never leaves Armory", async () => {
    const before = model.requests.length;
    const sent = await caller.chat.send({ projectId, agentId, message: "Hello there, agent" });
    expect(sent.sessionId).toMatch(/[0-9a-f-]{36}/);
    firstSession = sent.sessionId;
    const events = await untilEnd(await stream(sent.sessionId), sent.runId);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("user_message");
    expect(types).toContain("run_started");
    expect(types).toContain("system");
    expect(types).toContain("result");
    expect(types.at(-1)).toBe("run_completed");
    expect(contiguous(seqsOf(events))).toBe(true);
    expect(events[0]!.seq).toBe(1);
    expect(text(events)).toContain('You said: "Hello there, agent"');
    // The CLI went through the gateway with the agent's token; upstream saw only Armory's key.
    expect(model.requests.length).toBeGreaterThan(before);
    expect(model.headers.at(-1)!["x-api-key"]).toBe("sk-upstream-test-key-never-in-containers");
    const info = await docker.getContainer(containerId).inspect();
    expect(info.Config.Env!.join("\n")).not.toContain("sk-upstream-test-key");
    expect(info.Config.Env!.some((e) => e.startsWith("ANTHROPIC_BASE_URL=http://172."))).toBe(true);
    const { sessions } = await caller.chat.sessions({ projectId, agentId });
    const s = sessions.find((x) => x.id === sent.sessionId)!;
    expect(s.title).toBe("Hello there, agent");
    expect(s.claudeSessionId).toMatch(/[0-9a-f-]{36}/);
    expect(s.outputTokens).toBeGreaterThan(0);
    expect(s.costUsd).toBeGreaterThan(0);
    const usage = await armory.services.gateway.usage(agentId);
    expect(usage.requests).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(armory.logs.text).not.toContain("armgw_");
    expect(armory.logs.text).not.toContain("sk-upstream-test-key");
  }, 120_000);

  it("resumes the session on the next turn: the model sees the earlier message", async () => {
    const after = await lastSeq(firstSession);
    const live = await stream(firstSession, after);
    const sent = await caller.chat.send({ projectId, agentId, sessionId: firstSession, message: "And a second one" });
    expect(sent.sessionId).toBe(firstSession);
    const events = await untilEnd(live, sent.runId);
    expect(events[0]!.seq).toBe(after + 1);
    expect(events.find((e) => e.type === "run_started")!.data).toMatchObject({ resumed: true });
    const { events: all } = await caller.chat.history({ projectId, agentId, sessionId: firstSession });
    const mine = all.filter((e) => e.runId === sent.runId);
    expect(text(mine)).toContain('Earlier in this conversation you said: "Hello there, agent"');
    expect(mine.at(-1)!.type).toBe("run_completed");
    expect(contiguous(seqsOf(all))).toBe(true);
  }, 120_000);
});

void expectTrpcError;
void runExec;
