// Issue 13, item 7: a chat turn leaves lines in the agent's logs (the "armory" stream): its start
// (who, which session) and its end (outcome, time, tokens; the error when it failed), merged by
// time with the container's output, in logs.tail and live in logs.follow. Real parts: the agent
// container, the real Claude Code CLI, Armory's built-in demo model.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLineView } from "@/server/api/routers/logs/schemas";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { docker, nextMatching, removeProjectDockerObjects } from "../support/docker";

type Caller = Awaited<ReturnType<typeof callerFor>>;

describe("chat turns in the agent's logs (real Docker, real CLI, demo model)", () => {
  let armory: TestArmory;
  let caller: Caller;
  let projectId: string;
  let agentId: string;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("pglite"), { ARMORY_GATEWAY_PORT: "0" });
    caller = await callerFor(armory.services, await signUp(armory.services, { name: "Log Watcher" }));
    projectId = (await caller.project.create({ name: "Chat logs" })).id;
    const templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    agentId = (await caller.agent.create({ projectId, templateId, name: "talker", overrides: { memoryMb: 1024 }, start: true })).id;
  }, 600_000);

  afterAll(async () => {
    await armory?.close();
    await removeProjectDockerObjects(projectId);
  });

  it("a turn's start and end appear live in logs.follow and afterwards in logs.tail, in time order", async () => {
    const follow = ((await caller.logs.follow({ projectId, agentId, tail: 0 })) as AsyncIterable<LogLineView>)[Symbol.asyncIterator]();
    try {
      const sent = await caller.chat.send({ projectId, agentId, message: "Hello, logs" });
      const start = await nextMatching(follow, (l) => l.stream === "armory" && l.message.startsWith("chat turn started"), 30_000);
      expect(start.message).toContain("by Log Watcher");
      expect(start.message).toContain(`session ${sent.sessionId.slice(0, 8)}`);
      // Who and which session, never what was said.
      expect(start.message).not.toContain("Hello, logs");
      const end = await nextMatching(follow, (l) => l.stream === "armory" && l.message.startsWith("chat turn "), 120_000);
      expect(end.message).toMatch(/^chat turn completed in [\d.]+ m?s \(\d+ tokens in, \d+ out\)$/);
      expect(end.timestamp.getTime()).toBeGreaterThanOrEqual(start.timestamp.getTime());
    } finally {
      await follow.return?.();
    }

    const { lines } = await caller.logs.tail({ projectId, agentId, lines: 500 });
    const armoryLines = lines.filter((l) => l.stream === "armory");
    expect(armoryLines.map((l) => l.message.split(" ").slice(0, 3).join(" "))).toEqual(["chat turn started", "chat turn completed"]);
    const times = lines.map((l) => l.timestamp.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The container's own output is still there (armoryd's start-up lines).
    expect(lines.some((l) => l.stream === "stdout" || l.stream === "stderr")).toBe(true);
    // A short tail is the newest lines of both sources: the turn's end is the last Armory line.
    const short = (await caller.logs.tail({ projectId, agentId, lines: 1 })).lines;
    expect(short).toHaveLength(1);
    expect(short[0]!.timestamp.getTime()).toBeGreaterThanOrEqual(armoryLines[1]!.timestamp.getTime());
  }, 180_000);

  it("a failed turn says why, and follow's history carries earlier turns once", async () => {
    await caller.agent.stop({ projectId, agentId });
    const sent = await caller.chat.send({ projectId, agentId, message: "Are you there?" });
    const follow = ((await caller.logs.follow({ projectId, agentId, tail: 100 })) as AsyncIterable<LogLineView>)[Symbol.asyncIterator]();
    const seen: LogLineView[] = [];
    try {
      const failed = await nextMatching(
        follow,
        (l) => {
          seen.push(l);
          return l.stream === "armory" && l.message.startsWith("chat turn failed");
        },
        30_000,
      );
      expect(failed.message).toMatch(/is not running/);
    } finally {
      await follow.return?.();
    }
    const starts = seen.filter((l) => l.message.startsWith("chat turn started"));
    expect(starts.map((l) => l.message.includes(sent.sessionId.slice(0, 8)))).toEqual([false, true]);
  }, 60_000);
});
