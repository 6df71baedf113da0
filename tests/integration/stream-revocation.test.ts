// Permissions hold for the life of a stream: over real HTTP (SSE), an open subscription ends with
// an error the client sees within one second of the change that took its permission away —
// member removed, role lowered below what the stream needs, token revoked / rotated / expiring,
// grant deleted / changed / expiring, user disabled, sessions revoked — while other callers'
// streams stay open. Also: health.summary honours a token's project limit, and a member's grants
// go when the member does.
import http from "node:http";
import { createTRPCClient, httpSubscriptionLink, splitLink, httpBatchLink, TRPCClientError } from "@trpc/client";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { EventSource } from "eventsource";
import superjson from "superjson";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createArmoryClient } from "@/client";
import { agentProcedure } from "@/server/api/middleware/agent-access";
import { projectProcedure } from "@/server/api/middleware/project-access";
import { appRouter } from "@/server/api/root";
import { authedProcedure, createContext, router } from "@/server/api/trpc";
import { onAccessChange, type AccessChange } from "@/server/trust/access-events";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { httpClient } from "../support/http-server";
import { insertAgentRow, makeToken } from "../support/trust";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;
type Auth = { cookie: string; token?: undefined } | { token: string; cookie?: undefined };

/** Probe streams open right now (their generators' finally ran when this drops). */
let probesOpen = 0;
async function* probeStream(signal: AbortSignal | undefined): AsyncGenerator<string> {
  probesOpen++;
  try {
    yield "open";
    await new Promise<void>((resolve) => (signal?.aborted ? resolve() : signal?.addEventListener("abort", () => resolve(), { once: true })));
  } finally {
    probesOpen--;
  }
}

// Every Armory stream needs only the viewer role today (inspect, logs, stats, file_read), so
// "a role lowered below what the stream needs" and "a grant that was the only way in" are shown
// on streams that need more, built from the same middlewares and served over the same SSE.
const probeRouter = router({
  needsOperator: projectProcedure("operator").subscription(({ signal }) => probeStream(signal)),
  needsChat: agentProcedure("chat").input(z.object({ tag: z.string().optional() })).subscription(({ signal }) => probeStream(signal)),
});

/** The probe router over real HTTP, through Armory's real context (cookie or bearer token). */
async function startProbeHttp(armory: TestArmory): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const aborted = new AbortController();
    res.on("close", () => aborted.abort());
    const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, signal: aborted.signal });
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: request,
      router: probeRouter,
      createContext: ({ info }) => createContext({ services: armory.services, headers, connectionParams: info.connectionParams }),
    });
    res.statusCode = response.status;
    response.headers.forEach((value, key) => res.setHeader(key, value));
    if (response.body) for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** A typed client (cookie or token) for the probe router. */
function probeClientFor(url: string, auth: Auth) {
  const headers: Record<string, string> = auth.cookie ? { cookie: auth.cookie } : { authorization: `Bearer ${auth.token}` };
  return createTRPCClient<typeof probeRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: `${url}/api/trpc`,
          transformer: superjson,
          EventSource,
          eventSourceOptions: { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
        }),
        false: httpBatchLink({ url: `${url}/api/trpc`, transformer: superjson, headers: () => headers }),
      }),
    ],
  });
}

interface Watched {
  /** Resolves when the server accepted the subscription (its permission checks passed). */
  started: Promise<void>;
  /** Resolves when the stream ends: with the error the client saw, and when (Date.now()). */
  ended: Promise<{ error: TRPCClientError<never> | null; at: number }>;
  /** Resolves with the next event after now that matches. */
  nextEvent(match: (d: unknown) => boolean): Promise<unknown>;
  isOpen(): boolean;
  close(): void;
}

type Handlers = { onStarted: () => void; onData: (d: unknown) => void; onError: (e: unknown) => void; onComplete: () => void };

/** Opens a subscription and tracks it. */
function watch(subscribe: (h: Handlers) => { unsubscribe(): void }): Watched {
  let open = true;
  let started!: () => void;
  let ended!: (v: { error: TRPCClientError<never> | null; at: number }) => void;
  let waiting: { match: (d: unknown) => boolean; resolve: (d: unknown) => void }[] = [];
  const w = {
    started: new Promise<void>((r) => (started = r)),
    ended: new Promise<{ error: TRPCClientError<never> | null; at: number }>((r) => (ended = r)),
  };
  const sub = subscribe({
    onStarted: () => started(),
    onData: (d) => {
      const hit = waiting.filter((w) => w.match(d));
      waiting = waiting.filter((w) => !hit.includes(w));
      for (const w of hit) w.resolve(d);
    },
    onError: (e) => {
      open = false;
      ended({ error: e as TRPCClientError<never>, at: Date.now() });
    },
    onComplete: () => {
      open = false;
      ended({ error: null, at: Date.now() });
    },
  });
  return {
    ...w,
    nextEvent: (match) => new Promise((resolve) => waiting.push({ match, resolve })),
    isOpen: () => open,
    close: () => sub.unsubscribe(),
  };
}

/** The next access change published (and when), to time a stream's end from the change itself. */
function nextAccessChange(match: (c: AccessChange) => boolean): Promise<number> {
  return new Promise((resolve) => {
    const off = onAccessChange((c) => {
      if (!match(c)) return;
      off();
      resolve(Date.now());
    });
  });
}

const codeOf = (e: TRPCClientError<never> | null) => (e?.data as { code?: string } | undefined)?.code ?? (e ? "no code" : "completed without error");

/** Asserts the stream ended with `code` within a second of `since`; returns the measured ms. */
async function expectEndedWithin(w: Watched, code: "FORBIDDEN" | "UNAUTHORIZED" | "NOT_FOUND", since: Promise<number> | number, label: string): Promise<number> {
  const { error, at } = await w.ended;
  const ms = at - (await since);
  expect(codeOf(error), label).toBe(code);
  expect(ms, label).toBeLessThan(1000);
  console.log(`${label}: stream ended ${ms} ms after the change (${code}: ${error?.message})`);
  return ms;
}

describe("streams end when their permission does (real HTTP, SSE)", () => {
  let armory: TestArmory;
  let app: { url: string; close(): Promise<void> };
  let probe: { url: string; close(): Promise<void> };
  let admin: TestUser;
  let adminCaller: Caller;
  let projectId: string;
  let otherProjectId: string;
  let agentId: string;
  let bystander: TestUser;
  const open: Watched[] = [];
  const track = (w: Watched) => (open.push(w), w);

  /** A fresh user, member of the project with `role`. */
  async function member(role: "viewer" | "operator" | "admin", name = "Member"): Promise<TestUser> {
    const u = await signUp(armory.services, { name });
    await adminCaller.project.members.add({ projectId, email: u.email, role });
    return u;
  }
  const appClient = (auth: Auth) => (auth.token !== undefined ? createArmoryClient({ url: app.url, token: auth.token, EventSource }) : httpClient(app.url, auth.cookie));
  const probeClient = (auth: Auth) => probeClientFor(probe.url, auth);
  const onStatus = (auth: Auth) => track(watch((h) => appClient(auth).agent.onStatus.subscribe({ projectId }, h)));
  const onFiles = (auth: Auth) =>
    track(watch((h) => appClient(auth).files.onChange.subscribe({ projectId, agentId }, h)));
  /** Proves a stream still delivers: publishes a file event and waits for it. */
  async function expectDelivers(w: Watched, label: string) {
    const got = w.nextEvent((d) => (d as { path?: string }).path === `/workspace/${label}`);
    armory.services.files.events.publish({ type: "agent-file-changed", projectId, agentId, path: `/workspace/${label}`, change: "written", source: "armory", sha256: null, size: 1, at: new Date() });
    expect(await got, label).toMatchObject({ path: `/workspace/${label}` });
    expect(w.isOpen(), label).toBe(true);
  }

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    app = await startHttp(() => armory.services);
    probe = await startProbeHttp(armory);
    admin = await signUp(armory.services, { name: "Admin" }); // the first account: instance admin
    adminCaller = await callerFor(armory.services, admin);
    projectId = (await adminCaller.project.create({ name: "Streams" })).id;
    otherProjectId = (await adminCaller.project.create({ name: "Elsewhere" })).id;
    agentId = (await insertAgentRow(armory.services, projectId, "watched")).id;
    bystander = await member("viewer", "Bystander");
  }, 120_000);

  afterAll(async () => {
    for (const w of open) w.close();
    await probe?.close();
    await app?.close();
    await armory?.close();
  });

  it("a removed member's streams end (403) within a second, their generators are released, and others' streams stay open", async () => {
    const m = await member("viewer");
    const baseline = armory.services.agents.bus.subscriberCount;
    const status = onStatus({ cookie: m.cookie });
    const files = onFiles({ cookie: m.cookie });
    const c = appClient({ cookie: m.cookie });
    const ref = { projectId, agentId };
    const more = {
      "agentConfig.onReload": track(watch((h) => c.agentConfig.onReload.subscribe(ref, h))),
      "version.onUpdate": track(watch((h) => c.version.onUpdate.subscribe(ref, h))),
      "health.statsStream": track(watch((h) => c.health.statsStream.subscribe(ref, h))),
    };
    const other = onFiles({ cookie: bystander.cookie });
    await Promise.all([status.started, files.started, other.started, ...Object.values(more).map((w) => w.started)]);
    expect(armory.services.agents.bus.subscriberCount).toBe(baseline + 1);
    const changed = nextAccessChange((c) => c.kind === "member" && c.userId === m.id);
    await adminCaller.project.members.remove({ projectId, userId: m.id });
    await expectEndedWithin(status, "FORBIDDEN", changed, "member removed (agent.onStatus)");
    await expectEndedWithin(files, "FORBIDDEN", changed, "member removed (files.onChange)");
    for (const [name, w] of Object.entries(more)) await expectEndedWithin(w, "FORBIDDEN", changed, `member removed (${name})`);
    // Each ending is a refusal in the audit log, like any refused call.
    const ended = () =>
      armory.services.db.prisma.auditEvent.findMany({ where: { userId: m.id, type: "subscription", allowed: false }, select: { action: true, reason: true, outcome: true, projectId: true } });
    await expect.poll(async () => (await ended()).map((e) => e.action).sort(), { timeout: 2000 }).toEqual(
      ["agent.onStatus", "agentConfig.onReload", "files.onChange", "health.statsStream", "version.onUpdate"],
    );
    expect((await ended())[0]).toMatchObject({ outcome: "FORBIDDEN", projectId, reason: expect.stringMatching(/^Stream ended: .*member/) });
    expect((await status.ended).error?.message).toMatch(/not a member|member/i);
    // The procedure's generator was returned: its bus listener is gone.
    await expect.poll(() => armory.services.agents.bus.subscriberCount, { timeout: 2000 }).toBe(baseline);
    await expectDelivers(other, "after-removal");
  });

  it("lowering a role below what a stream needs ends it; a stream the new role still allows stays open", async () => {
    const m = await member("operator");
    const peer = await member("operator", "Peer");
    const needsOperator = track(watch((h) => probeClient({ cookie: m.cookie }).needsOperator.subscribe({ projectId }, h)));
    const viewerLevel = onFiles({ cookie: m.cookie });
    const peerStream = track(watch((h) => probeClient({ cookie: peer.cookie }).needsOperator.subscribe({ projectId }, h)));
    await Promise.all([needsOperator.started, viewerLevel.started, peerStream.started]);
    const changed = nextAccessChange((c) => c.kind === "member" && c.userId === m.id);
    await adminCaller.project.members.updateRole({ projectId, userId: m.id, role: "viewer" });
    await expectEndedWithin(needsOperator, "FORBIDDEN", changed, "role lowered to viewer (needs operator)");
    expect((await needsOperator.ended).error?.message).toMatch(/operator/);
    await expectDelivers(viewerLevel, "still-a-viewer");
    expect(peerStream.isOpen()).toBe(true);
    await expect.poll(() => probesOpen, { timeout: 2000 }).toBe(1); // only the peer's probe is left
  });

  it("revoking or rotating a token ends the streams opened with it (401); the owner's other token and cookie streams stay open", async () => {
    const m = await member("viewer");
    const revoked = await makeToken(armory.services, m.id, { name: "to revoke", scopes: ["read"] });
    const rotated = await makeToken(armory.services, m.id, { name: "to rotate", scopes: ["read"] });
    const kept = await makeToken(armory.services, m.id, { name: "kept", scopes: ["read"] });
    const viaRevoked = onStatus({ token: revoked.token });
    const viaRotated = onFiles({ token: rotated.token });
    const viaKept = onFiles({ token: kept.token });
    const viaCookie = onFiles({ cookie: m.cookie });
    await Promise.all([viaRevoked.started, viaRotated.started, viaKept.started, viaCookie.started]);
    const mine = await callerFor(armory.services, m);

    let changed = nextAccessChange((c) => c.kind === "token" && c.tokenId === revoked.summary.id);
    await mine.token.revoke({ tokenId: revoked.summary.id });
    await expectEndedWithin(viaRevoked, "UNAUTHORIZED", changed, "token revoked");
    expect((await viaRevoked.ended).error?.message).toMatch(/revoked/);

    changed = nextAccessChange((c) => c.kind === "token" && c.tokenId === rotated.summary.id);
    const fresh = await mine.token.rotate({ tokenId: rotated.summary.id });
    await expectEndedWithin(viaRotated, "UNAUTHORIZED", changed, "token rotated");
    expect((await viaRotated.ended).error?.message).toMatch(/rotated/);
    // The new secret opens streams again.
    const viaFresh = onFiles({ token: fresh.token });
    await viaFresh.started;
    await expectDelivers(viaFresh, "fresh-secret");
    await expectDelivers(viaKept, "other-token");
    await expectDelivers(viaCookie, "cookie-of-token-owner");
  });

  it("a token's stream ends when the token expires (a timer at its expiry, not polling)", async () => {
    const m = await member("viewer");
    const expiresAt = new Date(Date.now() + 2500);
    const expiring = await makeToken(armory.services, m.id, { name: "short", scopes: ["read"], expiresAt });
    const stream = onStatus({ token: expiring.token });
    const other = onFiles({ cookie: m.cookie });
    await Promise.all([stream.started, other.started]);
    expect(stream.isOpen()).toBe(true);
    const { at } = await stream.ended;
    expect(at).toBeGreaterThanOrEqual(expiresAt.getTime() - 50); // not before the expiry (clock granularity aside)
    await expectEndedWithin(stream, "UNAUTHORIZED", expiresAt.getTime(), "token expired");
    expect((await stream.ended).error?.message).toMatch(/expired/);
    await expectDelivers(other, "after-token-expiry");
  });

  it("deleting, narrowing or letting expire the grant a stream rests on ends it (403); another caller's grant keeps theirs open", async () => {
    // Viewers may not chat by default: a grant is their only way to a stream that needs chat.
    const m = await member("viewer");
    const peer = await member("viewer", "Peer");
    const grant = (userId: string, expiresAt?: Date) =>
      adminCaller.trust.create({ projectId, callerType: "user", callerId: userId, targetType: "agent", target: agentId, permissions: { chat: true }, expiresAt });
    const mine = await grant(m.id);
    await grant(peer.id);
    const mStream = track(watch((h) => probeClient({ cookie: m.cookie }).needsChat.subscribe({ projectId, agentId }, h)));
    const peerStream = track(watch((h) => probeClient({ cookie: peer.cookie }).needsChat.subscribe({ projectId, agentId }, h)));
    await Promise.all([mStream.started, peerStream.started]);
    let changed = nextAccessChange((c) => c.kind === "grant");
    await adminCaller.trust.delete({ projectId, grantId: mine.id });
    await expectEndedWithin(mStream, "FORBIDDEN", changed, "grant deleted");
    expect((await mStream.ended).error?.message).toMatch(/chat permission/);
    expect(peerStream.isOpen()).toBe(true);

    // Narrowed: the grant no longer gives chat.
    const again = await grant(m.id);
    const second = track(watch((h) => probeClient({ cookie: m.cookie }).needsChat.subscribe({ projectId, agentId, tag: "2" }, h)));
    await second.started;
    changed = nextAccessChange((c) => c.kind === "grant");
    await adminCaller.trust.update({ projectId, grantId: again.id, permissions: { chat: false, inspect: true } });
    await expectEndedWithin(second, "FORBIDDEN", changed, "grant changed (chat removed)");
    await adminCaller.trust.delete({ projectId, grantId: again.id });

    // Expiring: the stream ends at the grant's expiry.
    const expiresAt = new Date(Date.now() + 2500);
    await grant(m.id, expiresAt);
    const third = track(watch((h) => probeClient({ cookie: m.cookie }).needsChat.subscribe({ projectId, agentId, tag: "3" }, h)));
    await third.started;
    await expectEndedWithin(third, "FORBIDDEN", expiresAt.getTime(), "grant expired");
    expect((await third.ended).error?.message).toMatch(/expired/);
    expect(peerStream.isOpen()).toBe(true);
  });

  it("disabling a user ends their cookie and token streams (401) within a second; revoking sessions ends cookie streams", async () => {
    const m = await member("viewer");
    const t = await makeToken(armory.services, m.id, { name: "theirs", scopes: ["read"] });
    const viaCookie = onStatus({ cookie: m.cookie });
    const viaToken = onFiles({ token: t.token });
    const other = onFiles({ cookie: bystander.cookie });
    await Promise.all([viaCookie.started, viaToken.started, other.started]);
    const changed = nextAccessChange((c) => c.kind === "user" && c.userId === m.id);
    await adminCaller.admin.disableUser({ userId: m.id });
    await expectEndedWithin(viaCookie, "UNAUTHORIZED", changed, "user disabled (cookie)");
    await expectEndedWithin(viaToken, "UNAUTHORIZED", changed, "user disabled (token)");
    await expectDelivers(other, "after-disable");

    const s = await member("viewer", "Signed out");
    const sStream = onFiles({ cookie: s.cookie });
    await sStream.started;
    const signedOut = nextAccessChange((c) => c.kind === "user" && c.userId === s.id);
    await adminCaller.admin.revokeSessions({ userId: s.id });
    await expectEndedWithin(sStream, "UNAUTHORIZED", signedOut, "sessions revoked");
    expect((await sStream.ended).error?.message).toMatch(/session/);
  });

  it("deleting a project ends its members' streams of it (404: the project is gone); their streams of other projects stay open", async () => {
    const doomed = (await adminCaller.project.create({ name: "Doomed" })).id;
    const m = await member("viewer");
    await adminCaller.project.members.add({ projectId: doomed, email: m.email, role: "viewer" });
    const there = track(watch((h) => appClient({ cookie: m.cookie }).agent.onStatus.subscribe({ projectId: doomed }, h)));
    const here = onFiles({ cookie: m.cookie });
    await Promise.all([there.started, here.started]);
    const changed = nextAccessChange((c) => c.kind === "member" && c.projectId === doomed && c.userId === m.id);
    await adminCaller.project.delete({ projectId: doomed });
    await expectEndedWithin(there, "NOT_FOUND", changed, "project deleted");
    await expectDelivers(here, "other-project-stream");
  });

  it("every subscription of the API is guarded (built on authedProcedure, whose middleware wraps the stream)", () => {
    const authed = authedProcedure._def.middlewares.at(-1);
    const subscriptions = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string; middlewares: unknown[] } }>).filter(
      ([, p]) => p._def.type === "subscription",
    );
    expect(subscriptions.map(([name]) => name)).toEqual(expect.arrayContaining(["agent.onStatus", "chat.stream", "logs.follow", "files.onChange", "health.statsStream", "version.onUpdate", "agentConfig.onReload"]));
    for (const [name, p] of subscriptions) expect(p._def.middlewares, name).toContain(authed);
  });

  it("health.summary honours a token's project limit", async () => {
    await insertAgentRow(armory.services, otherProjectId, "elsewhere");
    const limited = await makeToken(armory.services, admin.id, { name: "only Streams", scopes: ["read"], projectIds: [projectId] });
    const client = createArmoryClient({ url: app.url, token: limited.token });
    const summary = await client.health.summary.query();
    expect(new Set(summary.agents.map((a) => a.projectId))).toEqual(new Set([projectId]));
    expect(summary.totals.agents).toBe(summary.agents.length);
    await expect(client.health.summary.query({ projectId: otherProjectId })).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    // Unlimited, the same user sees both projects.
    const all = await adminCaller.health.summary();
    expect(new Set(all.agents.map((a) => a.projectId))).toEqual(new Set([projectId, otherProjectId]));
  });

  it("removing a member deletes their grants in that project (to the user and to their tokens), and nothing else", async () => {
    const m = await member("viewer");
    await adminCaller.project.members.add({ projectId: otherProjectId, email: m.email, role: "viewer" });
    const t = await makeToken(armory.services, m.id, { name: "granted", scopes: ["read"] });
    const base = { targetType: "agent" as const, target: agentId, permissions: { chat: true } };
    const toUser = await adminCaller.trust.create({ projectId, callerType: "user", callerId: m.id, ...base });
    const toToken = await adminCaller.trust.create({ projectId, callerType: "token", callerId: t.summary.id, ...base });
    const toBystander = await adminCaller.trust.create({ projectId, callerType: "user", callerId: bystander.id, ...base });
    const elsewhereAgent = await insertAgentRow(armory.services, otherProjectId, "kept-grant");
    const inOther = await adminCaller.trust.create({ projectId: otherProjectId, callerType: "user", callerId: m.id, targetType: "agent", target: elsewhereAgent.id, permissions: { chat: true } });
    await adminCaller.project.members.remove({ projectId, userId: m.id });
    const left = await armory.services.db.prisma.trustGrant.findMany({ where: { id: { in: [toUser.id, toToken.id, toBystander.id, inOther.id] } }, select: { id: true } });
    expect(left.map((g) => g.id).sort()).toEqual([toBystander.id, inOther.id].sort());
    await expectTrpcError(adminCaller.project.members.remove({ projectId, userId: m.id }), "NOT_FOUND");
  });
});
