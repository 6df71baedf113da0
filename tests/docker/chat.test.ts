// Chat against real parts: the real Claude Code CLI in the real agent container, talking to
// Armory's model gateway (reached on the agent network's gateway address), which forwards to the
// scripted demo model running as the upstream. Events are read through chat.stream exactly as a
// client would, including reconnects with afterSeq and an Armory restart mid-turn.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runExec } from "../support/agent-exec";
import type { DemoModelServer } from "@/server/gateway/demo-model";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { execIn, oomScript } from "../support/agent-exec";
import { callerFor, signUp, type TestArmory, type TestUser } from "../support/armory";
import { startChatArmory, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { docker } from "../support/docker";
import { expectTrpcError } from "../support/trpc-errors";
import { chatStreams, contiguous, streamedText } from "../support/chat-stream";

type Caller = Awaited<ReturnType<typeof callerFor>>;

describe("chat with the real Claude Code CLI through the gateway", () => {
  let armory: TestArmory;
  let model: DemoModelServer;
  let owner: TestUser;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  let containerId: string;

  const { stream, lastSeq, untilEnd } = chatStreams(() => ({ caller, projectId, agentId }));
  const text = streamedText;
  const seqsOf = (events: ChatStreamEvent[]) => events.map((e) => e.seq);

  let fixture: ChatArmory | undefined;

  beforeAll(async () => {
    fixture = await startChatArmory({ db: suiteDb("postgres"), name: "Chat", env: { ARMORY_CHAT_IDLE_SECONDS: "120" } });
    ({ armory, model, owner, caller, projectId } = fixture);
    const agent = await caller.agent.create({ projectId, templateId: fixture.coderTemplateId, name: "chatty", overrides: { memoryMb: 1024 }, start: true });
    agentId = agent.id;
    containerId = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
  }, 600_000);

  afterAll(async () => {
    await fixture?.close();
  });

  let firstSession: string;

  it("runs a text turn: tokens stream in, the result is stored with usage, the model key never leaves Armory", async () => {
    const before = model.requests.length;
    expect((await caller.agent.get({ projectId, agentId })).lastMessageAt).toBeNull();
    const sentAt = new Date();
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
    // The project's relay (its only way out), not a host address.
    expect(info.Config.Env).toContain("ANTHROPIC_BASE_URL=http://armory-gateway:8080/api/gateway/anthropic");
    const { sessions, usage: totals, demoModel } = await caller.chat.sessions({ projectId, agentId });
    expect(demoModel).toBe(false);
    expect(totals.agent).toMatchObject({ sessions: 1, turns: 1 });
    expect(totals.agent.costUsd).toBeGreaterThan(0);
    expect(totals.project.costUsd).toBeCloseTo(totals.agent.costUsd);
    expect(totals.gateway.requests).toBeGreaterThan(0);
    const s = sessions.find((x) => x.id === sent.sessionId)!;
    expect(s.title).toBe("Hello there, agent");
    expect(s.claudeSessionId).toMatch(/[0-9a-f-]{36}/);
    expect(s.outputTokens).toBeGreaterThan(0);
    expect(s.costUsd).toBeGreaterThan(0);
    // The gateway writes usage when each model response has closed (off the reply's path).
    await vi.waitFor(async () => {
      const usage = await armory.services.gateway.usage(agentId);
      expect(usage.requests).toBeGreaterThan(0);
      expect(usage.outputTokens).toBeGreaterThan(0);
    });
    expect(armory.logs.text).not.toContain("armgw_");
    expect(armory.logs.text).not.toContain("sk-upstream-test-key");
    // The agent's card shows when it was last sent a message (noted off the turn's path).
    await vi.waitFor(async () => {
      const { lastMessageAt } = await caller.agent.get({ projectId, agentId });
      expect(lastMessageAt!.getTime()).toBeGreaterThanOrEqual(sentAt.getTime());
    });
  }, 120_000);

  it("resumes the session on the next turn: the model sees the earlier message", async () => {
    const after = await lastSeq(firstSession);
    const live = await stream(firstSession, after);
    const sent = await caller.chat.send({ projectId, agentId, sessionId: firstSession, message: "And a second one" });
    expect(sent.sessionId).toBe(firstSession);
    const events = await untilEnd(live, sent.runId);
    expect(events[0]!.seq).toBe(after + 1);
    // The warm process from the first turn took this one (no CLI start-up).
    expect(events.find((e) => e.type === "run_started")!.data).toMatchObject({ resumed: true, reusedProcess: true, mode: "warm" });
    expect(armory.services.chat.warmCount).toBeGreaterThanOrEqual(1);
    const { events: all } = await caller.chat.history({ projectId, agentId, sessionId: firstSession });
    const mine = all.filter((e) => e.runId === sent.runId);
    expect(text(mine)).toContain('Earlier in this conversation you said: "Hello there, agent"');
    expect(mine.at(-1)!.type).toBe("run_completed");
    expect(contiguous(seqsOf(all))).toBe(true);
  }, 120_000);

  it("recycles the warm process when the agent's instructions change: the next turn starts fresh and resumes", async () => {
    armory.services.agentConfig.start(); // listen to the daemons' config-reload events
    const warmBefore = armory.services.chat.warmCount;
    expect(warmBefore).toBeGreaterThanOrEqual(1);
    const reloaded = new Promise<void>((resolve) => {
      const off = armory.services.agentConfig.onReload((e) => {
        if (e.agentId !== agentId) return;
        off();
        resolve();
      });
    });
    const wrote = await runExec(docker, containerId, { cmd: ["sh", "-c", "echo '# Answer briefly.' > /workspace/CLAUDE.md"], user: "1000:1000" });
    expect(wrote.exitCode).toBe(0);
    await reloaded;
    expect(armory.services.chat.warmCount).toBe(warmBefore - 1);

    const after = await lastSeq(firstSession);
    const live = await stream(firstSession, after);
    const sent = await caller.chat.send({ projectId, agentId, sessionId: firstSession, message: "After the reload" });
    const events = await untilEnd(live, sent.runId);
    expect(events.find((e) => e.type === "run_started")!.data).toMatchObject({ resumed: true, reusedProcess: false, mode: "warm" });
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(text(events)).toContain('You said: "After the reload"');
  }, 120_000);

  it("runs a tool turn: Write then Bash, and the file really exists in the container afterwards", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "Please write a file notes/hello.txt with Armory was here" });
    const events = await untilEnd(await stream(sent.sessionId), sent.runId);
    expect(events.at(-1)!.type).toBe("run_completed");
    const toolUses = events
      .filter((e) => e.type === "assistant")
      .flatMap((e) => ((e.data as { message: { content: { type: string; name?: string }[] } }).message.content ?? []))
      .filter((b) => b.type === "tool_use")
      .map((b) => b.name);
    expect(toolUses).toEqual(["Write", "Bash"]);
    const toolResults = events
      .filter((e) => e.type === "user")
      .flatMap((e) => ((e.data as { message: { content: { type: string; content?: unknown; is_error?: boolean }[] } }).message.content ?? []))
      .filter((b) => b.type === "tool_result");
    expect(toolResults).toHaveLength(2);
    expect(toolResults.every((r) => r.is_error !== true)).toBe(true);
    expect(JSON.stringify(toolResults[1]!.content)).toContain("Armory was here");
    const file = await runExec(docker, containerId, { cmd: ["cat", "/workspace/notes/hello.txt"], user: "1000:1000" });
    expect(file.exitCode).toBe(0);
    expect(file.stdout).toBe("Armory was here\n");
  }, 120_000);

  it("interrupts a running turn: the process tree really stops and the turn ends interrupted", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "Tell me a long story slowly [[delay=300]]" });
    const it = await stream(sent.sessionId);
    // Wait until tokens are flowing.
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error("stream ended");
      if (r.value.data.type === "stream_event" && JSON.stringify(r.value.data.data).includes("text_delta")) break;
    }
    // This turn's process group (armoryd starts each Claude Code process as a group leader; other
    // sessions keep their warm processes).
    const turnProc = armory.services.chat.processOf(sent.sessionId)!;
    const pgid = turnProc.pid!;
    expect(pgid).toBeGreaterThan(1);
    const running = await runExec(docker, containerId, { cmd: ["sh", "-c", `pgrep -g ${pgid} | wc -l`] });
    expect(Number(running.stdout.trim())).toBeGreaterThan(0);
    const res = await caller.chat.interrupt({ projectId, agentId, sessionId: sent.sessionId });
    expect(res).toEqual({ interrupted: true, runId: sent.runId });
    const events = await untilEnd(it, sent.runId);
    const last = events.at(-1)!;
    expect(last.type).toBe("run_interrupted");
    expect((last.data as { message: string }).message).toMatch(/Stopped by Chat Owner/);
    const after = await runExec(docker, containerId, { cmd: ["sh", "-c", `pgrep -g ${pgid} | wc -l`] });
    expect(Number(after.stdout.trim())).toBe(0);
    // The session is still usable.
    const again = await caller.chat.send({ projectId, agentId, sessionId: sent.sessionId, message: "still there?" });
    const ev2 = await untilEnd(await stream(sent.sessionId, last.seq), again.runId);
    expect(ev2.at(-1)!.type).toBe("run_completed");
    expect(text(ev2)).toContain("still there?");
  }, 120_000);

  it("refuses deleting a conversation while its turn runs (409); once stopped it is deleted with its warm process", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "A slow one to delete [[delay=300]]" });
    const it = await stream(sent.sessionId);
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error("stream ended");
      if (r.value.data.type === "stream_event" && JSON.stringify(r.value.data.data).includes("text_delta")) break;
    }
    await expectTrpcError(caller.chat.deleteSession({ projectId, agentId, sessionId: sent.sessionId }), "CONFLICT", /turn is running/);
    await caller.chat.interrupt({ projectId, agentId, sessionId: sent.sessionId });
    const stopped = (await untilEnd(it, sent.runId)).at(-1)!;
    expect(stopped.type).toBe("run_interrupted");
    // A finished turn leaves a warm process for the session; deleting the session ends it.
    const again = await caller.chat.send({ projectId, agentId, sessionId: sent.sessionId, message: "one more" });
    expect((await untilEnd(await stream(sent.sessionId, stopped.seq), again.runId)).at(-1)!.type).toBe("run_completed");
    const warm = armory.services.chat.processOf(sent.sessionId);
    expect(warm).toMatchObject({ warm: true, alive: true });
    expect(await caller.chat.deleteSession({ projectId, agentId, sessionId: sent.sessionId })).toEqual({ deleted: true, sessionId: sent.sessionId });
    expect(warm!.alive).toBe(false);
    expect(armory.services.chat.processOf(sent.sessionId)).toBeNull();
    const prisma = armory.services.db.prisma;
    expect(await prisma.chatEvent.count({ where: { sessionId: sent.sessionId } })).toBe(0);
    expect(await prisma.chatRun.count({ where: { sessionId: sent.sessionId } })).toBe(0);
    await expectTrpcError(caller.chat.history({ projectId, agentId, sessionId: sent.sessionId }), "NOT_FOUND");
  }, 120_000);

  it("falls back to one process per turn when warm processes are off", async () => {
    armory.services.config.chat.warm = false;
    try {
      const sent = await caller.chat.send({ projectId, agentId, message: "one-shot please" });
      const events = await untilEnd(await stream(sent.sessionId), sent.runId);
      expect(events.find((e) => e.type === "run_started")!.data).toMatchObject({ mode: "oneshot", reusedProcess: false });
      expect(events.at(-1)!.type).toBe("run_completed");
      const again = await caller.chat.send({ projectId, agentId, sessionId: sent.sessionId, message: "and again" });
      const ev2 = await untilEnd(await stream(sent.sessionId, events.at(-1)!.seq), again.runId);
      expect(ev2.find((e) => e.type === "run_started")!.data).toMatchObject({ mode: "oneshot", reusedProcess: false, resumed: true });
      expect(text(ev2)).toContain('Earlier in this conversation you said: "one-shot please"');
    } finally {
      armory.services.config.chat.warm = true;
    }
  }, 120_000);

  it("a slow upstream ends the turn at the turn timeout; an idle warm process is reaped", async () => {
    const cfg = armory.services.config.chat;
    const saved = { ...cfg };
    cfg.turnTimeoutSeconds = 5;
    cfg.idleSeconds = 1;
    try {
      const hung = await caller.chat.send({ projectId, agentId, message: "never answers [[hang]]" });
      const events = await untilEnd(await stream(hung.sessionId), hung.runId);
      expect(events.at(-1)!.type).toBe("run_failed");
      expect(events.at(-1)!.data).toMatchObject({ reason: "timeout" });
      expect((events.at(-1)!.data as { message: string }).message).toMatch(/longer than 5 s/);

      // The next turn gets the usual room again (a loaded machine may need more than 5 s).
      cfg.turnTimeoutSeconds = saved.turnTimeoutSeconds;
      const quick = await caller.chat.send({ projectId, agentId, sessionId: hung.sessionId, message: "quick one" });
      const ev = await untilEnd(await stream(hung.sessionId, events.at(-1)!.seq), quick.runId);
      expect(ev.at(-1)!.type).toBe("run_completed");
      const chat = armory.services.chat;
      const warm = chat.processOf(hung.sessionId)!;
      expect(warm.warm).toBe(true);
      const pgid = warm.pid!;
      await vi.waitFor(() => expect(chat.processOf(hung.sessionId)).toBeNull(), { timeout: 15_000, interval: 100 });
      await vi.waitFor(
        async () => {
          const r = await runExec(docker, containerId, { cmd: ["sh", "-c", `pgrep -g ${pgid} | wc -l`] });
          expect(r.stdout.trim()).toBe("0");
        },
        { timeout: 15_000, interval: 200 },
      );
    } finally {
      Object.assign(cfg, saved);
    }
  }, 120_000);

  it("lets viewers read conversations but not send or stop turns; strangers get nothing", async () => {
    const viewer = await signUp(armory.services, { name: "Viewer" });
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: viewer.id, role: "viewer" } });
    const asViewer = await callerFor(armory.services, viewer);
    const { sessions } = await asViewer.chat.sessions({ projectId, agentId });
    expect(sessions.length).toBeGreaterThan(0);
    const { events } = await asViewer.chat.history({ projectId, agentId, sessionId: firstSession });
    expect(events.length).toBeGreaterThan(0);
    await expectTrpcError(asViewer.chat.send({ projectId, agentId, sessionId: firstSession, message: "hi" }), "FORBIDDEN");
    await expectTrpcError(asViewer.chat.interrupt({ projectId, agentId, sessionId: firstSession }), "FORBIDDEN");
    const stranger = await callerFor(armory.services, await signUp(armory.services, { name: "Stranger" }));
    await expectTrpcError(stranger.chat.history({ projectId, agentId, sessionId: firstSession }), "FORBIDDEN");
    const anonymous = await callerFor(armory.services, null);
    await expectTrpcError(anonymous.chat.sessions({ projectId, agentId }), "UNAUTHORIZED");
  });

  it("reconnects with afterSeq: exactly the missed events, none twice, in order", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "Count slowly for me [[delay=40]]" });
    const first = await stream(sent.sessionId);
    const got: ChatStreamEvent[] = [];
    for (;;) {
      const r = await first.next();
      if (r.done) throw new Error("stream ended");
      got.push(r.value.data);
      if (got.length >= 8) break;
    }
    await first.return!(); // the client goes away mid-turn
    const resumed = await untilEnd(await stream(sent.sessionId, got.at(-1)!.seq), sent.runId);
    const seqs = [...got, ...resumed].map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(contiguous(seqs)).toBe(true);
    const { events: all } = await caller.chat.history({ projectId, agentId, sessionId: sent.sessionId });
    expect(all.map((e) => e.seq)).toEqual(seqs);
  }, 120_000);

  it("ends turns with clear persisted errors on faults; the session stays usable", async () => {
    // Unknown agent / session and bad messages: clear 4xx, no run.
    await expectTrpcError(caller.chat.send({ projectId, agentId: crypto.randomUUID(), message: "hi" }), "NOT_FOUND");
    await expectTrpcError(caller.chat.send({ projectId, agentId, sessionId: crypto.randomUUID(), message: "hi" }), "NOT_FOUND");
    await expectTrpcError(caller.chat.send({ projectId, agentId, message: "   " }), "BAD_REQUEST");
    await expectTrpcError(caller.chat.send({ projectId, agentId, message: "x".repeat(1024 * 1024 + 1) }), "BAD_REQUEST");
    await expectTrpcError(caller.chat.history({ projectId, agentId, sessionId: crypto.randomUUID() }), "NOT_FOUND");

    // A 1 MiB message goes through (stdin, not argv).
    const big = await caller.chat.send({ projectId, agentId, message: `big ${"y".repeat(1024 * 1024 - 4)}` });
    const bigEvents = await untilEnd(await stream(big.sessionId), big.runId, 120_000);
    expect(bigEvents.at(-1)!.type).toBe("run_completed");

    // The upstream fails: the model error ends the turn.
    const failing = await caller.chat.send({ projectId, agentId, message: "break please [[fail=400]]" });
    const failEvents = await untilEnd(await stream(failing.sessionId), failing.runId);
    expect(failEvents.at(-1)!.type).toBe("run_failed");
    expect((failEvents.at(-1)!.data as { message: string }).message).toMatch(/model failed|Demo model failure|400/i);

    // Resume of a conversation the container no longer has.
    const s = await caller.chat.send({ projectId, agentId, message: "remember me" });
    await untilEnd(await stream(s.sessionId), s.runId);
    await armory.services.db.prisma.chatSession.update({ where: { id: s.sessionId }, data: { claudeSessionId: "99999999-2222-4333-8444-555555555555" } });
    await armory.services.chat.endWarm(s.sessionId);
    const seqBefore = await lastSeq(s.sessionId);
    const r1 = await caller.chat.send({ projectId, agentId, sessionId: s.sessionId, message: "are you there" });
    const e1 = await untilEnd(await stream(s.sessionId, seqBefore), r1.runId);
    expect(e1.at(-1)!.type).toBe("run_failed");
    expect((e1.at(-1)!.data as { reason: string }).reason).toBe("session_missing");
    const r2 = await caller.chat.send({ projectId, agentId, sessionId: s.sessionId, message: "fresh start" });
    const e2 = await untilEnd(await stream(s.sessionId, e1.at(-1)!.seq), r2.runId);
    expect(e2.at(-1)!.type).toBe("run_completed");

    // The container stops in the middle of a turn.
    const slow = await caller.chat.send({ projectId, agentId, sessionId: s.sessionId, message: "a slow one [[delay=300]]" });
    const it = await stream(s.sessionId, e2.at(-1)!.seq);
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error("stream ended");
      if (r.value.data.type === "stream_event") break;
    }
    await docker.getContainer(containerId).stop({ t: 1 });
    const stopped = await untilEnd(it, slow.runId);
    expect(stopped.at(-1)!.type).toBe("run_failed");
    expect((stopped.at(-1)!.data as { reason: string }).reason).toMatch(/container_stopped|cli_exit|process_killed/);
    // With the agent stopped, a new message fails clearly at once.
    const r3 = await caller.chat.send({ projectId, agentId, sessionId: s.sessionId, message: "hello?" });
    const e3 = await untilEnd(await stream(s.sessionId, stopped.at(-1)!.seq), r3.runId);
    expect(e3.at(-1)!.type).toBe("run_failed");
    expect((e3.at(-1)!.data as { message: string }).message).toMatch(/is not running/);
    await caller.agent.start({ projectId, agentId });
    const r4 = await caller.chat.send({ projectId, agentId, sessionId: s.sessionId, message: "back again" });
    const e4 = await untilEnd(await stream(s.sessionId, e3.at(-1)!.seq), r4.runId);
    expect(e4.at(-1)!.type).toBe("run_completed");
    expect(text(e4)).toContain("back again");
  }, 300_000);

  it("survives an Armory restart in the middle of a turn: events kept, the run ended, the stream resumes by seq", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "slow answer before a restart [[delay=200]]" });
    const it = await stream(sent.sessionId);
    const before: ChatStreamEvent[] = [];
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error("stream ended");
      before.push(r.value.data);
      if (r.value.data.type === "stream_event") break;
    }
    await it.return!();
    await armory.restart();
    caller = await callerFor(armory.services, owner);
    const after = await untilEnd(await stream(sent.sessionId, before.at(-1)!.seq), sent.runId);
    const seqs = [...before, ...after].map((e) => e.seq);
    expect(contiguous(seqs)).toBe(true);
    expect(["run_interrupted", "run_failed"]).toContain(after.at(-1)!.type);
    const { runs } = await caller.chat.history({ projectId, agentId, sessionId: sent.sessionId });
    expect(runs.find((r) => r.id === sent.runId)!.status).not.toBe("running");
    // No Claude Code process is left but the agent's pre-warmed one the new Armory started (src/server/chat/warm-pool.ts).
    await expect
      .poll(async () => {
        const pids = (await runExec(docker, containerId, { cmd: ["sh", "-c", "pgrep -x claude || true"] })).stdout.split("\n").filter(Boolean).map(Number);
        return pids.filter((p) => p !== armory.services.chat.prewarmedOf(agentId)?.pid);
      }, { timeout: 20_000 })
      .toEqual([]);
    // A crash leaves a run "running": the next start ends it with a persisted event.
    const crashedRun = await armory.services.db.prisma.chatRun.create({
      data: { sessionId: sent.sessionId, agentId, projectId, message: "lost", status: "running" },
    });
    await armory.restart();
    caller = await callerFor(armory.services, owner);
    const { runs: runs2, events } = await caller.chat.history({ projectId, agentId, sessionId: sent.sessionId });
    expect(runs2.find((r) => r.id === crashedRun.id)!.status).toBe("interrupted");
    const ended = events.filter((e) => e.runId === crashedRun.id);
    expect(ended.map((e) => e.type)).toEqual(["run_interrupted"]);
    expect((ended[0]!.data as { reason: string }).reason).toBe("armory_restarted");
    // And chat works after the restarts.
    const next = await caller.chat.send({ projectId, agentId, sessionId: sent.sessionId, message: "after the restart" });
    const e = await untilEnd(await stream(sent.sessionId, events.at(-1)!.seq), next.runId);
    expect(e.at(-1)!.type).toBe("run_completed");
    expect(text(e)).toContain("slow answer before a restart");
  }, 180_000);

  it("ends a turn whose container runs out of memory with a clear persisted error; the session goes on after a start", async () => {
    await caller.agent.update({ projectId, agentId, memoryMb: 512 }); // applies to the running container at once
    const sent = await caller.chat.send({ projectId, agentId, message: "a slow one before memory runs out [[delay=300]]" });
    const it = await stream(sent.sessionId);
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error("stream ended");
      if (r.value.data.type === "stream_event") break;
    }
    const cid = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    await execIn(cid, oomScript(4, 200), true);
    const events = await untilEnd(it, sent.runId);
    const end = events.at(-1)!;
    expect(end.type).toBe("run_failed");
    // The kernel picks the victim: the container's init (the whole container is OOM-killed) or Claude Code itself.
    const { reason, message } = end.data as { reason: string; message: string };
    expect(reason).toMatch(/^(container_oom|process_oom|process_killed)$/);
    expect(message).toMatch(/out of memory/);
    expect(message).toMatch(/512 MB/);
    const { runs } = await caller.chat.history({ projectId, agentId, sessionId: sent.sessionId });
    expect(runs.find((r) => r.id === sent.runId)).toMatchObject({ status: "failed" });

    await caller.agent.start({ projectId, agentId }); // a no-op when only Claude Code was killed
    const next = await caller.chat.send({ projectId, agentId, sessionId: sent.sessionId, message: "still there?" });
    const after = await untilEnd(await stream(sent.sessionId, end.seq), next.runId);
    expect(after.at(-1)!.type).toBe("run_completed");
    expect(text(after)).toContain("still there?");
  }, 180_000);
});
