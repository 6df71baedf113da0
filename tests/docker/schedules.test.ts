// A schedule's runs with the real Claude Code CLI in a real agent container (answered by the demo
// model server as the upstream provider): the scheduler (driven by a hand-moved clock) sends the
// message, the run completes with the turn's cost and duration recorded, and the second run
// continues the same named session.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestArmory } from "../support/armory";
import { startChatArmory, type Caller, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { ManualScheduleClock } from "../support/schedules-clock";

describe("scheduled runs with the real CLI", () => {
  let fixture: ChatArmory | undefined;
  let armory: TestArmory;
  let caller: Caller;
  let projectId = "";
  let agentId: string;
  const clock = new ManualScheduleClock(new Date());

  beforeAll(async () => {
    fixture = await startChatArmory({ db: suiteDb("postgres"), name: "Scheduled runs", extra: { scheduleClock: clock } });
    ({ armory, caller, projectId } = fixture);
    armory.services.startBackground();
    agentId = (await caller.agent.create({ projectId, templateId: fixture.coderTemplateId, name: "cron-runner", overrides: { memoryMb: 1024 }, start: true })).id;
  }, 600_000);

  afterAll(async () => {
    await fixture?.close();
  });

  it("completes with cost and duration, and the second run continues the named session", async () => {
    const s = await caller.schedule.create({ projectId, agentId, name: "Journal", cron: "*/5 * * * *", message: "Hello from the schedule", session: "named", sessionName: "Journal" });
    const settle = () => armory.services.schedules.idle();
    await clock.advance(s.nextRunAt!, settle);
    const first = (await caller.schedule.runs({ projectId, scheduleId: s.id })).items;
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ status: "completed", reason: null, scheduledFor: s.nextRunAt });
    expect(first[0]!.costUsd).toBeGreaterThan(0);
    expect(first[0]!.durationMs).toBeGreaterThan(0);
    const chatRun = await armory.services.db.prisma.chatRun.findUniqueOrThrow({ where: { id: first[0]!.runId! } });
    expect(chatRun).toMatchObject({ status: "completed", userId: null, costUsd: first[0]!.costUsd, durationMs: first[0]!.durationMs });
    const firstAnswer = await armory.services.turns.outcomeOf(first[0]!.sessionId!, first[0]!.runId!);
    expect(firstAnswer.result).toContain('You said: "Hello from the schedule"');
    expect(firstAnswer.result).toContain("This is the first message of the conversation.");

    const next = (await caller.schedule.list({ projectId, agentId }))[0]!;
    expect(next.sessionId).toBe(first[0]!.sessionId);
    await clock.advance(next.nextRunAt!, settle);
    const runs = (await caller.schedule.runs({ projectId, scheduleId: s.id })).items;
    expect(runs).toHaveLength(2);
    const second = runs[0]!;
    expect(second).toMatchObject({ status: "completed", sessionId: first[0]!.sessionId });
    expect(second.costUsd).toBeGreaterThan(0);
    const secondAnswer = await armory.services.turns.outcomeOf(second.sessionId!, second.runId!);
    // The model saw the first run's message: the CLI resumed the same conversation.
    expect(secondAnswer.result).toContain("(2 messages from you so far)");
    expect(await armory.services.db.prisma.chatRun.count({ where: { sessionId: second.sessionId! } })).toBe(2);
    const session = await armory.services.db.prisma.chatSession.findUniqueOrThrow({ where: { id: second.sessionId! } });
    expect(session.title).toBe("Journal");
  }, 300_000);
});
