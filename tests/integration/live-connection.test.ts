// The browser's live connection (tRPC over WebSocket at /api/trpc-ws), over a real HTTP server with
// Armory's own upgrade listener and real WebSocket clients (the `ws` package; tRPC's wsLink client
// where the browser uses it): cross-site upgrades refused before the handshake, subscriptions only,
// bounded messages, a cap on sockets per user, the per-user subscription caps and the stream guard
// holding exactly as over SSE, a heartbeat that reaps dead tabs, clean shutdown, one log line per
// connection, and resume after a dropped socket (chat events neither lost nor duplicated).
import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from "@trpc/client";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { AppRouter } from "@/server/api/root";
import { LIVE_CLOSE, LIVE_ENDPOINT, LIVE_MAX_MESSAGE_BYTES } from "@/server/api/ws";
import { onAccessChange } from "@/server/trust/access-events";
import { callerFor, signUp, startHttp, startTestArmory, testConfig, type TestArmory, type TestUser } from "../support/armory";
import { httpClient } from "../support/http-server";
import { insertAgentRow, makeToken } from "../support/trust";

type Caller = Awaited<ReturnType<typeof callerFor>>;
type Server = Awaited<ReturnType<typeof startHttp>>;

const MAX_SOCKETS = 3;
const MAX_SUBSCRIPTIONS = 6;

const wsUrl = (httpUrl: string, path = LIVE_ENDPOINT) => `${httpUrl.replace(/^http/, "ws")}${path}`;

/** What a raw upgrade request got: the HTTP status of a refusal (and its body), or "open". */
function upgrade(url: string, headers: Record<string, string>): Promise<{ status: number | "open"; body: string; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => resolve({ status: "open", body: "", ws }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ws }));
    });
    ws.once("error", (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

/** A raw socket that speaks tRPC's wire format by hand (and, unlike tRPC's client, never answers PING). */
class RawLive {
  readonly messages: unknown[] = [];
  readonly pings: number[] = [];
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  private waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() })));
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (text === "PING") return void this.pings.push(Date.now());
      const msg = JSON.parse(text) as Record<string, unknown>;
      this.messages.push(msg);
      const hit = this.waiters.filter((w) => w.match(msg));
      this.waiters = this.waiters.filter((w) => !hit.includes(w));
      for (const w of hit) w.resolve(msg);
    });
  }
  static async open(url: string, headers: Record<string, string>): Promise<RawLive> {
    const ws = new WebSocket(url, { headers });
    const raw = new RawLive(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return raw;
  }
  next(match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const seen = this.messages.find((m) => match(m as Record<string, unknown>));
    if (seen) return Promise.resolve(seen as Record<string, unknown>);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
  send(method: "subscription" | "query" | "mutation", id: number, path: string, input: unknown) {
    this.ws.send(JSON.stringify({ id, method, params: { path, input: superjson.serialize(input) } }));
  }
  /** Subscribes and resolves with the server's first answer to it ("started" or an error). */
  async subscribe(id: number, path: string, input: unknown): Promise<Record<string, unknown>> {
    this.send("subscription", id, path, input);
    return this.next((m) => m.id === id);
  }
}

/** tRPC's own WebSocket client (as the browser's), with a cookie or a token, on Node's `ws`. */
function liveClient(httpUrl: string, auth: { cookie?: string; token?: string }, retryMs = 50) {
  const sockets: WebSocket[] = [];
  const headers = auth.cookie ? { cookie: auth.cookie } : {};
  class CookieSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers });
      sockets.push(this);
    }
  }
  const wsc = createWSClient({
    url: wsUrl(httpUrl),
    WebSocket: CookieSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: auth.token ? { token: auth.token } : undefined,
    retryDelayMs: () => retryMs,
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink<AppRouter>({ client: wsc, transformer: superjson })] });
  return { client, wsc, sockets, close: () => wsc.close() };
}

interface Watched<T = unknown> {
  started: Promise<void>;
  starts: number;
  data: T[];
  ended: Promise<{ error: TRPCClientError<AppRouter> | null; at: number }>;
  nextData(match: (d: T) => boolean): Promise<T>;
  isOpen(): boolean;
  close(): void;
}

type Handlers<T> = { onStarted: () => void; onData: (d: T) => void; onError: (e: unknown) => void; onComplete: () => void };

function watch<T>(subscribe: (h: Handlers<T>) => { unsubscribe(): void }): Watched<T> {
  let open = true;
  let started!: () => void;
  let ended!: (v: { error: TRPCClientError<AppRouter> | null; at: number }) => void;
  let waiting: { match: (d: T) => boolean; resolve: (d: T) => void }[] = [];
  const w: Watched<T> = {
    started: new Promise<void>((r) => (started = r)),
    starts: 0,
    data: [],
    ended: new Promise((r) => (ended = r)),
    // The first matching event received so far, or the next one to come.
    nextData: (match) => {
      const seen = w.data.find(match);
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ match, resolve }));
    },
    isOpen: () => open,
    close: () => sub.unsubscribe(),
  };
  const sub = subscribe({
    onStarted: () => {
      w.starts++;
      started();
    },
    onData: (d) => {
      w.data.push(d);
      const hit = waiting.filter((x) => x.match(d));
      waiting = waiting.filter((x) => !hit.includes(x));
      for (const x of hit) x.resolve(d);
    },
    onError: (e) => {
      open = false;
      ended({ error: e as TRPCClientError<AppRouter>, at: Date.now() });
    },
    onComplete: () => {
      open = false;
      ended({ error: null, at: Date.now() });
    },
  });
  return w;
}

const codeOf = (e: TRPCClientError<AppRouter> | null) => (e?.data as { code?: string } | undefined)?.code ?? (e ? "no code" : "completed");

function nextAccessChange(match: (c: { kind: string; userId?: string }) => boolean): Promise<number> {
  return new Promise((resolve) => {
    const off = onAccessChange((c) => {
      if (!match(c as { kind: string; userId?: string })) return;
      off();
      resolve(Date.now());
    });
  });
}

describe("the live connection (tRPC over WebSocket)", () => {
  let armory: TestArmory;
  let app: Server;
  let admin: TestUser;
  let adminCaller: Caller;
  let projectId: string;
  let agentId: string;
  const cleanup: (() => unknown)[] = [];

  async function member(role: "viewer" | "operator" | "admin", name = "Member"): Promise<TestUser> {
    const u = await signUp(armory.services, { name });
    await adminCaller.project.members.add({ projectId, email: u.email, role });
    return u;
  }
  function client(auth: { cookie?: string; token?: string }, retryMs?: number) {
    const c = liveClient(app.url, auth, retryMs);
    cleanup.push(() => c.close());
    return c;
  }
  async function raw(headers: Record<string, string>, server: Server = app): Promise<RawLive> {
    const r = await RawLive.open(wsUrl(server.url), headers);
    cleanup.push(() => r.ws.terminate());
    return r;
  }
  const onStatus = (c: ReturnType<typeof liveClient>) => {
    const w = watch<{ type: string }>((h) => c.client.agent.onStatus.subscribe({ projectId }, h));
    cleanup.push(() => w.close());
    return w;
  };
  const publishFile = (name: string) =>
    armory.services.files.events.publish({ type: "agent-file-changed", projectId, agentId, path: `/workspace/${name}`, change: "written", source: "armory", sha256: null, size: 1, at: new Date() });

  beforeAll(async () => {
    armory = await startTestArmory("pglite", {
      ARMORY_MAX_LIVE_CONNECTIONS_PER_USER: String(MAX_SOCKETS),
      ARMORY_MAX_SUBSCRIPTIONS_PER_USER: String(MAX_SUBSCRIPTIONS),
    });
    app = await startHttp(() => armory.services);
    admin = await signUp(armory.services, { name: "Admin" });
    adminCaller = await callerFor(armory.services, admin);
    projectId = (await adminCaller.project.create({ name: "Live" })).id;
    agentId = (await insertAgentRow(armory.services, projectId, "watched")).id;
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    await app?.close();
    await armory?.close();
  });

  it("the defaults fit ten tabs of four live streams each, one socket per tab; the socket cap is validated", () => {
    const { limits } = testConfig();
    expect(limits.liveConnectionsPerUser).toBeGreaterThanOrEqual(10);
    expect(limits.subscriptionsPerUser).toBeGreaterThanOrEqual(10 * 4);
    // The setting is validated like every other: a bad value stops Armory naming it.
    for (const bad of ["0", "-1", "many", "1.5"]) expect(() => testConfig({ ARMORY_MAX_LIVE_CONNECTIONS_PER_USER: bad }), bad).toThrow(/ARMORY_MAX_LIVE_CONNECTIONS_PER_USER/);
    expect(testConfig({ ARMORY_MAX_LIVE_CONNECTIONS_PER_USER: "5" }).limits.liveConnectionsPerUser).toBe(5);
  });

  it("refuses an upgrade from a foreign Origin (or Sec-Fetch-Site: cross-site) with 403 before the handshake; its own origin and origin-less clients connect", async () => {
    const u = await member("viewer");
    const own = new URL(app.url).origin;
    const opened = () => linesOf(armory, u.id, "live connection opened").length;
    const foreign = await upgrade(wsUrl(app.url), { cookie: u.cookie, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatch(/Cross-site/);
    const nullOrigin = await upgrade(wsUrl(app.url), { cookie: u.cookie, origin: "null" });
    expect(nullOrigin.status).toBe(403);
    const crossSite = await upgrade(wsUrl(app.url), { cookie: u.cookie, origin: own, "sec-fetch-site": "cross-site" });
    expect(crossSite.status).toBe(403);
    expect(armory.services.config.publicUrl).toBeUndefined();
    // A refused upgrade never reached tRPC: no connection of this user was opened by those pages.
    expect(opened()).toBe(0);
    for (const headers of [{ origin: own, "sec-fetch-site": "same-origin" }, {}] as Record<string, string>[]) {
      const r = await raw({ cookie: u.cookie, ...headers });
      expect(await r.subscribe(1, "agent.onStatus", { projectId })).toMatchObject({ result: { type: "started" } });
      r.ws.close();
    }
    expect(opened()).toBe(2);
  });

  it("serves one path only: other upgrade requests are refused with 404", async () => {
    expect((await upgrade(wsUrl(app.url, "/api/trpc"), { cookie: admin.cookie })).status).toBe(404);
    expect((await upgrade(wsUrl(app.url, "/_next/webpack-hmr"), { cookie: admin.cookie })).status).toBe(404);
    expect((await upgrade(wsUrl(app.url, `${LIVE_ENDPOINT}/x`), { cookie: admin.cookie })).status).toBe(404);
  });

  it("carries subscriptions only: queries and mutations over the socket are refused before they run", async () => {
    const c = client({ cookie: admin.cookie });
    const before = await armory.services.db.prisma.project.count();
    const query = await c.client.project.list.query().then(() => null, (e: unknown) => e as TRPCClientError<AppRouter>);
    expect(codeOf(query)).toBe("METHOD_NOT_SUPPORTED");
    expect(query?.message).toMatch(/subscriptions only.*HTTP/);
    const mutation = await c.client.project.create.mutate({ name: "Over the socket" }).then(() => null, (e: unknown) => e as TRPCClientError<AppRouter>);
    expect(codeOf(mutation)).toBe("METHOD_NOT_SUPPORTED");
    expect(await armory.services.db.prisma.project.count()).toBe(before);
    // The same socket serves subscriptions.
    const status = onStatus(c);
    await status.started;
    expect(await status.nextData(() => true)).toMatchObject({ type: "engine" });
  });

  it("closes the socket (1009) on a message larger than the bound; smaller ones are answered", async () => {
    const r = await raw({ cookie: admin.cookie });
    r.ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "agent.onStatus", input: { json: { projectId, pad: "x".repeat(LIVE_MAX_MESSAGE_BYTES - 1024) } } } }));
    expect(await r.next((m) => m.id === 1)).toMatchObject({ result: { type: "started" } });
    r.ws.send("x".repeat(LIVE_MAX_MESSAGE_BYTES + 1));
    expect((await r.closed).code).toBe(1009);
  });

  it(`allows ${MAX_SOCKETS} sockets per user: the next one is closed (4429), another user is not affected, and closing one frees a place`, async () => {
    const u = await member("viewer");
    const mine = [];
    for (let i = 0; i < MAX_SOCKETS; i++) {
      const r = await raw({ cookie: u.cookie });
      expect(await r.subscribe(1, "agent.onStatus", { projectId })).toMatchObject({ result: { type: "started" } });
      mine.push(r);
    }
    const extra = await raw({ cookie: u.cookie });
    const refused = await extra.closed;
    expect(refused).toMatchObject({ code: LIVE_CLOSE.tooMany, reason: "Too many live connections" });
    const other = await raw({ cookie: admin.cookie });
    expect(await other.subscribe(1, "agent.onStatus", { projectId })).toMatchObject({ result: { type: "started" } });
    mine[0]!.ws.close();
    await mine[0]!.closed;
    await expect
      .poll(async () => {
        const again = await raw({ cookie: u.cookie });
        const answer = await Promise.race([again.subscribe(1, "agent.onStatus", { projectId }), again.closed.then(() => "closed" as const)]);
        return answer === "closed" ? "closed" : (answer as { result?: { type?: string } }).result?.type;
      })
      .toBe("started");
  });

  it(`the per-user subscription cap (${MAX_SUBSCRIPTIONS}) counts every socket and SSE alike; a freed slot is usable again`, async () => {
    const u = await member("viewer");
    const a = client({ cookie: u.cookie });
    const b = client({ cookie: u.cookie });
    const open: Watched[] = [];
    // One over SSE (the typed client's way), the rest over two sockets of the same user.
    const sse = watch((h) => httpClient(app.url, u.cookie).agent.onStatus.subscribe({ projectId }, h));
    cleanup.push(() => sse.close());
    await sse.started;
    for (let i = 1; i < MAX_SUBSCRIPTIONS; i++) {
      const w = onStatus(i < 4 ? a : b);
      await w.started;
      open.push(w);
    }
    const refused = onStatus(b);
    const { error } = await refused.ended;
    expect(codeOf(error)).toBe("TOO_MANY_REQUESTS");
    expect(error?.message).toMatch(/Too many open live streams/);
    open[0]!.close();
    await expect
      .poll(async () => {
        const w = onStatus(a);
        return Promise.race([w.started.then(() => "started"), w.ended.then((e) => codeOf(e.error))]);
      })
      .toBe("started");
  });

  it("revoking the session ends the socket's streams (401) within a second; a new subscription on the same socket is refused; a removed member's streams end (403)", async () => {
    const m = await member("viewer");
    const c = client({ cookie: m.cookie });
    const status = onStatus(c);
    const files = watch<{ path: string }>((h) => c.client.files.onChange.subscribe({ projectId, agentId }, h));
    cleanup.push(() => files.close());
    await Promise.all([status.started, files.started]);
    const got = files.nextData((d) => d.path === "/workspace/before-revoke");
    publishFile("before-revoke");
    await got;
    const baseline = armory.services.files.events.listenerCount;
    const changed = nextAccessChange((ch) => ch.kind === "user" && ch.userId === m.id);
    await adminCaller.admin.revokeSessions({ userId: m.id });
    for (const [name, w] of [["agent.onStatus", status], ["files.onChange", files]] as const) {
      const { error, at } = await w.ended;
      expect(codeOf(error), name).toBe("UNAUTHORIZED");
      expect(error?.message, name).toMatch(/session/);
      expect(at - (await changed), name).toBeLessThan(1000);
    }
    // The procedures' generators were released.
    await expect.poll(() => armory.services.files.events.listenerCount).toBe(baseline - 1);
    // The socket authenticated when it opened; a subscription it starts now checks again.
    const late = onStatus(c);
    const { error } = await late.ended;
    expect(codeOf(error)).toBe("UNAUTHORIZED");

    const r = await member("viewer", "Removed");
    const rc = client({ cookie: r.cookie });
    const rs = onStatus(rc);
    await rs.started;
    const removed = nextAccessChange((ch) => ch.kind === "member" && ch.userId === r.id);
    await adminCaller.project.members.remove({ projectId, userId: r.id });
    const end = await rs.ended;
    expect(codeOf(end.error)).toBe("FORBIDDEN");
    expect(end.at - (await removed)).toBeLessThan(1000);
  });

  it("a machine token in the connection params authenticates, and revoking it ends its streams (401)", async () => {
    const m = await member("viewer");
    const t = await makeToken(armory.services, m.id, { name: "live", scopes: ["read"] });
    const c = client({ token: t.token });
    const status = onStatus(c);
    await status.started;
    await (await callerFor(armory.services, m)).token.revoke({ tokenId: t.summary.id });
    const { error } = await status.ended;
    expect(codeOf(error)).toBe("UNAUTHORIZED");
    expect(error?.message).toMatch(/revoked/);
  });

  it("after a dropped socket, chat.stream resumes from the last event it delivered: no event lost, none twice; a stream without a resume point starts with its snapshot again", async () => {
    const prisma = armory.services.db.prisma;
    const session = await prisma.chatSession.create({ data: { projectId, agentId, title: "resume", createdById: admin.id } });
    const run = await prisma.chatRun.create({ data: { sessionId: session.id, agentId, projectId, userId: admin.id, message: "hi" } });
    const emit = (n: number) => armory.services.chat.bus.emit(session.id, { runId: run.id, type: "text", data: { n } });
    for (let i = 1; i <= 5; i++) await emit(i);

    const c = client({ cookie: admin.cookie }, 300);
    const chat = watch<{ id: string; data: { seq: number } }>((h) => c.client.chat.stream.subscribe({ projectId, agentId, sessionId: session.id, afterSeq: 0 }, h));
    const status = onStatus(c);
    cleanup.push(() => chat.close());
    await Promise.all([chat.started, status.started]);
    await chat.nextData((d) => d.data.seq === 5);
    await Promise.all([emit(6), emit(7)]);
    await chat.nextData((d) => d.data.seq === 7);
    const engineEvents = () => status.data.filter((d) => d.type === "engine").length;
    expect(engineEvents()).toBe(1);

    // The socket drops (no close handshake, as when a network goes away); events keep coming.
    const first = c.sockets[0]!;
    const gone = new Promise<void>((resolve) => first.once("close", () => resolve()));
    const serverSaw = nextLog(armory, "live connection closed");
    first.terminate();
    await gone;
    await serverSaw;
    for (let i = 8; i <= 12; i++) await emit(i);
    await chat.nextData((d) => d.data.seq === 12);
    for (let i = 13; i <= 15; i++) await emit(i);
    await chat.nextData((d) => d.data.seq === 15);

    expect(c.sockets).toHaveLength(2);
    expect(chat.data.map((d) => d.data.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(chat.data.map((d) => d.id)).toEqual(chat.data.map((d) => String(d.data.seq)));
    expect(chat.starts).toBe(2);
    // agent.onStatus has no resume point: after the reconnect it starts with the engine state again.
    await expect.poll(engineEvents).toBe(2);
  });

  it("logs one line when a connection opens and one when it closes, none per message", async () => {
    const u = await member("viewer");
    const r = await raw({ cookie: u.cookie });
    for (let i = 1; i <= 5; i++) expect(await r.subscribe(i, "agent.onStatus", { projectId })).toMatchObject({ result: { type: "started" } });
    r.ws.close();
    await r.closed;
    await expect.poll(() => linesOf(armory, u.id, "live connection closed")).toHaveLength(1);
    const opened = linesOf(armory, u.id, "live connection opened");
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ via: "session", connectionId: expect.any(String) });
    const closed = linesOf(armory, u.id, "live connection closed")[0]!;
    expect(closed).toMatchObject({ connectionId: opened[0]!.connectionId, code: 1005, durationMs: expect.any(Number) });
    expect(armory.logs.text).not.toContain(u.cookie.split("=")[1]!.slice(0, 20));
  });

  describe("heartbeat and shutdown (a server with a fast heartbeat)", () => {
    let fast: Server;
    beforeAll(async () => {
      fast = await startHttp(() => armory.services, { pingMs: 200, pongWaitMs: 300 });
    });
    afterAll(async () => fast?.close());

    it("reaps a socket whose tab stopped answering (its streams end), keeps one that answers", async () => {
      const dead = await raw({ cookie: admin.cookie }, fast);
      expect(await dead.subscribe(1, "files.onChange", { projectId, agentId })).toMatchObject({ result: { type: "started" } });
      const alive = liveClient(fast.url, { cookie: admin.cookie });
      cleanup.push(() => alive.close());
      const status = onStatus(alive);
      await status.started;
      const baseline = armory.services.files.events.listenerCount;
      const { code } = await dead.closed;
      expect(code).toBe(1006); // terminated, no close handshake
      expect(dead.pings.length).toBeGreaterThanOrEqual(1);
      await expect.poll(() => armory.services.files.events.listenerCount).toBe(baseline - 1);
      // The answering client has been pinged several times by now and is still live.
      const pinged = new Promise<void>((resolve) => {
        let n = 0;
        alive.sockets[0]!.on("message", (d) => d.toString() === "PING" && ++n >= 3 && resolve());
      });
      await pinged;
      expect(alive.sockets[0]!.readyState).toBe(WebSocket.OPEN);
      expect(alive.sockets).toHaveLength(1);
      expect(status.isOpen()).toBe(true);
    });

    it("closing the server closes its sockets (1001) at once and ends their streams", async () => {
      const r = await raw({ cookie: admin.cookie }, fast);
      expect(await r.subscribe(1, "files.onChange", { projectId, agentId })).toMatchObject({ result: { type: "started" } });
      const before = armory.services.files.events.listenerCount;
      const started = Date.now();
      await fast.close();
      const elapsed = Date.now() - started;
      const { code, reason } = await r.closed;
      expect(code).toBe(LIVE_CLOSE.shuttingDown);
      expect(reason).toMatch(/shutting down/);
      expect(elapsed).toBeLessThan(1500);
      expect(fast.live.size).toBe(0);
      await expect.poll(() => armory.services.files.events.listenerCount).toBe(before - 1);
      // Closed: new upgrades are refused.
      await expect(RawLive.open(wsUrl(fast.url), { cookie: admin.cookie })).rejects.toThrow();
    });
  });
});

function linesOf(armory: TestArmory, userId: string, msg: string): Record<string, unknown>[] {
  return armory.logs.lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg && l.userId === userId);
}

/** Resolves at the next log line with this message (polled). */
async function nextLog(armory: TestArmory, msg: string): Promise<void> {
  const from = armory.logs.lines.length;
  await expect.poll(() => armory.logs.lines.slice(from).some((l) => l.includes(`"msg":"${msg}"`))).toBe(true);
}
