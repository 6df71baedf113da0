// Health, resources and self-heal against the real Docker engine: live stats move with real
// load, OOM kills show as OOM and follow the restart policy, crash loops are reported, and the
// agent's activity log says what happened and why.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResourceSampleView } from "@/server/api/routers/health/schemas";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { suiteDb } from "../support/databases";
import { execIn, oomScript } from "../support/agent-exec";
import { docker, nextMatching, removeProjectDockerObjects } from "../support/docker";
import { agentEvent, followStatus } from "../support/status";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;

const OOM_SCRIPT = oomScript();

describe("agent health and self-heal on a real Docker engine", () => {
  let armory: TestArmory;
  let owner: TestUser;
  let caller: Caller;
  let projectId: string;
  let templateId: string;

  const containerOf = async (agentId: string) =>
    (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;

  const statusEvents = async (agentId: string) => (await followStatus(caller, projectId, agentId)).events;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("postgres"), {}, {
      selfHeal: {
        checkIntervalMs: 60_000, // tests run checks themselves (checkAll)
        startGraceMs: 0,
        backoffBaseMs: 200,
        backoffMaxMs: 800,
        maxRestarts: 3,
        crashLoopAfter: 2,
        stableAfterMs: 60_000,
        settleMs: 200,
      },
    });
    armory.services.startBackground();
    owner = await signUp(armory.services, { name: "Health Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Health" })).id;
    templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
  }, 600_000);

  afterAll(async () => {
    // Armory first: its self-heal must not see the clean-up's kills.
    await armory?.close();
    await removeProjectDockerObjects(projectId);
  });

  it("streams resource samples that move when the agent burns CPU and allocates memory", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "busy", overrides: { memoryMb: 256, cpus: 1 }, start: true });
    const cid = await containerOf(agent.id);
    const samples = (await caller.health.statsStream({ projectId, agentId: agent.id })) as AsyncIterable<ResourceSampleView>;
    const it = samples[Symbol.asyncIterator]();
    const first = await nextMatching(it, () => true);
    expect(first.memoryLimitMB).toBe(256);
    expect(first.pids).toBeGreaterThanOrEqual(2);
    const idleMemory = first.memoryUsageMB;

    await execIn(cid, "timeout 12 bash -c 'while :; do :; done'", true);
    // Well above idle (0%) even when the machine's two cores are shared with other work.
    const busy = await nextMatching(it, (s) => s.cpuPercent > 20, 15_000);
    expect(busy.cpuPercent).toBeLessThanOrEqual(110); // limited to one CPU

    await execIn(cid, `x=$(head -c 80m /dev/zero | tr "\\0" a); sleep 8`, true);
    const full = await nextMatching(it, (s) => s.memoryUsageMB > idleMemory + 60, 15_000);
    expect(full.memoryUsageMB).toBeLessThan(256);
    await it.return?.();

    // The snapshot and the summary answer from the collector's memory.
    const snap = await caller.health.stats({ projectId, agentId: agent.id });
    expect(snap.running).toBe(true);
    expect(snap.sample).not.toBeNull();
    await armory.services.health.monitor.checkAll();
    const summary = await caller.health.summary();
    const row = summary.agents.find((a) => a.id === agent.id)!;
    expect(row).toMatchObject({ status: "running", health: "healthy", projectName: "Health", templateName: "claude-coder" });
    expect(row.resources?.memoryLimitMB).toBe(256);
    expect(row.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(summary.totals.running).toBeGreaterThanOrEqual(1);

    // The summary's row is slim; the agent's full view has the rest.
    const detail = await caller.health.agent({ projectId, agentId: agent.id, samples: 1000 });
    expect(detail.agent.labels["dev.armory.agent-id"]).toBe(agent.id);
    expect(detail.agent).toMatchObject({ status: "running", health: "healthy", memoryMb: 256, oomKilled: false });
    expect(detail.samples.length).toBeGreaterThanOrEqual(3);
    expect(detail.lastCheck).toMatchObject({ ok: true });
  }, 90_000);

  it("shows a memory-limit kill as OOM; with policy never the agent stays down", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "oom-never", overrides: { memoryMb: 128 }, start: true });
    await caller.health.setRestartPolicy({ projectId, agentId: agent.id, policy: "never" });
    const events = await statusEvents(agent.id);
    await execIn(await containerOf(agent.id), OOM_SCRIPT);
    const dead = await nextMatching(events, agentEvent((a) => a.observedState === "exited"), 30_000);
    await events.return?.();
    expect(dead.type === "agent" && dead.agent).toMatchObject({ oomKilled: true, exitCode: 137 });
    expect(dead.type === "agent" && dead.agent.statusDetail).toMatch(/out of memory/);

    const row = (await caller.health.summary({ projectId })).agents.find((a) => a.id === agent.id)!;
    expect(row).toMatchObject({ health: "oom", resources: null });
    expect(row.healthDetail).toMatch(/out of memory/i);
    expect((await caller.health.agent({ projectId, agentId: agent.id })).agent).toMatchObject({ health: "oom", oomKilled: true, restartPolicy: "never" });
    // The crash is in the activity log (recorded asynchronously by the monitor: wait for it on the bus-driven path).
    await expect.poll(async () => (await caller.health.agent({ projectId, agentId: agent.id })).activity.map((a) => a.kind), { timeout: 5000 }).toContain("oom");
    const detail = await caller.health.agent({ projectId, agentId: agent.id });
    expect(detail.activity.map((a) => a.kind)).not.toContain("restarted");
  }, 90_000);

  it("restarts an OOM-killed agent per its on-failure policy and records why", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "oom-heal", overrides: { memoryMb: 128 }, start: true });
    const before = (await caller.agent.get({ projectId, agentId: agent.id })).startedAt!;
    const events = await statusEvents(agent.id);
    await execIn(await containerOf(agent.id), OOM_SCRIPT);
    await nextMatching(events, agentEvent((a) => a.observedState === "exited" && a.oomKilled), 30_000);
    const back = await nextMatching(events, agentEvent((a) => a.observedState === "running"), 30_000);
    await events.return?.();
    expect(back.type === "agent" && back.agent.startedAt!.getTime()).toBeGreaterThan(before.getTime());

    await expect
      .poll(async () => (await caller.health.agent({ projectId, agentId: agent.id })).activity.map((a) => a.kind), { timeout: 5000 })
      .toContain("restarted");
    const { activity, agent: health } = await caller.health.agent({ projectId, agentId: agent.id });
    expect(activity.find((a) => a.kind === "oom")?.message).toMatch(/Out of memory/);
    expect(activity.find((a) => a.kind === "restarted")?.message).toMatch(/attempt 1 of 3.*out of memory/);
    expect(health.autoRestartCount).toBe(1);
  }, 90_000);

  it("reports a crash loop and gives up after the cap, backing off between restarts", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "looper", start: true });
    const events = await statusEvents(agent.id);
    for (let i = 0; i < 4; i++) {
      const cid = await containerOf(agent.id);
      await docker.getContainer(cid).kill();
      await nextMatching(events, agentEvent((a) => a.observedState === "exited"), 15_000);
      if (i === 3) break;
      await nextMatching(events, agentEvent((a) => a.observedState === "running"), 15_000);
    }
    await events.return?.();
    await expect
      .poll(async () => (await caller.health.agent({ projectId, agentId: agent.id })).activity.map((a) => a.kind), { timeout: 5000 })
      .toContain("gave-up");
    const { agent: health, activity } = await caller.health.agent({ projectId, agentId: agent.id });
    expect(health.health).toBe("crash-loop");
    expect(health.healthDetail).toMatch(/stopped retrying/);
    expect(activity.map((a) => a.kind)).toContain("crash-loop");
    expect(activity.filter((a) => a.kind === "restarted")).toHaveLength(3);
    // Each automatic restart waited twice as long as the one before (200, 400, 800 ms here).
    const waits = await armory.services.db.prisma.agentActivity.findMany({ where: { agentId: agent.id, kind: "restarted" }, orderBy: { createdAt: "asc" } });
    expect(waits.map((w) => (w.data as { backoffMs: number }).backoffMs)).toEqual([200, 400, 800]);
  }, 90_000);

  it("checks permissions and input", async () => {
    const viewer = await signUp(armory.services, { name: "Outsider" });
    const outsider = await callerFor(armory.services, viewer);
    const agentId = (await caller.agent.list({ projectId }))[0]!.id;
    await expectTrpcError(outsider.health.stats({ projectId, agentId }), "FORBIDDEN");
    expect((await outsider.health.summary()).agents).toHaveLength(0);
    await expectTrpcError(caller.health.stats({ projectId, agentId: crypto.randomUUID() }), "NOT_FOUND");
    await expectTrpcError(caller.logs.tail({ projectId, agentId, lines: 0 }), "BAD_REQUEST", /at least 1/);
  });
});
