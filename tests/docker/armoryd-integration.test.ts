// Armory and armoryd together, on real parts: the agent image's daemon in a real container dials
// Armory's gateway listener through its project's relay; the real Claude Code CLI answers through
// the demo model. Proves what issue 14 promises: during a chat turn, a file write and read and a
// config reload the Docker engine sees no exec and no archive call; the daemon's connection is on
// the status stream; a connection cut mid-turn is replayed by seq (nothing lost, nothing twice); a
// daemon killed mid-turn ends the turn with one clear error and the session goes on; the terminal
// is a real PTY; an Armory restart leaves no process behind.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { runExec, sh } from "../support/agent-exec";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { suiteDb } from "../support/databases";
import { chatStreams, contiguous, streamedText } from "../support/chat-stream";
import { docker, nextMatching, removeProjectDockerObjects } from "../support/docker";
import { followStatus } from "../support/status";

type Caller = Awaited<ReturnType<typeof callerFor>>;

/** The engine's events for one container, collected from now on. */
async function engineEvents(containerId: string) {
  const seen: { Action: string }[] = [];
  const raw = (await docker.getEvents({ filters: JSON.stringify({ container: [containerId] }) })) as NodeJS.ReadableStream & { destroy(): void };
  let buf = "";
  const waiters: { pred: (a: string) => boolean; resolve: () => void }[] = [];
  raw.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line) as { Action: string };
      seen.push(e);
      for (const w of [...waiters]) {
        if (!w.pred(e.Action)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  return {
    seen,
    /** Resolves once an event with this action was seen (the stream is known to be live up to it). */
    until: (pred: (a: string) => boolean) =>
      seen.some((e) => pred(e.Action)) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pred, resolve })),
    close: () => raw.destroy(),
  };
}

/** An exec started (its create and start events name the command) or an archive read or written. */
const isExecOrArchive = (action: string) => /^exec_create|^exec_start|^archive-path|^extract-to-dir/.test(action);

describe("armoryd with Armory on real parts", () => {
  let armory: TestArmory;
  let owner: TestUser;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  let containerId: string;
  const { stream, untilEnd, untilTokens, lastSeq } = chatStreams(() => ({ caller, projectId, agentId }));

  async function current() {
    const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } });
    containerId = row.containerId!;
    await armory.services.hub.waitFor(agentId, { timeoutMs: 60_000, containerId });
  }

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("pglite"), { ARMORY_GATEWAY_PORT: "0" });
    armory.services.startBackground();
    owner = await signUp(armory.services, { name: "Daemon Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Daemon" })).id;
    const templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    // An empty workspace: no template CLAUDE.md whose first write the watcher would report.
    await armory.services.db.prisma.template.update({ where: { id: templateId }, data: { instructions: "" } });
    agentId = (await caller.agent.create({ projectId, templateId, name: "dialler", overrides: { memoryMb: 1024 }, start: true })).id;
    await current();
  }, 600_000);

  afterAll(async () => {
    await armory?.close();
    await removeProjectDockerObjects(projectId);
  });

  it("shows the daemon's connection on the agent and its status stream", async () => {
    const agent = await caller.agent.get({ projectId, agentId });
    expect(agent.daemon.state).toBe("connected");
    expect(agent.daemon.agentVersion).toMatch(/^2\.1\.330-r\d+$/);
    const caps = await caller.agentConfig.capabilities({ projectId, agentId });
    expect(caps.capabilities?.supportedActions).toEqual(expect.arrayContaining(["chat", "files", "terminal"]));
    // Its health is the daemon's own report (sent right after it connects), not an exec probe.
    await expect.poll(() => armory.services.hub.info(agentId)?.report?.rssBytes ?? 0).toBeGreaterThan(0);
    await armory.services.health.monitor.checkAgent(agentId);
    expect((await caller.health.agent({ projectId, agentId })).lastCheck).toMatchObject({ ok: true, message: expect.stringMatching(/armoryd answers .* RSS/) });
    // A cut connection shows as disconnected, then connected again, on the status stream.
    const status = (await followStatus(caller, projectId, agentId)).events;
    armory.services.hub.disconnect(agentId);
    await nextMatching(status, (e) => e.type === "agent" && e.agent.daemon.state === "disconnected", 15_000);
    await nextMatching(status, (e) => e.type === "agent" && e.agent.daemon.state === "connected", 30_000);
    await status.return?.();
  }, 90_000);

  it("runs a chat turn, a file write and read, and a config reload without one exec or archive call", async () => {
    const events = await engineEvents(containerId);
    try {
      const sent = await caller.chat.send({ projectId, agentId, message: "hello daemon" });
      const turn = await untilEnd(await stream(sent.sessionId), sent.runId);
      expect(turn.at(-1)!.type).toBe("run_completed");
      expect(streamedText(turn)).toContain("hello daemon");

      const content = "x".repeat(1024 * 1024);
      await caller.files.write({ projectId, agentId, path: "/workspace/big.txt", content, createDirs: false });
      const read = await caller.files.read({ projectId, agentId, path: "/workspace/big.txt" });
      expect(read.content).toBe(content);
      expect((await caller.files.list({ projectId, agentId, path: "/workspace" })).entries.map((e) => e.name)).toContain("big.txt");

      const reload = armory.services.agentConfig.reloads.subscribe({ projectId, agentId })[Symbol.asyncIterator]();
      await caller.files.write({ projectId, agentId, path: "/workspace/CLAUDE.md", content: "# Be brief.\n", createDirs: false });
      const reloaded = await nextMatching(reload, () => true, 15_000);
      expect(reloaded.files).toContain("/workspace/CLAUDE.md");
      await reload.return?.(undefined);

      // A sentinel of the test's own proves the event stream is live up to here.
      await runExec(docker, containerId, { cmd: ["true", "sentinel-armoryd"] });
      await events.until((a) => a.startsWith("exec_create") && a.includes("sentinel-armoryd"));
      const engineCalls = events.seen.map((e) => e.Action).filter((a) => isExecOrArchive(a) && !a.includes("sentinel-armoryd"));
      expect(engineCalls).toEqual([]);
    } finally {
      events.close();
    }
  }, 120_000);

  it("replays what a cut connection missed: the turn completes with every event once", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "a slow answer across a cut [[delay=150]]" });
    const it = await stream(sent.sessionId);
    await untilTokens(it);
    expect(armory.services.hub.disconnect(agentId)).toBe(true);
    const rest = await untilEnd(it, sent.runId, 90_000);
    expect(rest.at(-1)!.type).toBe("run_completed");
    const { events } = await caller.chat.history({ projectId, agentId, sessionId: sent.sessionId });
    const turn = events.filter((e) => e.runId === sent.runId) as unknown as ChatStreamEvent[];
    expect(contiguous(turn.map((e) => e.seq))).toBe(true);
    // Every delta once: the streamed text is the result's text exactly (a repeat would double a word).
    const result = turn.find((e) => e.type === "result")!.data as { result: string };
    expect(streamedText(turn)).toBe(result.result);
    expect(armory.services.hub.state(agentId)).toBe("connected");
  }, 120_000);

  it("ends a turn with one clear error when the daemon is killed, and the session goes on", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "slow, then the daemon dies [[delay=300]]" });
    const it = await stream(sent.sessionId);
    await untilTokens(it);
    // As the agent user (root in the container has no capabilities, so it may not signal it).
    await sh(containerId, "kill -KILL $(pgrep -x armoryd)");
    const ended = await untilEnd(it, sent.runId, 60_000);
    const terminal = ended.filter((e) => ["run_completed", "run_failed", "run_interrupted"].includes(e.type));
    expect(terminal).toHaveLength(1);
    expect(terminal[0]!.type).toBe("run_failed");
    expect((terminal[0]!.data as { reason: string }).reason).toMatch(/container_stopped|daemon_lost/);
    expect((terminal[0]!.data as { message: string }).message.length).toBeGreaterThan(20);
    // The daemon was the container's main process: the container stopped. Start it again; the
    // same conversation continues (resumed from the session volume).
    await caller.agent.start({ projectId, agentId });
    await current();
    const next = await caller.chat.send({ projectId, agentId, sessionId: sent.sessionId, message: "still here after the daemon died" });
    const after = await untilEnd(await stream(sent.sessionId, await lastSeq(sent.sessionId)), next.runId);
    expect(after.at(-1)!.type).toBe("run_completed");
  }, 180_000);

  it("leaves no Claude Code process behind when Armory restarts mid-turn, and chat works after", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "slow, then Armory restarts [[delay=300]]" });
    const it = await stream(sent.sessionId);
    await untilTokens(it);
    await it.return?.();
    await armory.restart();
    armory.services.startBackground();
    caller = await callerFor(armory.services, owner);
    await current();
    const { runs } = await caller.chat.history({ projectId, agentId, sessionId: sent.sessionId });
    expect(runs.find((r) => r.id === sent.runId)!.status).toBe("interrupted");
    // None but the agent's pre-warmed process the new Armory started for its next new conversation.
    await expect
      .poll(async () => {
        const pids = (await runExec(docker, containerId, { cmd: ["sh", "-c", "pgrep -x claude || true"] })).stdout.split("\n").filter(Boolean).map(Number);
        return pids.filter((p) => p !== armory.services.chat.prewarmedOf(agentId)?.pid);
      }, { timeout: 20_000 })
      .toEqual([]);
    const next = await caller.chat.send({ projectId, agentId, sessionId: sent.sessionId, message: "after Armory's restart" });
    const after = await untilEnd(await stream(sent.sessionId, await lastSeq(sent.sessionId)), next.runId);
    expect(after.at(-1)!.type).toBe("run_completed");
  }, 180_000);
});
