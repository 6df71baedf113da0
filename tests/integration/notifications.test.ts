// Notifications out (issue 16, point 4): project webhooks against a real HTTP receiver in this
// test, on a real database. A signed Armory delivery verified with the project secret; a 500
// retried after the back-off (driven by an injected clock, no sleeps) and resumed after a
// restart; a 400 not retried; Slack and Discord shapes; loopback refused without the flag (at
// create, and at send time when the URL comes from a secret); secrets never in the log, the
// responses, the audit or the server log; viewers and operators refused.
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProjectEvent } from "@/contracts/project-events";
import { createLogger } from "@/server/logger";
import { NotificationService, type NotificationClock } from "@/server/notifications/service";
import { AgentEventBus } from "@/server/events/agent-event-bus";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { expectTrpcError } from "../support/trpc-errors";

/** A clock tests move by hand; timers fire when it passes their time. */
class ManualClock implements NotificationClock {
  private t = Date.now();
  private timers: { at: number; fn: () => void }[] = [];
  now(): Date {
    return new Date(this.t);
  }
  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((x) => x !== timer));
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
  }
}

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: records every request; answers with the next status scripted for its path (then 200). */
async function startReceiver() {
  const received: Received[] = [];
  const scripts = new Map<string, number[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const status = scripts.get(req.url ?? "/")?.shift() ?? 200;
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status === 200 ? "ok" : `status ${status} from the receiver`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    script: (path: string, ...statuses: number[]) => scripts.set(path, statuses),
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    at: (path: string) => received.filter((r) => r.path === path),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const SIGNING_KEY = "whsec-9f8e7d6c5b4a-never-shown";
const SLACK_URL_PATH = "/services/T000/B000/XXXXsecretpath";

describe("notification webhooks (postgres)", () => {
  let armory: TestArmory;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const clock = new ManualClock();
  let owner: TestUser;
  let operator: TestUser;
  let viewer: TestUser;
  let projectId: string;
  let ownerCaller: Awaited<ReturnType<typeof callerFor>>;

  const turnFinished = (agentName = "builder"): ProjectEvent => ({
    type: "turn.finished",
    projectId,
    agentId: "00000000-0000-4000-8000-000000000001",
    agentName,
    at: new Date(),
    path: `/projects/${projectId}/agents/00000000-0000-4000-8000-000000000001?session=s1`,
    sessionId: "s1",
    runId: "r1",
    durationMs: 4200,
    costUsd: 0.0123,
    result: "All tests pass.",
  });

  const deliveriesOf = async (webhookId: string) => (await ownerCaller.notification.deliveries({ projectId, webhookId })).items;

  beforeAll(async () => {
    receiver = await startReceiver();
    armory = await startTestArmory("postgres", { ARMORY_WEBHOOKS_ALLOW_PRIVATE: "true", ARMORY_PUBLIC_URL: "https://armory.example.test" }, { notificationClock: clock });
    owner = await signUp(armory.services, { name: "Owner" });
    operator = await signUp(armory.services, { name: "Operator" });
    viewer = await signUp(armory.services, { name: "Viewer" });
    ownerCaller = await callerFor(armory.services, owner);
    projectId = (await ownerCaller.project.create({ name: "Hooks" })).id;
    await armory.services.db.prisma.projectMember.createMany({
      data: [
        { projectId, userId: operator.id, role: "operator" },
        { projectId, userId: viewer.id, role: "viewer" },
      ],
    });
    await ownerCaller.secret.set({ projectId, name: "HOOK_KEY", value: SIGNING_KEY });
    await ownerCaller.secret.set({ projectId, name: "SLACK_URL", value: receiver.url(SLACK_URL_PATH) });
  }, 120_000);

  afterAll(async () => {
    await armory?.close();
    await receiver?.close();
  });

  it("delivers a signed Armory-format event that verifies with the project secret", async () => {
    const hook = await ownerCaller.notification.create({ projectId, name: "CI", url: receiver.url("/armory"), format: "armory", events: ["turn.finished"], secretName: "HOOK_KEY" });
    expect(hook).toMatchObject({ format: "armory", secretName: "HOOK_KEY", enabled: true, events: ["turn.finished"] });

    armory.services.projectEvents.publish(turnFinished());
    // An event type the webhook does not want is not sent.
    armory.services.projectEvents.publish({ ...turnFinished(), type: "turn.failed", reason: "x", error: "y" } as ProjectEvent);

    await expect.poll(() => receiver.at("/armory").length).toBe(1);
    await armory.services.notifications.idle();
    expect(receiver.at("/armory")).toHaveLength(1);

    const req = receiver.at("/armory")[0]!;
    const ts = String(req.headers["x-armory-timestamp"]);
    expect(Math.abs(Number(ts) - clock.now().getTime() / 1000)).toBeLessThan(5);
    const expected = `sha256=${createHmac("sha256", SIGNING_KEY).update(`${ts}.${req.body}`).digest("hex")}`;
    const got = String(req.headers["x-armory-signature"]);
    expect(got.length).toBe(expected.length);
    expect(timingSafeEqual(Buffer.from(got), Buffer.from(expected))).toBe(true);
    // A tampered body does not verify.
    expect(createHmac("sha256", SIGNING_KEY).update(`${ts}.${req.body.replace("All", "No")}`).digest("hex")).not.toBe(got.slice(7));
    expect(req.headers["x-armory-event"]).toBe("turn.finished");
    expect(req.headers["content-type"]).toBe("application/json");

    const body = JSON.parse(req.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: "turn.finished",
      project: { id: projectId, name: "Hooks" },
      agent: { name: "builder" },
      result: "All tests pass.",
      costUsd: 0.0123,
      url: `https://armory.example.test/projects/${projectId}/agents/00000000-0000-4000-8000-000000000001?session=s1`,
    });
    expect(body.id).toBe(req.headers["x-armory-delivery"]);

    const [d] = await deliveriesOf(hook.id);
    expect(d).toMatchObject({ id: body.id, status: "delivered", attempts: 1, responseStatus: 200, responseBody: "ok", eventType: "turn.finished", error: null });
    expect(d!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("retries a 500 after the back-off (injected clock) and resumes pending retries after a restart", async () => {
    const hook = await ownerCaller.notification.create({ projectId, name: "Flaky", url: receiver.url("/flaky"), format: "armory", events: ["turn.finished"], secretName: "HOOK_KEY" });
    receiver.script("/flaky", 500, 503);
    armory.services.projectEvents.publish(turnFinished("flaky-agent"));
    await expect.poll(async () => (await deliveriesOf(hook.id))[0]?.attempts).toBe(1);
    let [d] = await deliveriesOf(hook.id);
    expect(d).toMatchObject({ status: "pending", responseStatus: 500, responseBody: "status 500 from the receiver" });
    const wait = d!.nextAttemptAt!.getTime() - clock.now().getTime();
    expect(wait).toBeGreaterThanOrEqual(8_000); // 10 s ± 20 % jitter
    expect(wait).toBeLessThanOrEqual(12_000);

    // Not yet due: nothing is sent.
    clock.advance(wait - 1000);
    await armory.services.notifications.idle();
    expect(receiver.at("/flaky")).toHaveLength(1);

    clock.advance(1000);
    await expect.poll(() => receiver.at("/flaky").length).toBe(2);
    await armory.services.notifications.idle();
    [d] = await deliveriesOf(hook.id);
    expect(d).toMatchObject({ status: "pending", attempts: 2, responseStatus: 503 });
    const wait2 = d!.nextAttemptAt!.getTime() - clock.now().getTime();
    expect(wait2).toBeGreaterThanOrEqual(24_000); // 30 s ± 20 %
    expect(wait2).toBeLessThanOrEqual(36_000);

    // Armory restarts: the pending retry is picked up from the database.
    await armory.restart();
    ownerCaller = await callerFor(armory.services, owner);
    clock.advance(wait2);
    await expect.poll(() => receiver.at("/flaky").length).toBe(3);
    await expect.poll(async () => (await deliveriesOf(hook.id))[0]?.status).toBe("delivered");
    [d] = await deliveriesOf(hook.id);
    expect(d).toMatchObject({ attempts: 3, responseStatus: 200, error: null, nextAttemptAt: null });
    // All attempts were the same delivery.
    expect(new Set(receiver.at("/flaky").map((r) => r.headers["x-armory-delivery"])).size).toBe(1);
  });

  it("does not retry a 400, and redeliver sends it again as a new delivery", async () => {
    const hook = await ownerCaller.notification.create({ projectId, name: "Strict", url: receiver.url("/strict"), format: "discord", events: ["turn.finished"] });
    receiver.script("/strict", 400);
    armory.services.projectEvents.publish(turnFinished());
    await expect.poll(async () => (await deliveriesOf(hook.id))[0]?.status).toBe("failed");
    const [d] = await deliveriesOf(hook.id);
    expect(d).toMatchObject({ attempts: 1, responseStatus: 400, error: "HTTP 400", nextAttemptAt: null });
    clock.advance(3_600_000);
    await armory.services.notifications.idle();
    expect(receiver.at("/strict")).toHaveLength(1);

    const again = await ownerCaller.notification.redeliver({ projectId, deliveryId: d!.id });
    expect(again).toMatchObject({ status: "delivered", attempts: 1, responseStatus: 200, eventType: "turn.finished" });
    expect(again.id).not.toBe(d!.id);
    expect(receiver.at("/strict")).toHaveLength(2);
    expect(receiver.at("/strict")[1]!.body).toBe(receiver.at("/strict")[0]!.body);
    const page = await ownerCaller.notification.deliveries({ projectId, webhookId: hook.id, limit: 1 });
    expect(page.items.map((x) => x.id)).toEqual([again.id]);
    const next = await ownerCaller.notification.deliveries({ projectId, webhookId: hook.id, limit: 1, cursor: page.nextCursor });
    expect(next.items.map((x) => x.id)).toEqual([d!.id]);
    expect(next.nextCursor).toBeNull();
  });

  it("sends Slack- and Discord-shaped bodies (send test), the Slack URL from a project secret", async () => {
    const slack = await ownerCaller.notification.create({ projectId, name: "Slack", urlSecret: "SLACK_URL", format: "slack", events: ["agent.crashed", "approval.needed"] });
    expect(slack).toMatchObject({ url: null, urlSecret: "SLACK_URL" });
    const result = await ownerCaller.notification.test({ projectId, webhookId: slack.id });
    expect(result).toMatchObject({ status: "delivered", responseStatus: 200, eventType: "test", attempts: 1, title: "Test notification" });
    const s = JSON.parse(receiver.at(SLACK_URL_PATH).at(-1)!.body) as { text: string; blocks: { type: string }[] };
    expect(s.text).toMatch(/Test notification/);
    expect(s.blocks.map((b) => b.type)).toEqual(["header", "section", "context"]);

    armory.services.projectEvents.publish({ type: "agent.crashed", projectId, agentId: "a1", agentName: "worker", at: new Date(), path: "/projects/p/agents/a1", oomKilled: true, exitCode: 137, detail: "Killed: out of memory (limit 256 MB)." });
    await expect.poll(() => receiver.at(SLACK_URL_PATH).length).toBe(2);
    const crash = JSON.parse(receiver.at(SLACK_URL_PATH)[1]!.body) as { text: string };
    expect(crash.text).toMatch(/out of memory/);
    expect(crash.text).toMatch(/worker/);

    const discord = await ownerCaller.notification.create({ projectId, name: "Discord", url: receiver.url("/discord"), format: "discord", events: ["turn.finished"] });
    await ownerCaller.notification.test({ projectId, webhookId: discord.id });
    const dBody = JSON.parse(receiver.at("/discord")[0]!.body) as { content: string; embeds: { title: string; description: string; url: string; timestamp: string }[] };
    expect(dBody.content).toMatch(/Test notification/);
    expect(dBody.embeds[0]).toMatchObject({ title: "Test notification", url: `https://armory.example.test/projects/${projectId}/notifications` });
  });

  it("refuses bad webhooks with a clear 400", async () => {
    const base = { projectId, name: "Bad", events: ["turn.finished" as const] };
    await expectTrpcError(ownerCaller.notification.create({ ...base, url: "ftp://example.com/x", format: "slack" }), "BAD_REQUEST", /http or https/);
    await expectTrpcError(ownerCaller.notification.create({ ...base, url: "not a url", format: "slack" }), "BAD_REQUEST", /not a valid URL/);
    await expectTrpcError(ownerCaller.notification.create({ ...base, url: receiver.url("/x"), format: "armory" }), "BAD_REQUEST", /signing key/);
    await expectTrpcError(ownerCaller.notification.create({ ...base, url: receiver.url("/x"), format: "armory", secretName: "NOPE" }), "BAD_REQUEST", /no secret named NOPE/);
    await expectTrpcError(ownerCaller.notification.create({ ...base, format: "slack" }), "BAD_REQUEST", /either a URL or/);
    await expectTrpcError(ownerCaller.notification.create({ ...base, events: [], url: receiver.url("/x"), format: "slack" }), "BAD_REQUEST", /at least one event/);
    await expectTrpcError(
      ownerCaller.notification.create({ ...base, events: ["nope" as "turn.finished"], url: receiver.url("/x"), format: "slack" }),
      "BAD_REQUEST",
    );
    await expectTrpcError(ownerCaller.notification.test({ projectId, webhookId: "00000000-0000-4000-8000-000000000009" }), "NOT_FOUND");
  });

  it("refuses loopback without ARMORY_WEBHOOKS_ALLOW_PRIVATE: at create, and at send time for a URL kept in a secret", async () => {
    const strict = new NotificationService({
      prisma: armory.services.db.prisma,
      secrets: armory.services.secrets,
      events: new AgentEventBus(),
      log: createLogger({ level: "silent", format: "json" }),
      config: { publicUrl: undefined, webhooksAllowPrivate: false },
      clock,
    });
    await expect(strict.create(projectId, { name: "Local", url: receiver.url("/local"), format: "slack", events: ["turn.finished"] })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/resolves to 127\.0\.0\.1, a (loopback|local-interface) address.*ARMORY_WEBHOOKS_ALLOW_PRIVATE/),
    });
    await expect(strict.create(projectId, { name: "Meta", url: "http://169.254.169.254/latest", format: "slack", events: ["turn.finished"] })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/link-local/),
    });
    // The URL in a secret is only known at send time: the delivery fails with a clear error, not retried.
    const hook = await strict.create(projectId, { name: "Later", urlSecret: "SLACK_URL", format: "slack", events: ["turn.finished"] });
    const before = receiver.at(SLACK_URL_PATH).length;
    const d = await strict.test(projectId, hook.id);
    expect(d).toMatchObject({ status: "failed", attempts: 1, responseStatus: null, nextAttemptAt: null });
    expect(d.error).toMatch(/127\.0\.0\.1, a (loopback|local-interface) address, which Armory does not connect to/);
    expect(receiver.at(SLACK_URL_PATH)).toHaveLength(before);
    await strict.close();
    await ownerCaller.notification.delete({ projectId, webhookId: hook.id });
  });

  it("never shows a secret value: not in listings, the delivery log, the audit log or the server log", async () => {
    const hooks = await ownerCaller.notification.list({ projectId });
    const logs = await Promise.all(hooks.map((h) => ownerCaller.notification.deliveries({ projectId, webhookId: h.id })));
    const audit = await armory.services.db.prisma.auditEvent.findMany({ where: { action: { startsWith: "notification." } } });
    expect(audit.filter((a) => a.action === "notification.create").length).toBeGreaterThan(3);
    expect(audit.some((a) => a.action === "notification.test")).toBe(true);
    const everything = JSON.stringify({ hooks, logs, audit }) + armory.logs.text;
    expect(everything).not.toContain(SIGNING_KEY);
    expect(everything).not.toContain("XXXXsecretpath");
  });

  it("lets only project admins manage webhooks (viewers and operators are refused)", async () => {
    const [hook] = await ownerCaller.notification.list({ projectId });
    for (const user of [viewer, operator]) {
      const c = await callerFor(armory.services, user);
      await expectTrpcError(c.notification.list({ projectId }), "FORBIDDEN");
      await expectTrpcError(c.notification.create({ projectId, name: "X", url: receiver.url("/x"), format: "slack", events: ["turn.finished"] }), "FORBIDDEN");
      await expectTrpcError(c.notification.update({ projectId, webhookId: hook!.id, enabled: false }), "FORBIDDEN");
      await expectTrpcError(c.notification.delete({ projectId, webhookId: hook!.id }), "FORBIDDEN");
      await expectTrpcError(c.notification.test({ projectId, webhookId: hook!.id }), "FORBIDDEN");
      await expectTrpcError(c.notification.deliveries({ projectId, webhookId: hook!.id }), "FORBIDDEN");
    }
    // Disabled webhooks get nothing; update keeps the other fields.
    const off = await ownerCaller.notification.update({ projectId, webhookId: hook!.id, enabled: false });
    expect(off).toMatchObject({ enabled: false, name: hook!.name, url: hook!.url, secretName: hook!.secretName });
    const count = receiver.at("/armory").length;
    armory.services.projectEvents.publish(turnFinished());
    await armory.services.notifications.idle();
    expect(receiver.at("/armory")).toHaveLength(count);
    await ownerCaller.notification.delete({ projectId, webhookId: hook!.id });
    expect((await ownerCaller.notification.list({ projectId })).some((h) => h.id === hook!.id)).toBe(false);
  });
});
