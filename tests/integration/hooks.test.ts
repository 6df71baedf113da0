// Inbound webhooks (issue 18, point 2) over real HTTP on a real database: GitHub's signature,
// Armory's generic HMAC (with its timestamp window) and the token kind, valid and not; the 202
// with the session and a recorded run and delivery; 401/404/413/415/429/400 and GitHub's ping;
// template rendering of nested fields; a named conversation kept across deliveries; rotation;
// replay; the secret never in responses, listings, the log or the audit; viewers refused.
// (The agent has no container: its turns fail at once, after the run is recorded. The 202 and
// the run prove the path; tests/e2e/hooks.spec.ts follows a delivery in the browser.)
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOOK_BODY_MAX_BYTES } from "@/contracts/hooks";
import { generateMasterKey } from "@/server/secrets/crypto";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { insertAgentRow } from "../support/trust";
import { expectTrpcError } from "../support/trpc-errors";

const sign = (secret: string, data: string) => `sha256=${createHmac("sha256", secret).update(data).digest("hex")}`;

const PR = {
  action: "opened",
  pull_request: { title: "Fix <the> \"flaky\" login test & more", number: 7 },
  sender: { login: "octocat" },
  repository: { full_name: "acme/shop" },
};

describe("inbound webhooks (pglite)", () => {
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let owner: TestUser;
  let viewer: TestUser;
  let projectId: string;
  let agentId: string;
  let ownerCaller: Awaited<ReturnType<typeof callerFor>>;
  const secrets: string[] = [];

  const post = (hookId: string, body: string, headers: Record<string, string>) =>
    fetch(`${http.url}/api/hooks/${hookId}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const runCount = () => armory.services.db.prisma.chatRun.count({ where: { agentId } });
  const deliveries = (hookId: string) => ownerCaller.hook.deliveries({ projectId, agentId, hookId });
  const create = async (input: Partial<Parameters<typeof ownerCaller.hook.create>[0]> & { verify: "github" | "hmac" | "token" }) => {
    const made = await ownerCaller.hook.create({
      projectId,
      agentId,
      name: `hook-${crypto.randomUUID().slice(0, 8)}`,
      template: "PR {{ payload.pull_request.title }} by {{ payload.sender.login }} ({{ event }})",
      ...input,
    });
    secrets.push(made.secret);
    return made;
  };

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    http = await startHttp(() => armory.services);
    owner = await signUp(armory.services, { name: "Owner" });
    viewer = await signUp(armory.services, { name: "Viewer" });
    ownerCaller = await callerFor(armory.services, owner);
    projectId = (await ownerCaller.project.create({ name: "Inbound" })).id;
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: viewer.id, role: "viewer" } });
    agentId = (await insertAgentRow(armory.services, projectId, "reviewer")).id;
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  it("accepts a GitHub-signed payload: 202 with the session, a recorded run, delivery and audit entry", async () => {
    const { hook, secret } = await create({ verify: "github" });
    expect(secret).toMatch(/^ahk_[A-Za-z0-9_-]{40,}$/);
    expect(hook.path).toBe(`/api/hooks/${hook.id}`);
    const body = JSON.stringify(PR);
    const res = await post(hook.id, body, { "x-hub-signature-256": sign(secret, body), "x-github-event": "pull_request", "x-github-delivery": "d-1" });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as { sessionId: string; runId: string; deliveryId: string };
    expect(answer).toEqual({ sessionId: expect.any(String), runId: expect.any(String), deliveryId: expect.any(String) });

    // The message rendered nested fields, without HTML escaping.
    const expected = 'PR Fix <the> "flaky" login test & more by octocat (pull_request)';
    const run = await armory.services.db.prisma.chatRun.findUniqueOrThrow({ where: { id: answer.runId } });
    expect(run).toMatchObject({ sessionId: answer.sessionId, agentId, userId: null, message: expected });
    // No container: the turn itself fails, and says why.
    const outcome = await armory.services.turns.outcome(answer.sessionId, answer.runId);
    expect(outcome.reason).toBe("agent_not_running");

    const [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ id: answer.deliveryId, status: "accepted", httpStatus: 202, event: "pull_request", message: expected, sessionId: answer.sessionId, runId: answer.runId, replayOf: null });
    expect(d!.payload).toEqual(PR);
    expect(d!.headers).toMatchObject({ "x-github-event": "pull_request", "x-github-delivery": "d-1", "content-type": "application/json" });
    expect(Object.keys(d!.headers)).not.toContain("x-hub-signature-256");

    const audit = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { requestId: `hook-delivery-${answer.deliveryId}` } });
    expect(audit).toMatchObject({ action: "hook.deliver", userId: null, projectId, agentId, agentName: "reviewer", allowed: true, permission: "chat" });
    expect(audit.reason).toContain(hook.name);
    expect(audit.reason).toContain(hook.id);

    const [listed] = (await ownerCaller.hook.list({ projectId, agentId })).filter((h) => h.id === hook.id);
    expect(listed!.lastDelivery).toMatchObject({ status: "accepted", httpStatus: 202 });
  });

  it("refuses a bad or missing GitHub signature with 401, records it as rejected and sends nothing", async () => {
    const { hook, secret } = await create({ verify: "github" });
    const body = JSON.stringify(PR);
    const before = await runCount();
    const wrong = await post(hook.id, body, { "x-hub-signature-256": sign("not-the-secret", body) });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/does not match/);
    // Signed, then the body altered.
    const tampered = await post(hook.id, body.replace("octocat", "mallory"), { "x-hub-signature-256": sign(secret, body) });
    expect(tampered.status).toBe(401);
    const missing = await post(hook.id, body, {});
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toMatch(/x-hub-signature-256 header is missing/);
    expect(await runCount()).toBe(before);
    const log = await deliveries(hook.id);
    expect(log.map((d) => [d.status, d.httpStatus, d.payload, d.runId])).toEqual([
      ["rejected", 401, null, null],
      ["rejected", 401, null, null],
      ["rejected", 401, null, null],
    ]);
  });

  it("verifies Armory's generic HMAC over timestamp and body, refusing a wrong signature and a stale timestamp", async () => {
    const { hook, secret } = await create({ verify: "hmac", template: "Build {{ payload.build.id }} of {{ payload.build.branch }}: {{ payload.build.status }}" });
    const body = JSON.stringify({ build: { id: 991, branch: "main", status: "red" } });
    const now = Math.floor(Date.now() / 1000);
    const ok = await post(hook.id, body, { "x-armory-timestamp": String(now), "x-armory-signature": sign(secret, `${now}.${body}`), "x-armory-event": "build" });
    expect(ok.status).toBe(202);
    const { runId } = (await ok.json()) as { runId: string };
    expect((await armory.services.db.prisma.chatRun.findUniqueOrThrow({ where: { id: runId } })).message).toBe("Build 991 of main: red");

    const before = await runCount();
    // The signature of another timestamp.
    const moved = await post(hook.id, body, { "x-armory-timestamp": String(now + 1), "x-armory-signature": sign(secret, `${now}.${body}`) });
    expect(moved.status).toBe(401);
    // Correctly signed, but six minutes old.
    const old = now - 360;
    const stale = await post(hook.id, body, { "x-armory-timestamp": String(old), "x-armory-signature": sign(secret, `${old}.${body}`) });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: string }).error).toMatch(/more than 5 minutes/);
    const noTs = await post(hook.id, body, { "x-armory-signature": sign(secret, `${now}.${body}`) });
    expect(noTs.status).toBe(401);
    expect(await runCount()).toBe(before);
  });

  it("accepts the token kind with the right token only, and form-encoded payloads as GitHub sends them", async () => {
    const { hook, secret } = await create({ verify: "token", template: "Alert: {{ payload.alert.name }}" });
    const before = await runCount();
    expect((await post(hook.id, JSON.stringify({ alert: { name: "x" } }), { "x-armory-hook-token": `${secret}x` })).status).toBe(401);
    expect((await post(hook.id, JSON.stringify({ alert: { name: "x" } }), {})).status).toBe(401);
    expect(await runCount()).toBe(before);

    const form = new URLSearchParams({ payload: JSON.stringify({ alert: { name: "disk full" } }) }).toString();
    const res = await post(hook.id, form, { "x-armory-hook-token": secret, "content-type": "application/x-www-form-urlencoded" });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    expect((await armory.services.db.prisma.chatRun.findUniqueOrThrow({ where: { id: runId } })).message).toBe("Alert: disk full");
    // A form without the payload field is not a delivery.
    const bad = await post(hook.id, "other=1", { "x-armory-hook-token": secret, "content-type": "application/x-www-form-urlencoded" });
    expect(bad.status).toBe(400);
  });

  it("answers GitHub's ping with 200 and starts no turn", async () => {
    const { hook, secret } = await create({ verify: "github" });
    const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    const before = await runCount();
    const res = await post(hook.id, body, { "x-hub-signature-256": sign(secret, body), "x-github-event": "ping" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, event: "ping" });
    expect(await runCount()).toBe(before);
    expect((await deliveries(hook.id))[0]).toMatchObject({ status: "accepted", httpStatus: 200, event: "ping", runId: null });
  });

  it("answers 404 alike for an unknown and a disabled hook, and nothing else for a disabled one", async () => {
    const { hook, secret } = await create({ verify: "github" });
    await ownerCaller.hook.update({ projectId, agentId, hookId: hook.id, enabled: false });
    const body = JSON.stringify(PR);
    const disabled = await post(hook.id, body, { "x-hub-signature-256": sign(secret, body) });
    const unknown = await post(crypto.randomUUID(), body, { "x-hub-signature-256": sign(secret, body) });
    const notAnId = await post("not-an-id", body, {});
    expect([disabled.status, unknown.status, notAnId.status]).toEqual([404, 404, 404]);
    const texts = await Promise.all([disabled.text(), unknown.text(), notAnId.text()]);
    expect(new Set(texts).size).toBe(1);
    expect(await deliveries(hook.id)).toEqual([]);
  });

  it("refuses a body over 256 KiB with 413 and a non-JSON body with 415 or 400", async () => {
    const { hook, secret } = await create({ verify: "github" });
    const big = JSON.stringify({ blob: "x".repeat(HOOK_BODY_MAX_BYTES) });
    const before = await runCount();
    const res = await post(hook.id, big, { "x-hub-signature-256": sign(secret, big) });
    expect(res.status).toBe(413);
    const text = "just words";
    const plain = await post(hook.id, text, { "x-hub-signature-256": sign(secret, text), "content-type": "text/plain" });
    expect(plain.status).toBe(415);
    const broken = "{not json";
    const notJson = await post(hook.id, broken, { "x-hub-signature-256": sign(secret, broken) });
    expect(notJson.status).toBe(400);
    expect(await runCount()).toBe(before);
    expect((await deliveries(hook.id)).map((d) => d.httpStatus)).toEqual([400, 415, 413]);
  });

  it("answers 429 with Retry-After over the hook's rate", async () => {
    const { hook, secret } = await create({ verify: "github", rateLimitPerMinute: 2 });
    const body = JSON.stringify(PR);
    const headers = { "x-hub-signature-256": sign(secret, body) };
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await post(hook.id, body, headers);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("retry-after");
    }
    expect(statuses).toEqual([202, 202, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect((await deliveries(hook.id))[0]).toMatchObject({ status: "rate_limited", httpStatus: 429, runId: null });
  });

  it("answers 400 when the template renders an empty message, and refuses a template that does not parse", async () => {
    const { hook, secret } = await create({ verify: "github", template: "{{ payload.missing.field }}" });
    const body = JSON.stringify(PR);
    const res = await post(hook.id, body, { "x-hub-signature-256": sign(secret, body) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/empty message/);
    expect((await deliveries(hook.id))[0]).toMatchObject({ status: "failed", httpStatus: 400 });

    await expectTrpcError(create({ verify: "github", template: "{{#payload.x}} never closed" }), "BAD_REQUEST", /does not parse/);
    await expectTrpcError(ownerCaller.hook.update({ projectId, agentId, hookId: hook.id, template: "{{ open" }), "BAD_REQUEST", /does not parse/);
  });

  it("keeps one named conversation across deliveries", async () => {
    const { hook, secret } = await create({ verify: "github", session: "named", sessionName: "GitHub reviews" });
    const body = JSON.stringify(PR);
    const first = (await (await post(hook.id, body, { "x-hub-signature-256": sign(secret, body) })).json()) as { sessionId: string; runId: string };
    await armory.services.turns.outcome(first.sessionId, first.runId);
    const second = (await (await post(hook.id, body, { "x-hub-signature-256": sign(secret, body) })).json()) as { sessionId: string; runId: string };
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.runId).not.toBe(first.runId);
    const session = await armory.services.db.prisma.chatSession.findUniqueOrThrow({ where: { id: first.sessionId } });
    expect(session.title).toBe("GitHub reviews");
  });

  it("rotates the secret: the old one stops verifying, the new one works", async () => {
    const { hook, secret } = await create({ verify: "github" });
    const rotated = await ownerCaller.hook.rotateSecret({ projectId, agentId, hookId: hook.id });
    secrets.push(rotated.secret);
    expect(rotated.secret).not.toBe(secret);
    const body = JSON.stringify(PR);
    expect((await post(hook.id, body, { "x-hub-signature-256": sign(secret, body) })).status).toBe(401);
    expect((await post(hook.id, body, { "x-hub-signature-256": sign(rotated.secret, body) })).status).toBe(202);
  });

  it("replays a delivery as a new delivery naming the original", async () => {
    const { hook, secret } = await create({ verify: "github" });
    const body = JSON.stringify(PR);
    const first = (await (await post(hook.id, body, { "x-hub-signature-256": sign(secret, body), "x-github-event": "pull_request" })).json()) as { deliveryId: string; runId: string };
    // The template changed since: the replay renders with the current one.
    await ownerCaller.hook.update({ projectId, agentId, hookId: hook.id, template: "Again: {{ payload.pull_request.number }} ({{ event }})" });
    const replay = await ownerCaller.hook.replay({ projectId, agentId, deliveryId: first.deliveryId });
    expect(replay).toMatchObject({ status: "accepted", httpStatus: 202, replayOf: first.deliveryId, message: "Again: 7 (pull_request)", event: "pull_request" });
    expect(replay.id).not.toBe(first.deliveryId);
    expect(replay.runId).not.toBe(first.runId);
    expect((await deliveries(hook.id)).map((d) => d.id)).toEqual([replay.id, first.deliveryId]);
    expect(await armory.services.db.prisma.auditEvent.count({ where: { action: "hook.replay", projectId } })).toBeGreaterThanOrEqual(1);

    // A rejected delivery has no verified payload to replay.
    await post(hook.id, body, { "x-hub-signature-256": "sha256=00" });
    const rejected = (await deliveries(hook.id))[0]!;
    expect(rejected.status).toBe("rejected");
    await expectTrpcError(ownerCaller.hook.replay({ projectId, agentId, deliveryId: rejected.id }), "BAD_REQUEST", /nothing to replay/);
    // A disabled webhook replays nothing.
    await ownerCaller.hook.update({ projectId, agentId, hookId: hook.id, enabled: false });
    await expectTrpcError(ownerCaller.hook.replay({ projectId, agentId, deliveryId: first.deliveryId }), "PRECONDITION_FAILED", /disabled/);
  });

  it("lets viewers read hooks and deliveries but not create, change, rotate or replay", async () => {
    const viewerCaller = await callerFor(armory.services, viewer);
    const { hook } = await create({ verify: "token" });
    const listed = await viewerCaller.hook.list({ projectId, agentId });
    expect(listed.map((h) => h.id)).toContain(hook.id);
    await expectTrpcError(viewerCaller.hook.create({ projectId, agentId, name: "nope", verify: "github", template: "x" }), "FORBIDDEN");
    await expectTrpcError(viewerCaller.hook.update({ projectId, agentId, hookId: hook.id, enabled: false }), "FORBIDDEN");
    await expectTrpcError(viewerCaller.hook.rotateSecret({ projectId, agentId, hookId: hook.id }), "FORBIDDEN");
    await expectTrpcError(viewerCaller.hook.delete({ projectId, agentId, hookId: hook.id }), "FORBIDDEN");
    expect(await viewerCaller.hook.deliveries({ projectId, agentId, hookId: hook.id })).toEqual([]);
  });

  it("keeps the newest 200 deliveries of a hook", async () => {
    const { hook, secret } = await create({ verify: "github" });
    const prisma = armory.services.db.prisma;
    const t0 = Date.now() - 3_600_000;
    await prisma.hookDelivery.createMany({
      data: Array.from({ length: 200 }, (_, i) => ({ hookId: hook.id, receivedAt: new Date(t0 + i * 1000), status: "rejected" as const, httpStatus: 401, error: `old ${i}` })),
    });
    const body = JSON.stringify(PR);
    expect((await post(hook.id, body, { "x-hub-signature-256": sign(secret, body) })).status).toBe(202);
    const kept = await prisma.hookDelivery.findMany({ where: { hookId: hook.id }, orderBy: { receivedAt: "asc" } });
    expect(kept).toHaveLength(200);
    // The oldest went; the newest (the accepted one) stayed.
    expect(kept[0]!.error).toBe("old 1");
    expect(kept.at(-1)!.status).toBe("accepted");
  });

  it("re-encrypts webhook secrets in a master-key rotation: they keep verifying", async () => {
    const { hook, secret } = await create({ verify: "github" });
    const prisma = armory.services.db.prisma;
    const before = await prisma.inboundHook.findUniqueOrThrow({ where: { id: hook.id } });
    const next = generateMasterKey();
    const result = await armory.services.secrets.rotate(next.key);
    expect(result.reencrypted).toBeGreaterThanOrEqual(await prisma.inboundHook.count());
    const after = await prisma.inboundHook.findUniqueOrThrow({ where: { id: hook.id } });
    expect(after.secretKeyId).toBe(next.key.id);
    expect(after.secretKeyId).not.toBe(before.secretKeyId);
    expect(after.secretCiphertext).not.toBe(before.secretCiphertext);
    const body = JSON.stringify(PR);
    expect((await post(hook.id, body, { "x-hub-signature-256": sign(secret, body) })).status).toBe(202);
  });

  it("never shows a secret outside create and rotate: not in listings, deliveries, the log or the audit", async () => {
    expect(secrets.length).toBeGreaterThan(5);
    const listing = JSON.stringify(await ownerCaller.hook.list({ projectId, agentId }));
    const hooks = await armory.services.db.prisma.inboundHook.findMany({ where: { agentId } });
    const allDeliveries = JSON.stringify(await Promise.all(hooks.map((h) => deliveries(h.id))));
    const audit = JSON.stringify(await armory.services.db.prisma.auditEvent.findMany({ where: { projectId } }));
    const stored = JSON.stringify(hooks);
    for (const s of secrets) {
      expect(listing).not.toContain(s);
      expect(allDeliveries).not.toContain(s);
      expect(audit).not.toContain(s);
      expect(armory.logs.text).not.toContain(s);
      // Sealed at rest.
      expect(stored).not.toContain(s);
    }
    expect(listing).not.toMatch(/secretCiphertext/);
  });
});
