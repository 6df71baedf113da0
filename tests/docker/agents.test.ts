// Agent lifecycle against the real Docker engine: containers, their hardening, live status
// through the Docker events stream, things done behind Armory's back, and engine outages.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { LABELS } from "@/server/runtime/docker/containers";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { suiteDb } from "../support/databases";
import { BreakableDockerSocket, docker, nextMatching, removeProjectDockerObjects } from "../support/docker";
import { sh } from "../support/agent-exec";
import { agentEvent, followStatus } from "../support/status";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;

describe("agents on a real Docker engine", () => {
  let armory: TestArmory;
  let owner: TestUser;
  let caller: Caller;
  let projectId: string;
  let templateId: string;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("postgres"));
    armory.services.agents.startBackground();
    owner = await signUp(armory.services, { name: "Agent Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Agents" })).id;
    const templates = await caller.template.list({ projectId });
    templateId = templates.find((t) => t.name === "claude-coder")!.id;
  }, 600_000);

  afterAll(async () => {
    // Leave no containers or volumes behind, whatever failed.
    await removeProjectDockerObjects(projectId);
    await armory?.close();
  });

  it("creates a hardened, labelled container with the template's defaults merged with overrides", async () => {
    const agent = await caller.agent.create({
      projectId,
      templateId,
      name: "hardened",
      overrides: { memoryMb: 256, cpus: 0.5, pidsLimit: 128, env: { FOO: "bar" } },
      start: true,
    });
    expect(agent).toMatchObject({ name: "hardened", templateName: "claude-coder", desiredState: "running", observedState: "running" });
    const full = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    const info = await docker.getContainer(full.containerId!).inspect();

    expect(info.Config.Labels).toMatchObject({
      [LABELS.managed]: "true",
      [LABELS.agentId]: agent.id,
      [LABELS.projectId]: projectId,
      [LABELS.template]: "claude-coder",
      [LABELS.version]: agent.version,
    });
    expect(info.Config.User).toBe("1000:1000");
    expect(info.Config.Env).toContain("FOO=bar");
    const hc = info.HostConfig;
    expect(hc.Memory).toBe(256 * 1024 * 1024);
    expect(hc.MemorySwap).toBe(256 * 1024 * 1024);
    expect(hc.NanoCpus).toBe(0.5e9);
    expect(hc.PidsLimit).toBe(128);
    expect(hc.CapDrop).toEqual(["ALL"]);
    expect(hc.CapAdd ?? []).toEqual([]);
    expect(hc.SecurityOpt).toContain("no-new-privileges:true");
    expect(hc.Privileged).toBe(false);
    expect(hc.Init).toBe(true);
    const mounts = info.Mounts.map((m) => `${m.Name}:${m.Destination}`);
    expect(mounts).toContain(`${full.workspaceVolume}:/workspace`);
    expect(mounts).toContain(`${full.sessionVolume}:/home/agent/.claude`);
    expect(info.Mounts.some((m) => (m.Source ?? "").includes("docker.sock"))).toBe(false);

    // The process really runs as the agent user, and can write its volumes.
    const exec = await docker.getContainer(full.containerId!).exec({
      Cmd: ["sh", "-c", "id -u && touch /workspace/ok /home/agent/.claude/ok && echo writable"],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({});
    const out = await new Promise<string>((resolve) => {
      let buf = "";
      stream.on("data", (d: Buffer) => (buf += d.toString("utf8")));
      stream.on("end", () => resolve(buf));
    });
    expect(out).toMatch(/1000/);
    expect(out).toMatch(/writable/);
  });

  it("stops, starts and restarts; repeating a stop or a start is a harmless no-op", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "lifecycle", start: true });
    expect(agent.observedState).toBe("running");
    const stopped = await caller.agent.stop({ projectId, agentId: agent.id });
    expect(stopped).toMatchObject({ desiredState: "stopped", observedState: "exited" });
    expect(stopped.exitCode).toBe(0);
    expect((await caller.agent.stop({ projectId, agentId: agent.id })).observedState).toBe("exited");

    const started = await caller.agent.start({ projectId, agentId: agent.id });
    expect(started).toMatchObject({ desiredState: "running", observedState: "running" });
    const again = await caller.agent.start({ projectId, agentId: agent.id });
    expect(again.observedState).toBe("running");
    expect(again.startedAt).toEqual(started.startedAt);

    const restarted = await caller.agent.restart({ projectId, agentId: agent.id });
    expect(restarted.observedState).toBe("running");
    expect(restarted.startedAt!.getTime()).toBeGreaterThan(started.startedAt!.getTime());
  });

  it("follows changes made behind Armory's back through the events stream", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "behind-back", start: true });
    const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    const { engine, events } = await followStatus(caller, projectId, agent.id);
    expect(engine.state).toBe("up");

    await docker.getContainer(row.containerId!).kill();
    const killed = await nextMatching(events, agentEvent((a) => a.observedState === "exited", agent.id));
    expect(killed.type === "agent" && killed.agent.exitCode).toBe(137);

    await docker.getContainer(row.containerId!).remove({ force: true });
    const gone = await nextMatching(events, agentEvent((a) => a.observedState === "missing", agent.id));
    expect(gone.type === "agent" && gone.agent.statusDetail).toMatch(/removed outside Armory/);
    await events.return?.();

    // Starting it again re-creates the container on the same volumes.
    const back = await caller.agent.start({ projectId, agentId: agent.id });
    expect(back.observedState).toBe("running");
    const again = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    expect(again.containerId).not.toBe(row.containerId);
  });

  it("notices a container removed while no events were followed (reconcile)", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "reconciled" });
    const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    await armory.services.agents.stopBackground();
    try {
      await docker.getContainer(row.containerId!).remove({ force: true });
      const result = await armory.services.agents.reconcileAll();
      expect(result.missing).toBeGreaterThanOrEqual(1);
      expect((await caller.agent.get({ projectId, agentId: agent.id })).observedState).toBe("missing");
    } finally {
      armory.services.agents.startBackground();
    }
  });

  it("removes an agent with or without its volumes", async () => {
    const a = await caller.agent.create({ projectId, templateId, name: "remove-all", start: true });
    const rowA = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: a.id } });
    expect(await caller.agent.remove({ projectId, agentId: a.id, keepVolumes: false })).toEqual({ id: a.id, removed: true, volumesKept: false });
    await expect(docker.getContainer(rowA.containerId!).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(rowA.workspaceVolume).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expectTrpcError(caller.agent.get({ projectId, agentId: a.id }), "NOT_FOUND");

    const b = await caller.agent.create({ projectId, templateId, name: "remove-keep" });
    const rowB = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: b.id } });
    await caller.agent.remove({ projectId, agentId: b.id, keepVolumes: true });
    await expect(docker.getContainer(rowB.containerId!).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await docker.getVolume(rowB.workspaceVolume).inspect()).Name).toBe(rowB.workspaceVolume);
    await docker.getVolume(rowB.workspaceVolume).remove();
    await docker.getVolume(rowB.sessionVolume).remove();
  });

  it("deleting a project removes its agents' containers and volumes (nothing keeps running unowned)", async () => {
    const other = (await caller.project.create({ name: "Doomed" })).id;
    try {
      const agent = await caller.agent.create({ projectId: other, templateId, name: "doomed", start: true });
      const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
      await caller.project.delete({ projectId: other });
      const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.agentId}=${agent.id}`] } });
      expect(left).toEqual([]);
      const volumes = (await docker.listVolumes()).Volumes ?? [];
      expect(volumes.map((v) => v.Name)).not.toContain(row.workspaceVolume);
      expect(await armory.services.db.prisma.project.findUnique({ where: { id: other } })).toBeNull();
    } finally {
      await removeProjectDockerObjects(other);
    }
  });

  it("applies new limits to a running container and flags env changes for the next restart", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "updated", start: true });
    const updated = await caller.agent.update({ projectId, agentId: agent.id, memoryMb: 384, env: { ...agent.env, NEW_VAR: "1" } });
    expect(updated.memoryMb).toBe(384);
    expect(updated.restartRequired).toBe(true);
    const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    expect((await docker.getContainer(row.containerId!).inspect()).HostConfig.Memory).toBe(384 * 1024 * 1024);
    const restarted = await caller.agent.restart({ projectId, agentId: agent.id });
    expect(restarted.restartRequired).toBe(false);
    const row2 = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    expect((await docker.getContainer(row2.containerId!).inspect()).Config.Env).toContain("NEW_VAR=1");
  });

  it("mounts a template's volumes at their paths; their data survives a re-create; removal deletes them", async () => {
    const tpl = await caller.template.create({ projectId, copyFrom: templateId, name: "with-cache", volumes: [{ name: "cache", mountPath: "/var/cache/agent-data" }] });
    const agent = await caller.agent.create({ projectId, templateId: tpl.id, name: "cached", start: true });
    const rowOf = () => armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    const first = (await rowOf()).containerId!;
    const volume = `armory-cache-${agent.id}`;
    const mountOf = async (containerId: string) =>
      (await docker.getContainer(containerId).inspect()).Mounts.find((m) => m.Destination === "/var/cache/agent-data");
    expect(await mountOf(first)).toMatchObject({ Type: "volume", Name: volume, RW: true });
    // The image has no /var/cache/agent-data: the fresh volume was handed to the agent user, who writes there.
    expect(await sh(first, "stat -c %u:%a /var/cache/agent-data")).toBe("1000:755\n");
    await sh(first, "echo kept-across-recreate > /var/cache/agent-data/note.txt");

    // A safe re-create (env.patch): a new container, the same volume at the same path, the data still there.
    await armory.services.hub.waitFor(agent.id, { timeoutMs: 30_000, containerId: first });
    await caller.env.patch({ projectId, agentId: agent.id, set: { RECREATED: "1" } });
    const second = (await rowOf()).containerId!;
    expect(second).not.toBe(first);
    expect(await mountOf(second)).toMatchObject({ Type: "volume", Name: volume, RW: true });
    expect(await sh(second, "cat /var/cache/agent-data/note.txt")).toBe("kept-across-recreate\n");

    // Removing the agent with its volumes removes this one too.
    await caller.agent.remove({ projectId, agentId: agent.id, keepVolumes: false });
    await expect(docker.getVolume(volume).inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 120_000);

  it("answers bad input with clear 4xx errors and leaves nothing behind", async () => {
    await expectTrpcError(caller.agent.create({ projectId, templateId: crypto.randomUUID(), name: "x" }), "NOT_FOUND", /Template not found/);
    await expectTrpcError(caller.agent.create({ projectId, templateId, name: "Bad_Name" }), "BAD_REQUEST", /lower-case letters/);
    await expectTrpcError(caller.agent.create({ projectId, templateId, name: "a".repeat(41) }), "BAD_REQUEST", /at most 40/);
    await expectTrpcError(caller.agent.create({ projectId, templateId, name: "tiny", overrides: { memoryMb: 10 } }), "BAD_REQUEST", /at least 128 MB/);
    await expectTrpcError(caller.agent.create({ projectId, templateId, name: "huge", overrides: { cpus: 1000 } }), "BAD_REQUEST", /cpus must be at most/);
    await expectTrpcError(caller.agent.create({ projectId, templateId, name: "badenv", overrides: { env: { "1BAD": "x" } } }), "BAD_REQUEST", /Environment variable names/);
    await caller.agent.create({ projectId, templateId, name: "clash" });
    await expectTrpcError(caller.agent.create({ projectId, templateId, name: "clash" }), "CONFLICT", /already exists/);
    await expectTrpcError(caller.agent.start({ projectId, agentId: crypto.randomUUID() }), "NOT_FOUND", /Agent not found/);

    const custom = await caller.template.create({ projectId, copyFrom: templateId, name: "no-image", image: "armory-does-not-exist:1" });
    await expectTrpcError(caller.agent.create({ projectId, templateId: custom.id, name: "no-image" }), "PRECONDITION_FAILED", /not on the Docker engine/);
    expect(await armory.services.db.prisma.agent.count({ where: { projectId, name: { in: ["no-image", "tiny", "huge"] } } })).toBe(0);
  });

  it("refuses operators what only admins may do, and anonymous callers everything", async () => {
    const operatorUser = await signUp(armory.services, { name: "Operator" });
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: operatorUser.id, role: "operator" } });
    const operator = await callerFor(armory.services, operatorUser);
    const agent = await caller.agent.create({ projectId, templateId, name: "roles" });
    expect((await operator.agent.start({ projectId, agentId: agent.id })).observedState).toBe("running");
    await expectTrpcError(operator.agent.create({ projectId, templateId, name: "nope" }), "FORBIDDEN", /admin role/);
    await expectTrpcError(operator.agent.remove({ projectId, agentId: agent.id, keepVolumes: false }), "FORBIDDEN");
    const anon = await callerFor(armory.services, null);
    await expectTrpcError(anon.agent.list({ projectId }), "UNAUTHORIZED");
  });
});

describe("Docker engine outage", () => {
  let armory: TestArmory;
  let proxy: BreakableDockerSocket;
  let caller: Caller;
  let projectId: string;
  let templateId: string;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    proxy = new BreakableDockerSocket();
    await proxy.listen();
    armory = await startTestArmory(suiteDb("pglite"), {}, { docker: proxy.client() });
    const user = await signUp(armory.services);
    caller = await callerFor(armory.services, user);
    projectId = (await caller.project.create({ name: "Outage" })).id;
    templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
  }, 600_000);

  afterAll(async () => {
    await proxy?.restore().catch(() => {});
    await removeProjectDockerObjects(projectId);
    await armory?.close();
    await proxy?.break();
  });

  it("shows the engine as down, refuses operations clearly, and recovers when it is back", async () => {
    armory.services.agents.startBackground();
    const agent = await caller.agent.create({ projectId, templateId, name: "survivor", start: true });
    const { engine, events } = await followStatus(caller, projectId);
    // The events follower may still be connecting right after startBackground.
    if (engine.state !== "up") await nextMatching(events, (e) => e.type === "engine" && e.engine.state === "up");

    await proxy.break();
    const down = await nextMatching(events, (e) => e.type === "engine" && e.engine.state === "down");
    expect(down.type === "engine" && down.engine.message).toBeTruthy();
    await expectTrpcError(caller.agent.stop({ projectId, agentId: agent.id }), "PRECONDITION_FAILED", /Docker engine is not reachable/);
    // Reading still works from the database.
    expect((await caller.agent.list({ projectId })).map((a) => a.name)).toContain("survivor");

    // While the engine is "away", the container is killed; after reconnecting Armory notices.
    const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    await docker.getContainer(row.containerId!).kill();

    await proxy.restore();
    await nextMatching(events, (e) => e.type === "engine" && e.engine.state === "up", 20_000);
    await nextMatching(events, agentEvent((a) => a.observedState === "exited", agent.id), 20_000);
    expect((await caller.agent.start({ projectId, agentId: agent.id })).observedState).toBe("running");
    await events.return?.();
  });
});
