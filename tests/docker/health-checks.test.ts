// Health checks against the real Docker engine: an agent whose health check keeps failing is
// reported unhealthy and restarted per its policy, with the reason in its activity; a restart
// done by someone else (a clean stop or a quick kill-and-start) is not taken for a crash.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SELF_HEAL } from "@/server/health/monitor";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { docker, nextMatching, removeProjectDockerObjects } from "../support/docker";
import { followStatus } from "../support/status";
import { sh } from "../support/agent-exec";

describe("agent health checks on a real Docker engine", () => {
  let armory: TestArmory;
  let caller: Awaited<ReturnType<typeof callerFor>>;
  let user: Awaited<ReturnType<typeof signUp>>;
  let projectId: string;
  let templateId: string;
  /** The self-heal monitor's clock: real time unless a test sets it. */
  let clockAt: number | null = null;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("pglite"), {}, {
      selfHeal: {
        unhealthyAfter: 2,
        // Only the checks this test asks for run.
        checkIntervalMs: 600_000,
        startGraceMs: 600_000,
        backoffBaseMs: 100,
      },
      healthClock: () => clockAt ?? Date.now(),
    });
    armory.services.startBackground();
    user = await signUp(armory.services);
    caller = await callerFor(armory.services, user);
    projectId = (await caller.project.create({ name: "Checks" })).id;
    templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
  }, 600_000);

  afterAll(async () => {
    // Armory first: its self-heal must not see the clean-up's kills.
    await armory?.close();
    await removeProjectDockerObjects(projectId);
  });

  const events = async (agentId: string) => (await followStatus(caller, projectId, agentId)).events;
  const activityKinds = async (agentId: string) => (await caller.health.agent({ projectId, agentId })).activity.map((a) => a.kind);

  it("reports an agent whose health check keeps failing as unhealthy and restarts it", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "silent", overrides: { memoryMb: 128 }, start: true });
    const monitor = armory.services.health.monitor;
    const hub = armory.services.hub;
    const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    await hub.waitFor(agent.id, { timeoutMs: 30_000, containerId: row.containerId! });
    await monitor.checkAgent(agent.id);
    expect((await caller.health.agent({ projectId, agentId: agent.id })).lastCheck).toMatchObject({ ok: true, message: expect.stringMatching(/armoryd answers/) });
    const stream = await events(agent.id);

    // The daemon freezes (SIGSTOP): its heartbeat stops and Armory closes the silent connection.
    await sh(row.containerId!, "kill -STOP $(pgrep -x armoryd)");
    const gone = await new Promise<string>((resolve) => {
      const off = hub.onState((i) => i.agentId === agent.id && i.state === "disconnected" && (off(), resolve(i.state)));
    });
    expect(gone).toBe("disconnected");
    await monitor.checkAgent(agent.id);
    let h = (await caller.health.agent({ projectId, agentId: agent.id })).agent;
    expect(h.health).toBe("starting"); // one failure is not yet unhealthy
    expect(h.healthDetail).toMatch(/daemon \(armoryd\) is not connected/);

    await monitor.checkAgent(agent.id);
    h = (await caller.health.agent({ projectId, agentId: agent.id })).agent;
    expect(h.health).toBe("unhealthy");
    const restarted = await nextMatching(stream, (e) => e.type === "agent" && e.agent.observedState === "running" && e.agent.startedAt! > agent.startedAt!, 20_000);
    expect(restarted.type).toBe("agent");
    await stream.return?.();
    await monitor.idle();

    const kinds = await activityKinds(agent.id);
    expect(kinds).toContain("unhealthy");
    expect(kinds).toContain("restarted");
    expect(kinds).not.toContain("crashed"); // the restart's own stop is not a crash
    const { activity } = await caller.health.agent({ projectId, agentId: agent.id });
    expect(activity.find((a) => a.kind === "restarted")!.message).toMatch(/health check failed 2 times/);
  }, 90_000);

  it("resets the restart count after two minutes of healthy running (the monitor's clock, no waiting)", async () => {
    expect(armory.services.health.monitor.settings.stableAfterMs).toBe(DEFAULT_SELF_HEAL.stableAfterMs);
    expect(DEFAULT_SELF_HEAL.stableAfterMs).toBe(120_000);
    const agent = await caller.agent.create({ projectId, templateId, name: "steady", overrides: { memoryMb: 128 }, start: true });
    const prisma = armory.services.db.prisma;
    const monitor = armory.services.health.monitor;
    const first = await prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    // A crash: self-heal restarts the agent once.
    const stream = await events(agent.id);
    await docker.getContainer(first.containerId!).kill();
    await nextMatching(stream, (e) => e.type === "agent" && e.agent.observedState === "running" && e.agent.startedAt! > agent.startedAt!, 20_000);
    await stream.return?.();
    await monitor.idle();
    const healed = await prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    expect(healed.autoRestartCount).toBe(1);
    expect(await activityKinds(agent.id)).toContain("restarted");
    await armory.services.hub.waitFor(agent.id, { timeoutMs: 30_000, containerId: healed.containerId! });
    const restartedAt = healed.lastAutoRestartAt!.getTime();
    const count = async () => (await caller.health.agent({ projectId, agentId: agent.id })).agent.autoRestartCount;
    try {
      // Healthy, 1 ms short of two minutes after the restart: the streak goes on.
      clockAt = restartedAt + 119_999;
      // (Checked until the restarted container's daemon has dialled home and the check passes.)
      await expect
        .poll(async () => {
          await monitor.checkAgent(agent.id);
          return (await caller.health.agent({ projectId, agentId: agent.id })).lastCheck?.ok;
        }, { timeout: 30_000, interval: 200 })
        .toBe(true);
      expect(await count()).toBe(1);
      // Two minutes of healthy running: the count is back to 0.
      clockAt = restartedAt + 120_000;
      await monitor.checkAgent(agent.id);
      expect(await count()).toBe(0);
    } finally {
      clockAt = null;
    }
  }, 90_000);

  it("does not take a restart done by someone else for a crash", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "bounced", overrides: { memoryMb: 128 }, start: true });
    const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    const stream = await events(agent.id);
    // Killed (exit 137) and started again at once, behind Armory's back.
    await docker.getContainer(row.containerId!).restart({ t: 0 });
    await nextMatching(stream, (e) => e.type === "agent" && e.agent.observedState === "running" && e.agent.startedAt! > agent.startedAt!, 20_000);
    // A person's restart through Armory: a clean stop (exit 0), then a start.
    await caller.agent.restart({ projectId, agentId: agent.id });
    await stream.return?.();
    await armory.services.health.monitor.idle();

    const kinds = await activityKinds(agent.id);
    expect(kinds).not.toContain("restarted"); // running again already: no second, automatic restart
    expect(kinds.filter((k) => k === "crashed").length).toBeLessThanOrEqual(1); // the kill at most, never Armory's own clean restart
    expect((await caller.health.agent({ projectId, agentId: agent.id })).agent.autoRestartCount).toBe(0);
  }, 60_000);

  it("heals a crash that happened while Armory was down, once, and records it once", async () => {
    const heal = await caller.agent.create({ projectId, templateId, name: "away-heal", overrides: { memoryMb: 128 }, start: true });
    const keep = await caller.agent.create({ projectId, templateId, name: "away-never", overrides: { memoryMb: 128 }, start: true });
    await caller.health.setRestartPolicy({ projectId, agentId: keep.id, policy: "never" });
    const containers = await armory.services.db.prisma.agent.findMany({ where: { id: { in: [heal.id, keep.id] } }, select: { containerId: true } });

    // Armory goes away; both containers crash meanwhile.
    await armory.services.health.monitor.stop();
    await armory.services.health.collector.stop();
    await armory.services.agents.stopBackground();
    for (const c of containers) await docker.getContainer(c.containerId!).kill();
    const services = await armory.restart();
    caller = await callerFor(services, user);
    const stream = await events(heal.id);
    services.startBackground();
    await nextMatching(stream, (e) => e.type === "agent" && e.agent.observedState === "running" && e.agent.startedAt! > heal.startedAt!, 30_000);
    await stream.return?.();
    await services.health.monitor.idle();
    expect((await activityKinds(heal.id)).sort()).toEqual(["crashed", "restarted"]);
    expect(await activityKinds(keep.id)).toEqual(["crashed", "policy"]);
    expect((await caller.health.agent({ projectId, agentId: keep.id })).agent.health).toBe("down");

    // Another reconcile (or another Armory start) does not record or heal the same crash again.
    await services.agents.reconcileAll();
    await services.health.monitor.idle();
    expect(await activityKinds(keep.id)).toEqual(["crashed", "policy"]);
    expect((await activityKinds(heal.id)).sort()).toEqual(["crashed", "restarted"]);
  }, 90_000);
});
