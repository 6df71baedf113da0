// Issue 12, item 3: the audit log cannot be skipped. A NUL character (which PostgreSQL refuses
// in text and jsonb) is refused at the boundary before any handler runs; a mutation whose audit
// entry cannot be written does not happen; refused anonymous calls go to the instance-level
// security log, not into the audit log of a project the caller names.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { expectTrpcError } from "../support/trpc-errors";
import { makeToken } from "../support/trust";

describe("audit that cannot be skipped (pglite)", () => {
  let armory: TestArmory;
  let owner: TestUser;

  beforeAll(async () => {
    armory = await startTestArmory("pglite", { ARMORY_SIGN_UP: "open" });
    // The first account is the instance admin (it reads the security log below).
    owner = await signUp(armory.services, { name: "Auditor" });
  });
  afterAll(async () => {
    await armory?.close();
  });

  const prisma = () => armory.services.db.prisma;

  it("refuses a NUL in a mutation's input with 400 before the handler runs (the audit bypass)", async () => {
    const caller = await callerFor(armory.services, owner);
    const before = await prisma().project.count();
    await expectTrpcError(caller.project.create({ name: "evil\u0000name" }), "BAD_REQUEST", /NUL/);
    // Nested, in an array, in an object key, in a key zod would strip.
    await expectTrpcError(caller.project.create({ name: "ok", description: "a\u0000b" }), "BAD_REQUEST", /NUL/);
    await expectTrpcError(caller.project.create({ name: "ok", ["x\u0000"]: 1 } as never), "BAD_REQUEST", /NUL/);
    await expectTrpcError(caller.project.create({ name: "ok", extra: { list: ["fine", "bad\u0000"] } } as never), "BAD_REQUEST", /NUL/);
    expect(await prisma().project.count()).toBe(before);
  });

  it("refuses a NUL in queries and subscriptions too", async () => {
    const caller = await callerFor(armory.services, owner);
    await expectTrpcError(caller.project.get({ projectId: "x\u0000" }), "BAD_REQUEST", /NUL/);
    await expectTrpcError(caller.agent.onStatus({ projectId: "p\u0000" } as never), "BAD_REQUEST", /NUL/);
  });

  it("does not run a mutation whose audit entry cannot be written (503), and runs it once it can", async () => {
    const caller = await callerFor(armory.services, owner);
    await prisma().$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION armory_test_refuse_audit() RETURNS trigger AS $$
      BEGIN
        IF NEW.input::text LIKE '%refuse-audit-marker%' THEN RAISE EXCEPTION 'audit refused by test trigger'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await prisma().$executeRawUnsafe(
      `CREATE TRIGGER armory_test_refuse_audit BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION armory_test_refuse_audit()`,
    );
    try {
      await expectTrpcError(caller.project.create({ name: "refuse-audit-marker" }), "SERVICE_UNAVAILABLE", /audit/i);
      expect(await prisma().project.count({ where: { name: "refuse-audit-marker" } })).toBe(0);
      // Other mutations are unaffected.
      const other = await caller.project.create({ name: "audited fine" });
      expect(await prisma().auditEvent.count({ where: { action: "project.create", projectId: null, outcome: "ok", requestId: { not: "" }, input: { path: ["name"], equals: "audited fine" } } })).toBe(1);
      expect(other.name).toBe("audited fine");
    } finally {
      await prisma().$executeRawUnsafe(`DROP TRIGGER armory_test_refuse_audit ON audit_event`);
    }
  });

  it("gives every successful mutation of a realistic sequence its audit entry, with the outcome", async () => {
    const caller = await callerFor(armory.services, owner);
    const since = new Date();
    const project = await caller.project.create({ name: "Sequence" });
    await caller.project.update({ projectId: project.id, name: "Sequence 2" });
    const other = await signUp(armory.services, { name: "Member" });
    await caller.project.members.add({ projectId: project.id, email: other.email, role: "viewer" });
    await caller.project.members.updateRole({ projectId: project.id, userId: other.id, role: "operator" });
    await caller.project.members.remove({ projectId: project.id, userId: other.id });
    const token = await caller.token.create({ name: "seq", scopes: ["read"] });
    await caller.token.revoke({ tokenId: token.summary.id });
    await caller.project.delete({ projectId: project.id });
    const entries = await prisma().auditEvent.findMany({ where: { at: { gte: since }, type: "mutation", userId: owner.id }, orderBy: { at: "asc" } });
    const ok = entries.filter((e) => e.outcome === "ok").map((e) => e.action);
    for (const action of ["project.create", "project.update", "project.members.add", "project.members.updateRole", "project.members.remove", "token.create", "token.revoke", "project.delete"]) {
      expect(ok, action).toContain(action);
    }
    // No entry is left pending after its call finished.
    expect(entries.filter((e) => e.outcome === "pending")).toEqual([]);
  });

  it("writes refused anonymous calls to the security log, not to the project the caller names", async () => {
    const caller = await callerFor(armory.services, owner);
    const project = await caller.project.create({ name: "Target" });
    const anonymous = await callerFor(armory.services, null);
    const big = "x".repeat(20_000);
    await expectTrpcError(anonymous.project.update({ projectId: project.id, name: "pwn", description: big } as never), "UNAUTHORIZED");
    expect(await prisma().auditEvent.count({ where: { projectId: project.id, outcome: "UNAUTHORIZED" } })).toBe(0);
    const events = await prisma().securityEvent.findMany({ where: { action: "project.update" } });
    expect(events).toHaveLength(1);
    expect(events[0]!.outcome).toBe("UNAUTHORIZED");
    expect(JSON.stringify(events[0]!.input).length).toBeLessThanOrEqual(4096);
    // A bad token is refused and logged the same way, its secret not stored.
    const bad = `arm_${"0".repeat(12)}_${"A".repeat(43)}`;
    const withBadToken = await (await import("@/server/api/root")).createCaller(
      await (await import("@/server/api/trpc")).createContext({ services: armory.services, headers: new Headers({ authorization: `Bearer ${bad}` }) }),
    );
    await expectTrpcError(withBadToken.project.list(), "UNAUTHORIZED");
    const all = await prisma().securityEvent.findMany();
    expect(JSON.stringify(all)).not.toContain(bad);
  });

  it("lets the instance admin read the security log (security.log), and nobody else", async () => {
    const admin = await callerFor(armory.services, owner);
    const page = await admin.security.log({ action: "project.", limit: 5 });
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.every((e) => e.action.startsWith("project."))).toBe(true);
    const member = await callerFor(armory.services, await signUp(armory.services, { name: "Not admin" }));
    await expectTrpcError(member.security.log({}), "FORBIDDEN");
    // The project's audit log does not show them.
    const project = await admin.project.create({ name: "Audit list" });
    const anonymous = await callerFor(armory.services, null);
    await expectTrpcError(anonymous.project.delete({ projectId: project.id }), "UNAUTHORIZED");
    const audit = await admin.audit.list({ projectId: project.id });
    expect(audit.items.map((e) => e.outcome)).not.toContain("UNAUTHORIZED");
  });

  it("rate-limits the security log per client address", async () => {
    const headers = new Headers({ "x-armory-client-ip": "203.0.113.77" });
    const anonymous = (await import("@/server/api/root")).createCaller(
      await (await import("@/server/api/trpc")).createContext({ services: armory.services, headers }),
    );
    for (let i = 0; i < 80; i++) await expectTrpcError(anonymous.project.list(), "UNAUTHORIZED");
    const stored = await prisma().securityEvent.count({ where: { ip: "203.0.113.77" } });
    expect(stored).toBe(60);
  });

  it("still audits a token's refused call in the audit log (a known caller)", async () => {
    const { token } = await makeToken(armory.services, owner.id, { scopes: ["read"] });
    const withToken = (await import("@/server/api/root")).createCaller(
      await (await import("@/server/api/trpc")).createContext({ services: armory.services, headers: new Headers({ authorization: `Bearer ${token}` }) }),
    );
    await expectTrpcError(withToken.project.create({ name: "needs write" }), "FORBIDDEN");
    expect(await prisma().auditEvent.count({ where: { action: "project.create", userId: owner.id, outcome: "FORBIDDEN" } })).toBe(1);
  });
});
