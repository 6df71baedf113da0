// Versions, env and secrets against the real Docker engine: safe re-creates (image updates and
// env changes) that keep /workspace and the network, roll back on every kind of failure leaving
// the old container untouched, and secrets that reach the container's environment and nowhere else.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentImageTag, ensureAgentImage } from "@/server/runtime/docker/agent-image";
import type { UpdateStepEvent } from "@/server/versions/rollout";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { suiteDb } from "../support/databases";
import { docker, nextMatching, removeProjectDockerObjects } from "../support/docker";
import { buildTestImage, removeTestImages } from "../support/test-images";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;

const REPO = `armory-test-agent-8-${process.pid}`;
const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;
const UNHEALTHY = `${REPO}:unhealthy`;
const BROKEN_START = `${REPO}:broken-start`;
const LEAKY = `${REPO}:leaky`;
const TAGS = [V1, V2, UNHEALTHY, BROKEN_START, LEAKY];

async function execIn(containerId: string, cmd: string): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: ["sh", "-c", cmd], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const out = await new Promise<string>((resolve) => {
    let buf = "";
    stream.on("data", (d: Buffer) => (buf += d.toString("utf8")));
    stream.on("end", () => resolve(buf));
  });
  // Frame headers stripped crudely: the tests only look for substrings.
  return out.replace(/[\x00-\x08]/g, "");
}

describe("versions, env and secrets on a real Docker engine", () => {
  let armory: TestArmory;
  let owner: TestUser;
  let caller: Caller;
  let projectId: string;
  let templateId: string;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    const base = agentImageTag();
    await buildTestImage(docker, V1, `FROM ${base}\nLABEL dev.armory.test-version=v1\nUSER root\nRUN echo v1 > /etc/test-version\nUSER agent\n`);
    await buildTestImage(docker, V2, `FROM ${base}\nLABEL dev.armory.test-version=v2\nUSER root\nRUN echo v2 > /etc/test-version\nUSER agent\n`);
    // It runs, but its daemon never dials home (the command is not armoryd).
    await buildTestImage(docker, UNHEALTHY, `FROM ${base}\nCMD ["/bin/sleep", "infinity"]\n`);
    // The engine refuses to start it: the session-store mount point is a file.
    await buildTestImage(docker, BROKEN_START, `FROM ${base}\nUSER root\nRUN rm -rf /home/agent/.claude && echo file > /home/agent/.claude\nUSER agent\n`);

    // Prints a secret from its environment and exits: the error it causes must not carry the value.
    await buildTestImage(docker, LEAKY, `FROM ${base}\nCMD ["/bin/sh", "-c", "echo token=$LEAK_ME; exit 3"]\n`);

    armory = await startTestArmory(suiteDb("postgres"), { ARMORY_UPDATE_HEALTH_TIMEOUT_SECONDS: "4" });
    armory.services.agents.startBackground();
    owner = await signUp(armory.services, { name: "Version Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Versions" })).id;
    const coder = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!;
    templateId = (await caller.template.create({ projectId, copyFrom: coder.id, name: "test-agent", image: V1 })).id;
  }, 600_000);

  afterAll(async () => {
    await removeProjectDockerObjects(projectId);
    await armory?.close();
    await removeTestImages(docker, TAGS);
  });

  async function containerOf(agentId: string): Promise<string> {
    return (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
  }

  it("updates to another tag: /workspace kept, same network, same name, history and step stream", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "upgrader", start: true });
    const oldId = await containerOf(agent.id);
    await execIn(oldId, "echo kept > /workspace/before-update.txt");
    const oldInfo = await docker.getContainer(oldId).inspect();

    const versions = await caller.version.list({ projectId, agentId: agent.id });
    expect(versions.current).toBe(V1);
    expect(versions.versions.map((v) => v.image)).toEqual(expect.arrayContaining([V1, V2]));
    expect(versions.versions.find((v) => v.image === V2)).toMatchObject({ local: true, allowed: true, current: false });

    const stream = (await caller.version.onUpdate({ projectId, agentId: agent.id }))[Symbol.asyncIterator]() as AsyncIterator<UpdateStepEvent>;
    const seen: string[] = [];
    const done = nextMatching(stream, (e) => (seen.push(e.step), e.step === "done" || e.step === "rolled-back"), 60_000);
    const update = await caller.version.update({ projectId, agentId: agent.id, image: V2 });
    expect((await done).step).toBe("done");
    await stream.return?.();
    expect(seen).toEqual(["checking-image", "creating", "starting", "health-check", "switching", "done"]);

    expect(update).toMatchObject({ status: "succeeded", fromImage: V1, toImage: V2, kind: "image", byName: "Version Owner" });
    const newId = await containerOf(agent.id);
    expect(newId).not.toBe(oldId);
    await expect(docker.getContainer(oldId).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const info = await docker.getContainer(newId).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Config.Image).toBe(V2);
    expect(info.Config.Labels["dev.armory.test-version"]).toBe("v2");
    expect(info.Name).toBe(oldInfo.Name);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual(Object.keys(oldInfo.NetworkSettings.Networks));
    expect(await execIn(newId, "cat /workspace/before-update.txt /etc/test-version")).toMatch(/kept[\s\S]*v2/);

    const view = await caller.agent.get({ projectId, agentId: agent.id });
    expect(view).toMatchObject({ image: V2, version: "v2", observedState: "running", restartRequired: false });
    const history = await caller.version.history({ projectId, agentId: agent.id });
    expect(history[0]).toMatchObject({ id: update.id, status: "succeeded", fromImage: V1, toImage: V2, oldContainerId: oldId, newContainerId: newId });
    expect(history[0]!.steps.map((s) => s.step)).toEqual(seen);
    expect(history[0]!.durationMs).toBeGreaterThan(0);
  });

  it("rolls back when the new container never becomes healthy: old container untouched", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "unhealthy", start: true });
    const oldId = await containerOf(agent.id);
    const before = await docker.getContainer(oldId).inspect();
    await expectTrpcError(caller.version.update({ projectId, agentId: agent.id, image: UNHEALTHY }), "PRECONDITION_FAILED", /did not become healthy within 4 s/);
    expect(await containerOf(agent.id)).toBe(oldId);
    const after = await docker.getContainer(oldId).inspect();
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    expect(after.Name).toBe(before.Name);
    // No leftover: the agent has exactly one container.
    const all = await docker.listContainers({ all: true, filters: { label: [`dev.armory.agent-id=${agent.id}`] } });
    expect(all.map((c) => c.Id)).toEqual([oldId]);
    const [last] = await caller.version.history({ projectId, agentId: agent.id });
    expect(last).toMatchObject({ status: "rolled_back", toImage: UNHEALTHY, oldContainerId: oldId });
    // The container it tried is named in the history, and it is gone.
    expect(last!.newContainerId).toMatch(/^[0-9a-f]{64}$/);
    expect(last!.newContainerId).not.toBe(oldId);
    await expect(docker.getContainer(last!.newContainerId!).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(last!.error).toMatch(/did not become healthy/);
    expect(last!.steps.at(-1)!.step).toBe("rolled-back");
    expect((await caller.agent.get({ projectId, agentId: agent.id })).image).toBe(V1);
  });

  it("rolls back on a missing image, an engine error halfway, and refuses images outside the allowed ones", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "faults", start: true });
    const oldId = await containerOf(agent.id);
    const started = (await docker.getContainer(oldId).inspect()).State.StartedAt;

    await expectTrpcError(caller.version.update({ projectId, agentId: agent.id, image: `${REPO}:does-not-exist` }), "PRECONDITION_FAILED", /is not on the Docker engine/);
    await expectTrpcError(caller.version.update({ projectId, agentId: agent.id, image: BROKEN_START }), "BAD_GATEWAY", /Could not create the container for faults: the Docker engine said/);
    await expectTrpcError(caller.version.update({ projectId, agentId: agent.id, image: "busybox:latest" }), "FORBIDDEN", /not allowed/);

    const info = await docker.getContainer(oldId).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.State.StartedAt).toBe(started);
    expect(await containerOf(agent.id)).toBe(oldId);
    const all = await docker.listContainers({ all: true, filters: { label: [`dev.armory.agent-id=${agent.id}`] } });
    expect(all).toHaveLength(1);
    const history = await caller.version.history({ projectId, agentId: agent.id });
    expect(history.map((h) => h.status)).toEqual(["rolled_back", "rolled_back"]);
    // The missing image stopped it before any container was created.
    expect(history.at(-1)).toMatchObject({ oldContainerId: oldId, newContainerId: null, steps: [expect.objectContaining({ step: "checking-image" }), expect.objectContaining({ step: "rolled-back" })] });
  });

  it("a new container that exits early is reported with its last output, secrets masked", async () => {
    const leak = `leak-${crypto.randomUUID()}`;
    const agent = await caller.agent.create({ projectId, templateId, name: "leaky" });
    await caller.secret.agent.set({ projectId, agentId: agent.id, name: "LEAK_ME", value: leak });
    await caller.agent.start({ projectId, agentId: agent.id });
    const oldId = await containerOf(agent.id);
    const err = await expectTrpcError(caller.version.update({ projectId, agentId: agent.id, image: LEAKY }), "PRECONDITION_FAILED", /stopped before it became healthy \(exited with code 3\); its last output: token=••••••••/);
    expect(err.message).not.toContain(leak);
    const [last] = await caller.version.history({ projectId, agentId: agent.id });
    expect(JSON.stringify(last)).not.toContain(leak);
    expect(armory.logs.text).not.toContain(leak);
    expect(await containerOf(agent.id)).toBe(oldId);
    expect((await docker.getContainer(oldId).inspect()).State.Running).toBe(true);
  });

  it("refuses a second update of the same agent while one runs (never interleaves)", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "concurrent", start: true });
    // Both start at once; which one takes the agent first is up to the scheduler. Exactly one runs,
    // the other is refused with a sentence, and the agent ends with one container.
    const results = await Promise.allSettled([
      caller.version.update({ projectId, agentId: agent.id, image: V2 }),
      caller.version.update({ projectId, agentId: agent.id, image: V2 }),
    ]);
    const done = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(done).toHaveLength(1);
    expect(done[0]!.status).toBe("succeeded");
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toMatchObject({ code: "CONFLICT" });
    expect(String(refused[0]!.reason.message)).toMatch(/being updated right now/);
    const all = await docker.listContainers({ all: true, filters: { label: [`dev.armory.agent-id=${agent.id}`] } });
    expect(all).toHaveLength(1);
  });

  it("env.patch applies by re-creating: the change shows inside; bad names are refused; a bad env rolls back", async () => {
    const agent = await caller.agent.create({ projectId, templateId, name: "env-agent", start: true, overrides: { env: { KEEP: "1", DROP: "x" } } });
    const oldId = await containerOf(agent.id);
    const res = await caller.env.patch({ projectId, agentId: agent.id, set: { GREETING: "hello world" }, unset: ["DROP"] });
    expect(res.update).toMatchObject({ kind: "env", status: "succeeded", envKeys: ["DROP", "GREETING"] });
    const newId = await containerOf(agent.id);
    expect(newId).not.toBe(oldId);
    const out = await execIn(newId, 'echo "[$GREETING][$KEEP][${DROP-unset}]"');
    expect(out).toContain("[hello world][1][unset]");
    expect(res.entries.find((e) => e.key === "GREETING")).toMatchObject({ value: "hello world", secret: false });

    await expectTrpcError(caller.env.patch({ projectId, agentId: agent.id, set: { "1BAD-NAME": "x" } }), "BAD_REQUEST", /letters, digits and _/);
    await expectTrpcError(caller.env.patch({ projectId, agentId: agent.id, set: { ARMORY_AGENT_ID: "x" } }), "BAD_REQUEST", /reserved/);
    expect(await containerOf(agent.id)).toBe(newId);

    // An env the agent cannot work with (the Claude Code CLI is not on PATH: its daemon reports that) rolls back.
    await expectTrpcError(
      caller.env.patch({ projectId, agentId: agent.id, set: { PATH: "/nowhere" } }),
      "PRECONDITION_FAILED",
      /healthy/,
    );
    expect(await containerOf(agent.id)).toBe(newId);
    expect((await docker.getContainer(newId).inspect()).State.Running).toBe(true);
    const env = await caller.env.get({ projectId, agentId: agent.id });
    expect(env.entries.find((e) => e.key === "PATH")).toBeUndefined();
  });

  it("a secret reaches the container's environment and no API response, log line or database column", async () => {
    const projectValue = `proj-${crypto.randomUUID()}`;
    const agentValue = `agent-${crypto.randomUUID()}`;
    const agent = await caller.agent.create({ projectId, templateId, name: "secretive", overrides: { env: { API_TOKEN: "plain" } } });
    const responses: unknown[] = [];
    responses.push(await caller.secret.set({ projectId, name: "API_TOKEN", value: projectValue }));
    responses.push(await caller.secret.set({ projectId, name: "SHARED_ONLY", value: projectValue }));
    responses.push(await caller.secret.agent.set({ projectId, agentId: agent.id, name: "API_TOKEN", value: agentValue }));

    // Too large: a clear error, nothing stored, nothing changes.
    await expectTrpcError(caller.secret.set({ projectId, name: "HUGE", value: "x".repeat(40 * 1024) }), "BAD_REQUEST", /at most 32\.0 KiB; this one is 40\.0 KiB/);
    await expectTrpcError(caller.secret.set({ projectId, name: "bad name", value: "v" }), "BAD_REQUEST", /letters, digits and _/);

    // The container was made before the secrets: it needs a re-create to get them, and says so.
    expect((await caller.agent.get({ projectId, agentId: agent.id })).restartRequired).toBe(true);
    // Apply: an empty env patch re-creates the (stopped) agent's container with the current secrets.
    const created = await containerOf(agent.id);
    responses.push(await caller.env.patch({ projectId, agentId: agent.id, set: {}, unset: [] }));
    expect(await containerOf(agent.id)).not.toBe(created);
    expect((await caller.agent.get({ projectId, agentId: agent.id })).restartRequired).toBe(false);
    responses.push(await caller.agent.start({ projectId, agentId: agent.id }));
    const id = await containerOf(agent.id);
    const out = await execIn(id, 'echo "[$API_TOKEN][$SHARED_ONLY]"');
    expect(out).toContain(`[${agentValue}][${projectValue}]`); // the agent's secret overrides the project's
    const inspected = await docker.getContainer(id).inspect();
    expect(inspected.Config.Env).toContain(`API_TOKEN=${agentValue}`);
    // And again through a running re-create.
    responses.push(await caller.env.patch({ projectId, agentId: agent.id, set: {}, unset: [] }));
    expect(await execIn(await containerOf(agent.id), 'echo "[$API_TOKEN]"')).toContain(`[${agentValue}]`);

    responses.push(await caller.secret.list({ projectId }));
    responses.push(await caller.secret.agent.list({ projectId, agentId: agent.id }));
    responses.push(await caller.agent.get({ projectId, agentId: agent.id }));
    responses.push(await caller.agent.list({ projectId }));
    responses.push(await caller.env.get({ projectId, agentId: agent.id }));
    responses.push(await caller.version.history({ projectId, agentId: agent.id }));
    const text = JSON.stringify(responses);
    expect(text).not.toContain(projectValue);
    expect(text).not.toContain(agentValue);
    expect((await caller.agent.get({ projectId, agentId: agent.id })).env.API_TOKEN).toBe("••••••••");
    const envView = await caller.env.get({ projectId, agentId: agent.id });
    expect(envView.entries.find((e) => e.key === "API_TOKEN")).toMatchObject({ secret: true, source: "agent-secret", value: "••••••••" });
    expect(envView.entries.find((e) => e.key === "SHARED_ONLY")).toMatchObject({ secret: true, source: "project-secret" });
    expect((await caller.secret.list({ projectId })).map((s) => s.name)).toEqual(["API_TOKEN", "SHARED_ONLY"]);

    expect(armory.logs.text).not.toContain(projectValue);
    expect(armory.logs.text).not.toContain(agentValue);

    // No table holds either value in clear text (every column of every row, as text).
    const prisma = armory.services.db.prisma;
    const tables = await prisma.$queryRawUnsafe<{ table_name: string }[]>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    expect(tables.map((t) => t.table_name)).toContain("secret");
    for (const { table_name } of tables) {
      const rows = await prisma.$queryRawUnsafe<{ t: string | null }[]>(`SELECT string_agg(x::text, E'\\n') AS t FROM "${table_name}" x`);
      const dump = rows[0]?.t ?? "";
      expect(dump, table_name).not.toContain(projectValue);
      expect(dump, table_name).not.toContain(agentValue);
    }

    // The settings form sends the masked value back: the stored plain value stays.
    const shown = (await caller.agent.get({ projectId, agentId: agent.id })).env;
    await caller.agent.update({ projectId, agentId: agent.id, env: { ...shown, OTHER: "1" } });
    const stored = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
    expect(stored.env).toMatchObject({ API_TOKEN: "plain", OTHER: "1" });

    // Operators may look (env.get masks) but not change secrets, env or the image.
    const operator = await signUp(armory.services);
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: operator.id, role: "operator" } });
    const asOperator = await callerFor(armory.services, operator);
    expect(JSON.stringify(await asOperator.env.get({ projectId, agentId: agent.id }))).not.toContain(agentValue);
    await expectTrpcError(asOperator.secret.agent.set({ projectId, agentId: agent.id, name: "X", value: "y" }), "FORBIDDEN", /update_env/);
    await expectTrpcError(asOperator.secret.agent.list({ projectId, agentId: agent.id }), "FORBIDDEN");
    await expectTrpcError(asOperator.env.patch({ projectId, agentId: agent.id, set: { A: "b" } }), "FORBIDDEN", /update_env/);
    await expectTrpcError(asOperator.version.update({ projectId, agentId: agent.id, image: V2 }), "FORBIDDEN", /update_image/);

    await caller.secret.agent.delete({ projectId, agentId: agent.id, name: "API_TOKEN" });
    await expectTrpcError(caller.secret.agent.delete({ projectId, agentId: agent.id, name: "API_TOKEN" }), "NOT_FOUND", /Secret API_TOKEN not found/);
  });
});
