// A budget against real parts: the real Claude Code CLI in the real agent container, through
// Armory's model gateway, to the scripted demo model as the upstream. With an agent budget of a
// few tokens the first turn runs (nothing is used yet), and the second is refused by the gateway
// before it reaches the model: the CLI does not retry the refusal, and the turn ends with a
// persisted "budget reached" error; budget.reached is published once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProjectEvent } from "@/contracts/project-events";
import type { TestArmory } from "../support/armory";
import { startChatArmory, type Caller, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { chatStreams } from "../support/chat-stream";

describe("a budget of a few tokens stops the second turn (real CLI)", () => {
  let fixture: ChatArmory | undefined;
  let armory: TestArmory;
  let model: ChatArmory["model"];
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  const events: ProjectEvent[] = [];
  const { stream, untilEnd } = chatStreams(() => ({ caller, projectId, agentId }));

  beforeAll(async () => {
    fixture = await startChatArmory({ db: suiteDb("postgres"), name: "Budget" });
    ({ armory, model, caller, projectId } = fixture);
    armory.services.projectEvents.on((e) => events.push(e));
    agentId = (await caller.agent.create({ projectId, templateId: fixture.coderTemplateId, name: "frugal", overrides: { memoryMb: 1024 }, start: true })).id;
  }, 600_000);

  afterAll(async () => {
    await fixture?.close();
  });

  it("runs the first turn, refuses the second with budget reached, and announces it once", async () => {
    await caller.budget.set({ projectId, agentId, monthlyCostUsd: null, monthlyTokens: 10 });

    const first = await caller.chat.send({ projectId, agentId, message: "Hello, budget" });
    const firstEvents = await untilEnd(await stream(first.sessionId), first.runId, 90_000);
    expect(firstEvents.at(-1)).toMatchObject({ type: "run_completed" });
    const used = await caller.budget.get({ projectId, agentId });
    expect(used.used.tokens).toBeGreaterThan(10);
    expect(used.used.costUsd).toBeGreaterThan(0); // priced as claude-sonnet-4-5, the template's model
    const upstreamBefore = model.requests.length;

    const second = await caller.chat.send({ projectId, agentId, sessionId: first.sessionId, message: "A second turn" });
    const secondEvents = await untilEnd(await stream(first.sessionId, firstEvents.at(-1)!.seq), second.runId, 90_000);
    const end = secondEvents.at(-1)!;
    expect(end.type).toBe("run_failed");
    expect(end.data).toMatchObject({ reason: "budget_reached" });
    expect((end.data as { message: string }).message).toMatch(/^Armory budget reached: agent frugal used \d[\d,]* of its 10 monthly tokens\.$/);
    // The refusal never reached the model, and the CLI did not retry it.
    expect(model.requests.length).toBe(upstreamBefore);
    const run = await armory.services.db.prisma.chatRun.findUniqueOrThrow({ where: { id: second.runId } });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/budget reached/);

    const reached = events.filter((e) => e.type === "budget.reached");
    expect(reached).toHaveLength(1);
    expect(reached[0]).toMatchObject({ projectId, agentId, agentName: "frugal", scope: "agent", limit: "tokens", max: 10 });

    // A third turn is refused the same way and announced no more.
    const third = await caller.chat.send({ projectId, agentId, sessionId: first.sessionId, message: "A third turn" });
    const thirdEvents = await untilEnd(await stream(first.sessionId, secondEvents.at(-1)!.seq), third.runId, 90_000);
    expect(thirdEvents.at(-1)).toMatchObject({ type: "run_failed", data: { reason: "budget_reached" } });
    expect(events.filter((e) => e.type === "budget.reached")).toHaveLength(1);

    // The usage page's numbers: one agent, the first turn's cost, the budget.
    const summary = await caller.usage.summary({ projectId });
    expect(summary.agents).toHaveLength(1);
    expect(summary.agents[0]).toMatchObject({ agentId, budget: { monthlyTokens: 10, monthlyCostUsd: null }, priceUnknown: false });
    expect(summary.agents[0]!.costUsd).toBeCloseTo(used.used.costUsd, 12);
  }, 300_000);
});
