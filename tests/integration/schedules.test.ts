// Schedules (issue 18): the scheduler driven by a hand-moved clock (no sleeps) on PostgreSQL.
// The agent has no container: every run's message really goes through the chat service, which
// fails the turn with its own clear error ("... is not running ..."); that is still a recorded run
// with an outcome, a chat session and a chat run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/server/db";
import { createLogger } from "@/server/logger";
import { createServices, type Services } from "@/server/services";
import { SKIP_REASONS } from "@/contracts/schedules";
import { callerFor, signUp, startTestArmory, testConfig, TEST_AUTH_SECRET, type TestArmory, type TestUser } from "../support/armory";
import { ManualScheduleClock } from "../support/schedules-clock";
import { insertAgentRow } from "../support/trust";
import { expectTrpcError } from "../support/trpc-errors";

const NOT_RUNNING = /The agent sched-agent is not running \(no container\)\. Start it, then send the message again\./;

describe("schedules (postgres, injected clock)", () => {
  let armory: TestArmory;
  let owner: TestUser;
  let viewer: TestUser;
  let projectId: string;
  let agentId: string;
  const clock = new ManualScheduleClock(new Date("2026-03-27T00:00:00Z"));
  const others: Services[] = [];
  const settle = () => Promise.all([armory.services, ...others].map((s) => s.schedules.idle()));

  beforeAll(async () => {
    armory = await startTestArmory("postgres", {}, { scheduleClock: clock });
    owner = await signUp(armory.services, { name: "Owner" });
    viewer = await signUp(armory.services, { name: "Viewer" });
    projectId = (await (await callerFor(armory.services, owner)).project.create({ name: "Scheduled" })).id;
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: viewer.id, role: "viewer" } });
    agentId = (await insertAgentRow(armory.services, projectId, "sched-agent")).id;
  });
  afterAll(async () => {
    await Promise.all(others.map((s) => s.close()));
    await armory?.close();
  });

  const api = async (user: TestUser = owner) => (await callerFor(armory.services, user)).schedule;
  const runsOf = async (scheduleId: string) =>
    (await (await api()).runs({ projectId, scheduleId, limit: 100 })).items.sort((a, b) => a.scheduledFor.getTime() - b.scheduledFor.getTime());
  const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

  it("fires at the right instants in Europe/Berlin across the switch to summer time, each run a new session", async () => {
    const s = await (await api()).create({ projectId, agentId, name: "Nightly", cron: "30 2 * * *", timeZone: "Europe/Berlin", message: "nightly report" });
    expect(s).toMatchObject({ timeZone: "Europe/Berlin", session: "new", catchUp: "once", enabled: true, createdBy: { id: owner.id, name: "Owner" } });
    // 02:30 CET is 01:30 UTC.
    expect(s.nextRunAt?.toISOString()).toBe("2026-03-27T01:30:00.000Z");
    await clock.advance(new Date("2026-03-30T12:00:00Z"), settle);
    const runs = await runsOf(s.id);
    // 27th and 28th at 02:30 CET; on the 29th 02:30 does not exist (clocks jump 02:00 -> 03:00
    // CEST) and it fires at 03:00 CEST; from the 30th 02:30 CEST is 00:30 UTC.
    expect(iso(runs.map((r) => r.scheduledFor))).toEqual(["2026-03-27T01:30:00.000Z", "2026-03-28T01:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]);
    // Each ran when it was due (the clock's time then), not late.
    expect(iso(runs.map((r) => r.startedAt))).toEqual(iso(runs.map((r) => r.scheduledFor)));
    for (const r of runs) {
      expect(r).toMatchObject({ status: "failed", manual: false, costUsd: 0 });
      expect(r.reason).toMatch(NOT_RUNNING);
      expect(r.endedAt).not.toBeNull();
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      // The chat's own run says the same.
      const chatRun = await armory.services.db.prisma.chatRun.findUniqueOrThrow({ where: { id: r.runId! } });
      expect(chatRun).toMatchObject({ status: "failed", sessionId: r.sessionId, userId: null, message: "nightly report" });
    }
    expect(new Set(runs.map((r) => r.sessionId)).size).toBe(4);
    expect((await (await api()).list({ projectId, agentId }))[0]?.nextRunAt?.toISOString()).toBe("2026-03-31T00:30:00.000Z");
    // The audit log names the schedule as the actor of each run (no user).
    const audit = await armory.services.db.prisma.auditEvent.findMany({ where: { action: "schedule.fire", projectId } });
    expect(audit).toHaveLength(4);
    for (const a of audit) expect(a).toMatchObject({ userId: null, tokenId: null, agentId, allowed: true, reason: expect.stringContaining(`Schedule "Nightly" (${s.id})`) });
    // Disabled schedules do not fire.
    const off = await (await api()).update({ projectId, agentId, scheduleId: s.id, enabled: false });
    expect(off.nextRunAt).toBeNull();
    await clock.advance(new Date("2026-04-02T12:00:00Z"), settle);
    expect(await runsOf(s.id)).toHaveLength(4);
  });

  it("fires at 09:00 New York time on both sides of the end of daylight saving time", async () => {
    clock.jump(new Date("2026-10-31T00:00:00Z"));
    const s = await (await api()).create({ projectId, agentId, name: "Standup", cron: "0 9 * * *", timeZone: "America/New_York", message: "standup" });
    await clock.advance(new Date("2026-11-01T20:00:00Z"), settle);
    // 09:00 EDT = 13:00 UTC on Oct 31; daylight saving time ends Nov 1 at 02:00: 09:00 EST = 14:00 UTC.
    expect(iso((await runsOf(s.id)).map((r) => r.scheduledFor))).toEqual(["2026-10-31T13:00:00.000Z", "2026-11-01T14:00:00.000Z"]);
    await (await api()).delete({ projectId, agentId, scheduleId: s.id });
    expect(await armory.services.db.prisma.scheduleRun.count({ where: { scheduleId: s.id } })).toBe(0);
  });

  it("continues one named session run after run, titled by the schedule", async () => {
    const s = await (await api()).create({ projectId, agentId, name: "Diary", cron: "0 * * * *", message: "write the diary", session: "named", sessionName: "Diary" });
    expect(s.sessionId).toBeNull();
    await clock.advance(new Date(clock.now().getTime() + 2 * 3_600_000), settle);
    const runs = await runsOf(s.id);
    expect(runs).toHaveLength(2);
    expect(runs[0]!.sessionId).toBeTruthy();
    expect(runs[1]!.sessionId).toBe(runs[0]!.sessionId);
    const kept = (await (await api()).list({ projectId, agentId })).find((x) => x.id === s.id)!;
    expect(kept.sessionId).toBe(runs[0]!.sessionId);
    const session = await armory.services.db.prisma.chatSession.findUniqueOrThrow({ where: { id: kept.sessionId! } });
    expect(session.title).toBe("Diary");
    expect(await armory.services.db.prisma.chatRun.count({ where: { sessionId: session.id } })).toBe(2);
    await (await api()).update({ projectId, agentId, scheduleId: s.id, enabled: false });
  });

  it("claims each fire time once when two Armory instances share the database", async () => {
    const s = await (await api()).create({ projectId, agentId, name: "Shared", cron: "*/5 * * * *", message: "only once" });
    // A second Armory on the same PostgreSQL database, started after the schedule exists: only the
    // cluster's leader (the first) runs the scheduler, so one timer is armed for that instant (the
    // unique claim on the fire time would still keep it to one run if both did).
    const second = await createServices({
      config: testConfig(),
      db: await openDatabase(armory.target.options),
      log: createLogger({ level: "warn", format: "json", destination: armory.logs }),
      authSecret: TEST_AUTH_SECRET,
      scheduleClock: clock,
    });
    others.push(second);
    await settle();
    expect(second.cluster.isLeader).toBe(false);
    expect(clock.armed.filter((d) => d.getTime() === s.nextRunAt!.getTime())).toHaveLength(1);
    await clock.advance(new Date(s.nextRunAt!.getTime() + 10 * 60_000), settle);
    const runs = await runsOf(s.id);
    expect(runs.map((r) => r.status)).toEqual(["failed", "failed", "failed"]);
    expect(new Set(runs.map((r) => r.scheduledFor.getTime())).size).toBe(3);
    expect(await armory.services.db.prisma.chatRun.count({ where: { message: "only once" } })).toBe(3);
    await (await api()).update({ projectId, agentId, scheduleId: s.id, enabled: false });
    await second.close();
    others.splice(others.indexOf(second), 1);
  });

  it("never runs a schedule twice at once: a fire time during a run is recorded as skipped", async () => {
    const s = await (await api()).create({ projectId, agentId, name: "Long", cron: "*/10 * * * *", message: "long job" });
    // A run of this schedule is still going (as a turn would be, waiting for the model).
    const going = await armory.services.db.prisma.scheduleRun.create({ data: { scheduleId: s.id, scheduledFor: new Date(clock.now().getTime() - 60_000), startedAt: clock.now(), status: "running" } });
    await clock.advance(s.nextRunAt!, settle);
    const runs = await runsOf(s.id);
    expect(runs.map((r) => [r.status, r.reason])).toEqual([
      ["running", null],
      ["skipped", SKIP_REASONS.busy],
    ]);
    expect(await armory.services.db.prisma.chatRun.count({ where: { message: "long job" } })).toBe(0);
    await expectTrpcError((await api()).runNow({ projectId, agentId, scheduleId: s.id }), "CONFLICT", /previous run is still running/);
    // A restart ends the run the crashed process left running.
    await armory.restart();
    await settle();
    const after = await armory.services.db.prisma.scheduleRun.findUniqueOrThrow({ where: { id: going.id } });
    expect(after).toMatchObject({ status: "failed", reason: "Armory stopped during this run." });
    await (await api()).update({ projectId, agentId, scheduleId: s.id, enabled: false });
  });

  it("after a restart, runs missed while Armory was down once (catchUp once) or records one skipped run (skip)", async () => {
    const once = await (await api()).create({ projectId, agentId, name: "Catch up", cron: "0 * * * *", message: "catch up", catchUp: "once" });
    const skip = await (await api()).create({ projectId, agentId, name: "Skip", cron: "0 * * * *", message: "skip me", catchUp: "skip" });
    const missedAt = once.nextRunAt!;
    expect(skip.nextRunAt).toEqual(missedAt);
    // Armory is down for five hours and a half (no timer fires), then starts again.
    const back = new Date(missedAt.getTime() + 5.5 * 3_600_000);
    clock.jump(back);
    await armory.restart();
    await settle();
    const onceRuns = await runsOf(once.id);
    expect(onceRuns).toHaveLength(1);
    expect(onceRuns[0]).toMatchObject({ scheduledFor: missedAt, status: "failed" });
    expect(onceRuns[0]!.reason).toMatch(NOT_RUNNING);
    const skipRuns = await runsOf(skip.id);
    expect(skipRuns).toHaveLength(1);
    expect(skipRuns[0]).toMatchObject({ scheduledFor: missedAt, status: "skipped", reason: SKIP_REASONS.missed, sessionId: null });
    expect(await armory.services.db.prisma.chatRun.count({ where: { message: "skip me" } })).toBe(0);
    // Both move past now: the next fire is the next full hour after the restart.
    const next = new Date(Math.ceil(back.getTime() / 3_600_000) * 3_600_000);
    for (const s of await (await api()).list({ projectId, agentId })) {
      if (s.id === once.id || s.id === skip.id) expect(s.nextRunAt).toEqual(next);
    }
    // "Run now" runs at once, whatever the cron says.
    const now = await (await api()).runNow({ projectId, agentId, scheduleId: skip.id });
    expect(now).toMatchObject({ status: "running", manual: true });
    await settle();
    expect((await runsOf(skip.id)).find((r) => r.id === now.id)).toMatchObject({ status: "failed", manual: true });
  });

  it("refuses a bad cron or time zone with 400 naming the field", async () => {
    const s = await api();
    const base = { projectId, agentId, name: "Bad", message: "x" };
    await expectTrpcError(s.create({ ...base, cron: "61 * * * *" }), "BAD_REQUEST", /^cron: /);
    await expectTrpcError(s.create({ ...base, cron: "* * *" }), "BAD_REQUEST", /^cron: use five fields/);
    await expectTrpcError(s.create({ ...base, cron: "*/10 * * * * *" }), "BAD_REQUEST", /^cron: .*at most once a minute/);
    await expectTrpcError(s.create({ ...base, cron: "0 0 30 2 *" }), "BAD_REQUEST", /^cron: this expression never fires/);
    await expectTrpcError(s.create({ ...base, cron: "0 9 * * *", timeZone: "Mars/Olympus_Mons" }), "BAD_REQUEST", /^timeZone: "Mars\/Olympus_Mons" is not a known time zone/);
    await expectTrpcError(s.create({ ...base, cron: "0 9 * * *", timeZone: "+02:00" }), "BAD_REQUEST", /^timeZone: /);
    await expectTrpcError(s.create({ ...base, cron: "0 9 * * *", message: "   " }), "BAD_REQUEST", /message: a schedule needs a message/);
    const ok = await s.create({ ...base, cron: "@daily" });
    await expectTrpcError(s.update({ projectId, agentId, scheduleId: ok.id, timeZone: "Nowhere/Land" }), "BAD_REQUEST", /^timeZone: /);
    await expectTrpcError(s.update({ projectId, agentId, scheduleId: ok.id, cron: "0 0 31 4 *" }), "BAD_REQUEST", /^cron: this expression never fires/);
    expect((await s.list({ projectId, agentId })).find((x) => x.id === ok.id)).toMatchObject({ cron: "@daily", timeZone: "UTC" });
    // Creating, changing and deleting are in the audit log (and so are the refusals).
    await s.delete({ projectId, agentId, scheduleId: ok.id });
    const audit = await armory.services.db.prisma.auditEvent.findMany({ where: { projectId, action: { in: ["schedule.create", "schedule.update", "schedule.delete"] }, userId: owner.id } });
    expect(audit.filter((a) => a.action === "schedule.create" && a.outcome === "ok").length).toBeGreaterThan(0);
    expect(audit.filter((a) => a.action === "schedule.update" && a.outcome === "BAD_REQUEST")).toHaveLength(2);
    expect(audit.filter((a) => a.action === "schedule.delete" && a.outcome === "ok").length).toBeGreaterThan(0);
  });

  it("lets a viewer read schedules and runs but not create, change, run or delete them", async () => {
    const v = await api(viewer);
    const list = await v.list({ projectId });
    expect(list.length).toBeGreaterThan(0);
    const target = list[0]!;
    expect((await v.runs({ projectId, agentId })).items.length).toBeGreaterThan(0);
    await expectTrpcError(v.create({ projectId, agentId, name: "Nope", cron: "0 9 * * *", message: "x" }), "FORBIDDEN");
    await expectTrpcError(v.update({ projectId, agentId, scheduleId: target.id, enabled: true }), "FORBIDDEN");
    await expectTrpcError(v.runNow({ projectId, agentId, scheduleId: target.id }), "FORBIDDEN");
    await expectTrpcError(v.delete({ projectId, agentId, scheduleId: target.id }), "FORBIDDEN");
    expect(await armory.services.db.prisma.schedule.count({ where: { name: "Nope" } })).toBe(0);
  });
});
