// Secrets at rest: AES-256-GCM round trips and tamper detection, the generated master key (file
// mode 0600, reused by later starts), rotation re-encrypting everything, project-admin
// permissions, and size/name limits — on a real database.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@/server/config";
import { createLogger } from "@/server/logger";
import { decryptSecret, encryptSecret, generateMasterKey, parseMasterKey, resolveMasterKey } from "@/server/secrets/crypto";
import { rotateMasterKey } from "@/server/secrets/rotate";
import { SecretStore } from "@/server/secrets/store";
import { callerFor, LogCapture, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { DB_KINDS } from "../support/databases";
import { expectTrpcError } from "../support/trpc-errors";

describe("secret encryption", () => {
  it("round-trips, uses a fresh IV each time, and detects tampering or a moved ciphertext", () => {
    const { key } = generateMasterKey();
    const a = encryptSecret(key, "s3cret value ✓", "p/project/A");
    const b = encryptSecret(key, "s3cret value ✓", "p/project/A");
    expect(a).not.toBe(b);
    expect(a).not.toContain("s3cret");
    expect(decryptSecret(key, a, "p/project/A")).toBe("s3cret value ✓");
    expect(() => decryptSecret(key, a, "p/project/B")).toThrow();
    const raw = Buffer.from(a, "base64url");
    raw[raw.length - 1]! ^= 1;
    expect(() => decryptSecret(key, raw.toString("base64url"), "p/project/A")).toThrow();
    expect(() => decryptSecret(generateMasterKey().key, a, "p/project/A")).toThrow();
  });

  it("accepts hex and base64 keys and rejects others in the config, without echoing them", () => {
    const hex = "ab".repeat(32);
    expect(parseMasterKey(hex)?.key.length).toBe(32);
    expect(parseMasterKey(Buffer.alloc(32, 7).toString("base64"))?.key.length).toBe(32);
    expect(parseMasterKey("short")).toBeNull();
    expect(loadConfig({ ARMORY_SECRET_KEY: hex }).secretKey).toBe(hex);
    expect(() => loadConfig({ ARMORY_SECRET_KEY: "not-a-key-value" })).toThrow(/ARMORY_SECRET_KEY: must be 32 random bytes/);
    try {
      loadConfig({ ARMORY_SECRET_KEY: "not-a-key-value" });
    } catch (err) {
      expect((err as Error).message).not.toContain("not-a-key-value");
    }
  });

  it("generates one key into the data directory (mode 0600, with a warning) and reuses it", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-keys-"));
    const logs = new LogCapture();
    const log = createLogger({ level: "info", format: "json", destination: logs });
    try {
      const keys = Array.from({ length: 3 }, () => resolveMasterKey({ secretKey: undefined, dataDir, databaseUrl: undefined }, log));
      expect(new Set(keys.map((k) => k.id)).size).toBe(1);
      const file = path.join(dataDir, "secret-key");
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(logs.text).toMatch(/ARMORY_SECRET_KEY is not set: generated a secret-encryption key/);
      expect(logs.text).not.toContain(fs.readFileSync(file, "utf8").trim());
      expect(resolveMasterKey({ secretKey: undefined, dataDir, databaseUrl: undefined }, log).id).toBe(keys[0]!.id);
      expect(fs.readdirSync(dataDir)).toEqual(["secret-key"]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.each(DB_KINDS)("secret store and secret.* on %s", (kind) => {
  let armory: TestArmory;
  beforeAll(async () => {
    armory = await startTestArmory(kind, { ARMORY_SECRET_KEY: "cd".repeat(32) });
  });
  afterAll(async () => {
    await armory?.close();
  });

  it("project secrets: admins set, list (names only) and delete; viewers, operators and outsiders cannot", async () => {
    const owner = await signUp(armory.services);
    const caller = await callerFor(armory.services, owner);
    const projectId = (await caller.project.create({ name: "Secrets" })).id;
    const info = await caller.secret.set({ projectId, name: "DB_PASSWORD", value: "hunter2-and-more" });
    expect(info).toEqual({ name: "DB_PASSWORD", scope: "project", agentId: null, sizeBytes: 16, createdAt: expect.any(Date), updatedAt: expect.any(Date) });
    expect(JSON.stringify(await caller.secret.list({ projectId }))).not.toContain("hunter2");
    await caller.secret.set({ projectId, name: "DB_PASSWORD", value: "replaced" });
    expect((await caller.secret.list({ projectId })).map((s) => [s.name, s.sizeBytes])).toEqual([["DB_PASSWORD", 8]]);

    // Project secrets are for project admins (README): a viewer and an operator are both refused.
    const viewer = await signUp(armory.services);
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: viewer.id, role: "viewer" } });
    const asViewer = await callerFor(armory.services, viewer);
    const operator = await signUp(armory.services);
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: operator.id, role: "operator" } });
    const asOperator = await callerFor(armory.services, operator);
    for (const member of [asViewer, asOperator]) {
      // Members of the project (they may read it), yet not its secrets.
      expect((await member.project.list()).map((p) => p.id)).toContain(projectId);
      await expectTrpcError(member.secret.list({ projectId }), "FORBIDDEN");
      await expectTrpcError(member.secret.set({ projectId, name: "X", value: "y" }), "FORBIDDEN");
      await expectTrpcError(member.secret.delete({ projectId, name: "DB_PASSWORD" }), "FORBIDDEN");
    }
    expect((await caller.secret.list({ projectId })).map((s) => s.name)).toEqual(["DB_PASSWORD"]);
    const outsider = await callerFor(armory.services, await signUp(armory.services));
    await expectTrpcError(outsider.secret.delete({ projectId, name: "DB_PASSWORD" }), "FORBIDDEN");

    await expectTrpcError(caller.secret.set({ projectId, name: "ARMORY_AGENT_ID", value: "x" }), "BAD_REQUEST", /reserved/);
    await expectTrpcError(caller.secret.set({ projectId, name: "EMPTY", value: "" }), "BAD_REQUEST", /must not be empty/);
    await expectTrpcError(caller.secret.set({ projectId, name: "BIG", value: "é".repeat(20_000) }), "BAD_REQUEST", /at most 32\.0 KiB; this one is 39\.1 KiB/);
    await caller.secret.delete({ projectId, name: "DB_PASSWORD" });
    expect(await caller.secret.list({ projectId })).toEqual([]);
  });

  it("rotation re-encrypts every secret; the old key no longer decrypts, a wrong key is named", async () => {
    const owner = await signUp(armory.services);
    const caller = await callerFor(armory.services, owner);
    const projectId = (await caller.project.create({ name: "Rotation" })).id;
    await caller.secret.set({ projectId, name: "ONE", value: "first-value" });
    await caller.secret.set({ projectId, name: "TWO", value: "second-value" });
    const prisma = armory.services.db.prisma;
    const before = await prisma.secret.findMany({ where: { projectId }, orderBy: { name: "asc" } });
    const oldKey = parseMasterKey("cd".repeat(32))!;
    const next = generateMasterKey();
    const config = { secretKey: "cd".repeat(32), dataDir: "unused", databaseUrl: "postgres://unused" };
    const result = await rotateMasterKey({ prisma, config, log: armory.services.log, next });
    expect(result.reencrypted).toBeGreaterThanOrEqual(2);
    expect(result.keyFile).toBeNull();
    const after = await prisma.secret.findMany({ where: { projectId }, orderBy: { name: "asc" } });
    expect(after.map((r) => r.keyId)).toEqual([next.key.id, next.key.id]);
    expect(after[0]!.ciphertext).not.toBe(before[0]!.ciphertext);

    const fresh = new SecretStore(prisma, next.key);
    // envFor needs an agent id; project secrets apply to every agent.
    expect(await fresh.envFor(projectId, "00000000-0000-4000-8000-000000000000")).toEqual({ ONE: "first-value", TWO: "second-value" });
    const stale = new SecretStore(prisma, oldKey);
    await expect(stale.envFor(projectId, "00000000-0000-4000-8000-000000000000")).rejects.toThrow(/encrypted with another key/);
    expect(await stale.foreignKeyCount()).toBeGreaterThanOrEqual(2);
  });
});
