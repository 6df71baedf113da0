// The snapshot service's refusals and housekeeping that need no container (a real database, no
// Docker): the per-project byte limit (413), restore of another agent's snapshot (400) or of one
// still being written (409), unknown snapshots (404), and the start-up sweep that removes archive
// files no snapshot names any more (a deleted project's) while keeping the others.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { insertAgentRow } from "../support/trust";

describe("snapshot service without containers", () => {
  let armory: TestArmory;
  let dir = "";
  const orphanProject = crypto.randomUUID();
  const orphanId = crypto.randomUUID();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-snapshots-svc-"));
    fs.mkdirSync(path.join(dir, orphanProject), { mode: 0o700 });
    fs.writeFileSync(path.join(dir, orphanProject, `${orphanId}.tar.gz`), "left behind by a deleted project");
    fs.writeFileSync(path.join(dir, orphanProject, "notes.txt"), "not an archive: left alone");
    armory = await startTestArmory("pglite", { ARMORY_SNAPSHOT_DIR: dir, ARMORY_SNAPSHOT_MAX_PROJECT_MB: "1" });
  });
  afterAll(async () => {
    await armory?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("removes archives no snapshot names at start, keeps the rest", async () => {
    expect(fs.existsSync(path.join(dir, orphanProject, `${orphanId}.tar.gz`))).toBe(false);
    expect(fs.existsSync(path.join(dir, orphanProject, "notes.txt"))).toBe(true);
  });

  it("refuses over the byte limit (413), restores of others' or unfinished snapshots, unknown ones", async () => {
    const owner = await signUp(armory.services, { name: "Snap Owner" });
    const caller = await callerFor(armory.services, owner);
    const projectId = (await caller.project.create({ name: "Snapshot limits" })).id;
    const a = await insertAgentRow(armory.services, projectId, "snap-a");
    const b = await insertAgentRow(armory.services, projectId, "snap-b");
    const prisma = armory.services.db.prisma;
    const templateId = (await prisma.agent.findUniqueOrThrow({ where: { id: a.id } })).templateId;
    const config = { templateId, templateName: "t", model: "claude-sonnet-4-5", memoryMb: 512, cpus: 1, pidsLimit: 256, permissionMode: "default", env: {}, toolPolicy: null, approvalTimeoutSec: null };
    const big = await prisma.agentSnapshot.create({ data: { projectId, agentId: a.id, agentName: a.name, status: "ready", sizeBytes: BigInt(2 * 1024 * 1024), image: "armory-agent:test", config } });
    const file = armory.services.snapshots.fileOf(projectId, big.id);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, "kept: its row exists", { mode: 0o600 });

    await expect(caller.snapshot.create({ projectId, agentId: a.id })).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE", message: expect.stringMatching(/2\.0 MB of the 1\.0 MB allowed \(ARMORY_SNAPSHOT_MAX_PROJECT_MB\)/) });
    await expect(caller.snapshot.restore({ projectId, agentId: b.id, snapshotId: big.id })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/another agent: clone it/) });
    const unfinished = await prisma.agentSnapshot.create({ data: { projectId, agentId: b.id, agentName: b.name, image: "armory-agent:test", config } });
    await expect(caller.snapshot.restore({ projectId, agentId: b.id, snapshotId: unfinished.id })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/still being written/) });
    await expect(caller.snapshot.delete({ projectId, snapshotId: unfinished.id })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(caller.snapshot.delete({ projectId, snapshotId: crypto.randomUUID() })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.snapshot.clone({ projectId, snapshotId: crypto.randomUUID(), name: "nope" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.snapshot.create({ projectId, agentId: a.id, note: "x".repeat(501) })).rejects.toMatchObject({ code: "BAD_REQUEST" });

    // A restart: the unfinished one is marked failed, the kept archive stays.
    await armory.services.snapshots.recover();
    expect(fs.existsSync(file)).toBe(true);
    expect(await prisma.agentSnapshot.findUniqueOrThrow({ where: { id: unfinished.id } })).toMatchObject({ status: "failed", error: expect.stringMatching(/Armory stopped/) });
    const listed = await caller.snapshot.list({ projectId, agentId: a.id });
    expect(listed).toEqual([expect.objectContaining({ id: big.id, sizeBytes: 2 * 1024 * 1024, status: "ready", agentName: "snap-a" })]);
  });
});
