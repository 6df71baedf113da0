// Issue 13, item 6: the audit log opens on changes and denials; reads are a filter away, and
// repeated reads by the same caller of the same agent fold into one row with a count, first and
// last time. Folding happens in the database, so "load more" paging never splits, repeats or
// skips a row.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_FOLD_GAP_MS } from "@/server/trust/audit";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { DB_KINDS } from "../support/databases";
import { expectTrpcError } from "../support/trpc-errors";
import { insertAgentRow } from "../support/trust";

describe.each(DB_KINDS)("audit folding on %s", (kind) => {
  let armory: TestArmory;
  let alice: TestUser;
  let bob: TestUser;
  let projectId: string;
  const t0 = new Date(Date.now() - 2 * 3600_000);
  const min = (m: number) => new Date(t0.getTime() + m * 60_000);

  beforeAll(async () => {
    armory = await startTestArmory(kind, { ARMORY_SIGN_UP: "open" });
    alice = await signUp(armory.services, { name: "Alice" });
    bob = await signUp(armory.services, { name: "Bob" });
    const a = await callerFor(armory.services, alice);
    projectId = (await a.project.create({ name: "Folding" })).id;
    await a.project.members.add({ projectId, email: bob.email, role: "viewer" });

    // A seeded history with exact times (the fold depends on the gaps between reads).
    const base = { projectId, requestId: "seed", ip: "198.51.100.7", userAgent: "test", reason: "seeded", outcome: "ok" };
    const reader = { userId: "u-reader", userEmail: "reader@example.com" };
    const read = (at: Date, action: string, agentId: string, who: object = reader) =>
      ({ ...base, ...who, at, action, type: "query", allowed: true, agentId, agentName: agentId });
    await armory.services.db.prisma.auditEvent.createMany({
      data: [
        // Five reads of agent a1 by the reader, a minute apart: one row.
        read(min(0), "agent.get", "a1"),
        read(min(1), "files.list", "a1"),
        read(min(2), "agent.get", "a1"),
        read(min(3), "agent.get", "a1"),
        read(min(4), "files.read", "a1"),
        // Another agent, another caller (a token): rows of their own.
        read(min(1.5), "agent.get", "a2"),
        read(min(1), "agent.get", "a1", { tokenId: "t-1", tokenPrefix: "abcdef123456" }),
        // Half an hour later: a new run.
        read(min(30), "agent.get", "a1"),
        read(min(31), "agent.get", "a1"),
        // A change and a denial amid the reads.
        { ...base, ...reader, at: min(2.5), action: "agent.stop", type: "mutation", allowed: true, agentId: "a1", agentName: "a1" },
        { ...base, ...reader, at: min(3.5), action: "files.read", type: "query", allowed: false, outcome: "FORBIDDEN", agentId: "a1", agentName: "a1" },
      ],
    });
  });
  afterAll(async () => {
    await armory?.close();
  });

  const seeded = { caller: "reader@example.com" };

  it("opens on changes and denials: no reads unless asked", async () => {
    const a = await callerFor(armory.services, alice);
    const list = await a.audit.list({ projectId, ...seeded });
    expect(list.items.map((e) => [e.action, e.allowed, e.count])).toEqual([
      ["files.read", false, 1],
      ["agent.stop", true, 1],
    ]);
    expect(list.nextCursor).toBeNull();

    // Real calls: Bob's reads of an agent are recorded, folded, and not in the default view.
    const agent = await insertAgentRow(armory.services, projectId, "web-1");
    const b = await callerFor(armory.services, bob);
    for (let i = 0; i < 3; i++) await b.agent.get({ projectId, agentId: agent.id });
    await expectTrpcError(b.agent.stop({ projectId, agentId: agent.id }), "FORBIDDEN");
    const bobs = await a.audit.list({ projectId, caller: bob.email });
    expect(bobs.items.map((e) => [e.action, e.allowed])).toEqual([["agent.stop", false]]);
    const bobReads = await a.audit.list({ projectId, caller: bob.email, show: "reads" });
    expect(bobReads.items).toHaveLength(1);
    expect(bobReads.items[0]).toMatchObject({ action: "agent.get", agentId: agent.id, count: 3, allowed: true });
    expect(bobReads.items[0]!.firstAt.getTime()).toBeLessThanOrEqual(bobReads.items[0]!.at.getTime());
  });

  it("folds repeated reads by the same caller of the same agent into one row with a count and first/last time", async () => {
    const a = await callerFor(armory.services, alice);
    const all = await a.audit.list({ projectId, show: "all", from: t0, to: min(60) });
    expect(all.items.map((e) => [e.agentId, e.tokenId ?? e.userId, e.allowed, e.count])).toEqual([
      ["a1", "u-reader", true, 2], // minutes 30-31
      ["a1", "u-reader", true, 5], // minutes 0-4
      ["a1", "u-reader", false, 1], // the denial
      ["a1", "u-reader", true, 1], // the change (agent.stop)
      ["a2", "u-reader", true, 1],
      ["a1", "t-1", true, 1],
    ]);
    const run = all.items[1]!;
    expect(run.firstAt).toEqual(min(0));
    expect(run.at).toEqual(min(4));
    expect(run.action).toBe("files.read"); // the latest entry stands for the row
    expect(run.actions).toEqual(["agent.get", "files.list", "files.read"]);
    expect(all.items[3]!.action).toBe("agent.stop");
    expect(min(31).getTime() - min(4).getTime()).toBeGreaterThan(AUDIT_FOLD_GAP_MS);

    const reads = await a.audit.list({ projectId, show: "reads", from: t0, to: min(60) });
    expect(reads.items.map((e) => e.count)).toEqual([2, 5, 1, 1]);

    const unfolded = await a.audit.list({ projectId, show: "all", fold: false, from: t0, to: min(60) });
    expect(unfolded.items).toHaveLength(11);
    expect(unfolded.items.every((e) => e.count === 1 && e.firstAt.getTime() === e.at.getTime())).toBe(true);
  });

  it("pages folded rows exactly: every row once, in order, whatever the page size", async () => {
    const a = await callerFor(armory.services, alice);
    const input = { projectId, show: "all" as const, from: t0, to: min(60) };
    const whole = (await a.audit.list(input)).items.map((e) => `${e.id}:${e.count}`);
    for (const limit of [1, 2, 4]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const r = await a.audit.list({ ...input, limit, cursor });
        expect(r.items.length).toBeLessThanOrEqual(limit);
        seen.push(...r.items.map((e) => `${e.id}:${e.count}`));
        if (!r.nextCursor) break;
        cursor = r.nextCursor;
      }
      expect(seen).toEqual(whole);
    }
  });

  it("refuses a bad view with 400", async () => {
    const a = await callerFor(armory.services, alice);
    await expectTrpcError(a.audit.list({ projectId, show: "everything" as never }), "BAD_REQUEST", /show must be/);
  });
});
