// Notifications from real sources: a chat turn of the real Claude Code CLI in a real agent
// container (against the demo model) reaches a webhook receiver as turn.finished, and killing the
// agent's container (its main process, SIGKILL: exit 137 while it should run) sends agent.crashed.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoModelServer, type DemoModelServer } from "@/server/gateway/demo-model";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { docker, removeProjectDockerObjects } from "../support/docker";

describe("notifications from real turns and a real crash", () => {
  let armory: TestArmory;
  let model: DemoModelServer;
  let caller: Awaited<ReturnType<typeof callerFor>>;
  let projectId: string;
  let agentId: string;
  const received: Record<string, unknown>[] = [];
  let server: http.Server;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    model = await startDemoModelServer();
    armory = await startTestArmory(suiteDb("pglite"), {
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: "sk-upstream-test-key",
      ARMORY_GATEWAY_PORT: "0",
      ARMORY_WEBHOOKS_ALLOW_PRIVATE: "true",
    });
    armory.services.startBackground();
    const owner = await signUp(armory.services, { name: "Notify Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Notify" })).id;
    await caller.secret.set({ projectId, name: "HOOK_KEY", value: "docker-test-signing-key" });
    await caller.notification.create({
      projectId,
      name: "receiver",
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
      format: "armory",
      secretName: "HOOK_KEY",
      events: ["turn.finished", "turn.failed", "agent.crashed"],
    });
    const templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    agentId = (await caller.agent.create({ projectId, templateId, name: "notifier", overrides: { memoryMb: 1024 }, start: true })).id;
  }, 600_000);

  afterAll(async () => {
    await armory?.close();
    await removeProjectDockerObjects(projectId);
    await model?.close();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it("sends turn.finished when a real chat turn completes", async () => {
    const sent = await caller.chat.send({ projectId, agentId, message: "Hello from the notifications test" });
    await expect.poll(() => received.filter((r) => r.type === "turn.finished").length, { timeout: 120_000, interval: 250 }).toBe(1);
    const event = received.find((r) => r.type === "turn.finished")!;
    expect(event).toMatchObject({
      project: { id: projectId, name: "Notify" },
      agent: { id: agentId, name: "notifier" },
      sessionId: sent.sessionId,
      runId: sent.runId,
      path: `/projects/${projectId}/agents/${agentId}?session=${sent.sessionId}`,
    });
    expect(String(event.result)).toContain("Hello from the notifications test");
    expect(event.durationMs).toBeGreaterThan(0);
    const run = await armory.services.db.prisma.chatRun.findUniqueOrThrow({ where: { id: sent.runId } });
    expect(run.status).toBe("completed");
  }, 150_000);

  it("sends agent.crashed when the agent's container is killed while it should run", async () => {
    await caller.health.setRestartPolicy({ projectId, agentId, policy: "never" });
    const { containerId } = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } });
    await docker.getContainer(containerId!).kill();
    await expect.poll(() => received.filter((r) => r.type === "agent.crashed").length, { timeout: 30_000, interval: 250 }).toBe(1);
    const event = received.find((r) => r.type === "agent.crashed")!;
    expect(event).toMatchObject({ agent: { id: agentId, name: "notifier" }, oomKilled: false, exitCode: 137, path: `/projects/${projectId}/agents/${agentId}` });
    expect(String(event.detail)).not.toBe("");
    // Once per crash: later status events of the same stopped container send nothing more.
    await armory.services.notifications.idle();
    expect(received.filter((r) => r.type === "agent.crashed")).toHaveLength(1);
  }, 60_000);
});
