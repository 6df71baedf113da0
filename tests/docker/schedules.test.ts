// A schedule's runs with the real Claude Code CLI in a real agent container (answered by the demo
// model server as the upstream provider): the scheduler (driven by a hand-moved clock) sends the
// message, the run completes with the turn's cost and duration recorded, and the second run
// continues the same named session.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoModelServer, type DemoModelServer } from "@/server/gateway/demo-model";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { docker, removeProjectDockerObjects } from "../support/docker";
import { ManualScheduleClock } from "../support/schedules-clock";

describe("scheduled runs with the real CLI", () => {
  let armory: TestArmory;
  let model: DemoModelServer;
  let caller: Awaited<ReturnType<typeof callerFor>>;
  let projectId = "";
  let agentId: string;
  const clock = new ManualScheduleClock(new Date());

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    model = await startDemoModelServer();
    armory = await startTestArmory(
      "postgres",
      { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "sk-upstream-test-key", ARMORY_GATEWAY_PORT: "0" },
      { scheduleClock: clock },
    );
    armory.services.startBackground();
    const owner = await signUp(armory.services, { name: "Schedule Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Scheduled runs" })).id;
    const templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    agentId = (await caller.agent.create({ projectId, templateId, name: "cron-runner", overrides: { memoryMb: 1024 }, start: true })).id;
  }, 600_000);

  afterAll(async () => {
    await armory?.close();
    if (projectId) await removeProjectDockerObjects(projectId);
    await model?.close();
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
