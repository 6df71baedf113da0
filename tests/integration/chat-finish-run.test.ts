// The end of a chat turn is recorded in one statement (ChatStore.finishRun): the run's status,
// error, times and usage, and the session's totals, atomically; only a run still running ends, so
// a second end (an interrupt racing the turn's own end) changes nothing. On both databases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp, callerFor, startTestArmory, type TestArmory } from "../support/armory";
import { DB_KINDS } from "../support/databases";
import { insertAgentRow } from "../support/trust";

describe.each(DB_KINDS)("chat: recording a turn's end (%s)", (kind) => {
  let armory: TestArmory;
  let projectId: string;
  let agentId: string;
  let userId: string;

  beforeAll(async () => {
    armory = await startTestArmory(kind);
    const owner = await signUp(armory.services, { name: "Run Owner" });
    userId = owner.id;
    projectId = (await (await callerFor(armory.services, owner)).project.create({ name: "Runs" })).id;
    agentId = (await insertAgentRow(armory.services, projectId, "runner")).id;
  }, 120_000);
  afterAll(async () => {
    await armory?.close();
  });

  it("ends the run once, with its usage added to the session's totals", async () => {
    const { store } = armory.services.chat;
    const { prisma } = armory.services.db;
    const session = await store.createSession({ projectId, agentId, title: "totals", userId });
    const usage = { inputTokens: 120, outputTokens: 45, cacheReadTokens: 7, cacheCreationTokens: 3, costUsd: 0.0125 };

    const first = await store.createRun({ sessionId: session.id, agentId, projectId, userId, message: "one", mode: "oneshot" });
    expect(await store.finishRun(first.id, { status: "completed", durationMs: 1234.6, firstTokenMs: 88.2, usage })).toBe(true);
    // A second end of the same run (e.g. an interrupt that lost the race) changes nothing.
    expect(await store.finishRun(first.id, { status: "interrupted", error: "Stopped by someone.", durationMs: 99, usage })).toBe(false);

    const second = await store.createRun({ sessionId: session.id, agentId, projectId, userId, message: "two", mode: "warm" });
    expect(await store.finishRun(second.id, { status: "failed", error: "The model failed: overloaded", durationMs: 10 })).toBe(true);

    const runs = await prisma.chatRun.findMany({ where: { sessionId: session.id }, orderBy: { startedAt: "asc" } });
    expect(runs[0]).toMatchObject({ status: "completed", error: null, durationMs: 1235, firstTokenMs: 88, inputTokens: 120, outputTokens: 45, costUsd: 0.0125 });
    expect(runs[0]!.endedAt).toBeInstanceOf(Date);
    expect(runs[1]).toMatchObject({ status: "failed", error: "The model failed: overloaded", durationMs: 10, firstTokenMs: null, inputTokens: 0, costUsd: 0 });

    const totals = await prisma.chatSession.findUniqueOrThrow({ where: { id: session.id } });
    expect(totals).toMatchObject({ turns: 2, inputTokens: 120, outputTokens: 45, cacheReadTokens: 7, cacheCreationTokens: 3 });
    expect(totals.costUsd).toBeCloseTo(0.0125, 10);
    expect(totals.updatedAt.getTime()).toBeGreaterThanOrEqual(session.updatedAt.getTime());
  });

  it("an unknown run ends nothing", async () => {
    expect(await armory.services.chat.store.finishRun(crypto.randomUUID(), { status: "completed", durationMs: 1 })).toBe(false);
  });
});
