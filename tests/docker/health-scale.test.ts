// health.summary for 50 running agents: one call answers with every agent's health and live
// resources from the collector (no Docker calls per request).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { BreakableDockerSocket, docker, removeProjectDockerObjects } from "../support/docker";

const N = 50;

describe("health summary at scale", () => {
  let armory: TestArmory;
  let caller: Awaited<ReturnType<typeof callerFor>>;
  let projectId: string;
  const socket = new BreakableDockerSocket();

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    await socket.listen();
    armory = await startTestArmory(suiteDb("postgres"), {}, { docker: socket.client() });
    armory.services.startBackground();
    caller = await callerFor(armory.services, await signUp(armory.services));
    projectId = (await caller.project.create({ name: "Fleet" })).id;
    const templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    const names = Array.from({ length: N }, (_, i) => `fleet-${i}`);
    // A few at a time: two cores are shared with the engine.
    for (let i = 0; i < names.length; i += 5) {
      await Promise.all(
        names.slice(i, i + 5).map((name) =>
          caller.agent.create({ projectId, templateId, name, overrides: { memoryMb: 128, cpus: 0.1, pidsLimit: 64 }, start: true }),
        ),
      );
    }
  }, 600_000);

  afterAll(async () => {
    await armory?.close();
    await removeProjectDockerObjects(projectId);
    await socket.break();
  }, 120_000);

  it(`answers for ${N} running agents in one call, with resources for each`, async () => {
    // The collector samples every running agent about once a second.
    await expect
      .poll(async () => (await caller.health.summary()).agents.filter((a) => a.resources).length, { timeout: 60_000, interval: 500 })
      .toBe(N);

    // How fast it answers is a bench goal (health.summary with 1,000 agents in `npm run bench`),
    // not a timed assertion here.
    const summary = await caller.health.summary();
    expect(summary.agents).toHaveLength(N);
    expect(summary.totals).toMatchObject({ agents: N, running: N });
    for (const a of summary.agents) {
      expect(a.status).toBe("running");
      expect(a.resources!.memoryLimitMB).toBe(128);
      expect(a.uptimeSeconds).not.toBeNull();
    }
    expect(summary.totals.memoryLimitMB).toBe(128 * N);

    // Served from memory: with the engine unreachable the summary still answers at once.
    await socket.break();
    try {
      const offline = await caller.health.summary();
      expect(offline.agents).toHaveLength(N);
    } finally {
      await socket.restore();
    }
  }, 120_000);
});
