// project.* through createCaller (real context, middlewares, database) on both databases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS } from "../support/databases";
import { expectTrpcError } from "../support/trpc-errors";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";

describe.each(DB_KINDS)("projects on %s", (kind) => {
  let armory: TestArmory;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    armory = await startTestArmory(kind);
    alice = await signUp(armory.services, { name: "Alice" });
    bob = await signUp(armory.services, { name: "Bob" });
  });
  afterAll(async () => {
    await armory?.close();
  });

  it("refuses anonymous callers with UNAUTHORIZED on every project procedure", async () => {
    const anon = await callerFor(armory.services, null);
    const id = crypto.randomUUID();
    await expectTrpcError(anon.project.list(), "UNAUTHORIZED", /Sign in/);
    await expectTrpcError(anon.project.create({ name: "x" }), "UNAUTHORIZED");
    await expectTrpcError(anon.project.get({ projectId: id }), "UNAUTHORIZED");
    await expectTrpcError(anon.project.update({ projectId: id, name: "y" }), "UNAUTHORIZED");
    await expectTrpcError(anon.project.delete({ projectId: id }), "UNAUTHORIZED");
  });

  it("creates a project with the creator as owner, lists, gets, renames and deletes it", async () => {
    const caller = await callerFor(armory.services, alice);
    const created = await caller.project.create({ name: "  Payments  ", description: "Agents for the payments team" });
    expect(created).toMatchObject({ name: "Payments", role: "owner", memberCount: 1 });
    expect(created.createdAt).toBeInstanceOf(Date);

    const membership = await armory.services.db.prisma.projectMember.findUnique({
      where: { projectId_userId: { projectId: created.id, userId: alice.id } },
    });
    expect(membership?.role).toBe("owner");

    expect((await caller.project.list()).map((p) => p.id)).toContain(created.id);
    expect(await caller.project.get({ projectId: created.id })).toMatchObject({ id: created.id, name: "Payments" });

    const renamed = await caller.project.update({ projectId: created.id, name: "Billing" });
    expect(renamed.name).toBe("Billing");
    expect(renamed.description).toBe("Agents for the payments team");
    expect(renamed.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());

    expect(await caller.project.delete({ projectId: created.id })).toEqual({ id: created.id, deleted: true });
    await expectTrpcError(caller.project.get({ projectId: created.id }), "NOT_FOUND", /Project not found/);
    expect(await armory.services.db.prisma.projectMember.count({ where: { projectId: created.id } })).toBe(0);
  });

  it("lists only the caller's projects", async () => {
    const a = await callerFor(armory.services, alice);
    const b = await callerFor(armory.services, bob);
    const mine = await a.project.create({ name: "Alice only" });
    expect((await b.project.list()).map((p) => p.id)).not.toContain(mine.id);
  });

  it("rejects bad names and descriptions with readable BAD_REQUEST messages", async () => {
    const caller = await callerFor(armory.services, alice);
    await expectTrpcError(caller.project.create({ name: "" }), "BAD_REQUEST", /Project name is required/);
    await expectTrpcError(caller.project.create({ name: "    " }), "BAD_REQUEST", /Project name is required/);
    await expectTrpcError(caller.project.create({ name: "x".repeat(101) }), "BAD_REQUEST", /at most 100 characters/);
    await expectTrpcError(caller.project.create({ name: "x".repeat(500) }), "BAD_REQUEST", /at most 100 characters/);
    await expectTrpcError(
      caller.project.create({ name: "ok", description: "d".repeat(2001) }),
      "BAD_REQUEST",
      /at most 2000 characters/,
    );
    // @ts-expect-error: a number is not a name
    await expectTrpcError(caller.project.create({ name: 42 }), "BAD_REQUEST");
    const p = await caller.project.create({ name: "Valid" });
    await expectTrpcError(caller.project.update({ projectId: p.id }), "BAD_REQUEST", /Nothing to update/);
    await expectTrpcError(caller.project.update({ projectId: p.id, name: "" }), "BAD_REQUEST", /required/);
    // Nothing was changed by the refused calls.
    expect((await caller.project.get({ projectId: p.id })).name).toBe("Valid");
  });

  it("answers unknown ids with NOT_FOUND and malformed ids with BAD_REQUEST", async () => {
    const caller = await callerFor(armory.services, alice);
    const unknown = crypto.randomUUID();
    await expectTrpcError(caller.project.get({ projectId: unknown }), "NOT_FOUND", /Project not found/);
    await expectTrpcError(caller.project.update({ projectId: unknown, name: "x" }), "NOT_FOUND");
    await expectTrpcError(caller.project.delete({ projectId: unknown }), "NOT_FOUND");
    await expectTrpcError(caller.project.get({ projectId: "not-a-uuid" }), "BAD_REQUEST", /projectId/);
  });

  it("enforces project roles: non-members are refused, viewers read, admins rename, only owners delete", async () => {
    const owner = await callerFor(armory.services, alice);
    const other = await callerFor(armory.services, bob);
    const p = await owner.project.create({ name: "Roles" });

    await expectTrpcError(other.project.get({ projectId: p.id }), "FORBIDDEN", /not a member/);
    await expectTrpcError(other.project.update({ projectId: p.id, name: "hijack" }), "FORBIDDEN");
    await expectTrpcError(other.project.delete({ projectId: p.id }), "FORBIDDEN");

    const prisma = armory.services.db.prisma;
    await prisma.projectMember.create({ data: { projectId: p.id, userId: bob.id, role: "viewer" } });
    expect((await other.project.get({ projectId: p.id })).role).toBe("viewer");
    await expectTrpcError(other.project.update({ projectId: p.id, name: "nope" }), "FORBIDDEN", /admin role or higher/);

    await prisma.projectMember.update({ where: { projectId_userId: { projectId: p.id, userId: bob.id } }, data: { role: "admin" } });
    expect((await other.project.update({ projectId: p.id, name: "Renamed by admin" })).name).toBe("Renamed by admin");
    await expectTrpcError(other.project.delete({ projectId: p.id }), "FORBIDDEN", /owner role/);
    expect((await owner.project.get({ projectId: p.id })).memberCount).toBe(2);
  });
});
