// Issue 12, items 3, 7 and 8 at the HTTP boundary (the same handlers the Next routes use, on a
// real HTTP server with Armory's header/body timeouts): NUL anywhere is a 400 (tRPC and
// better-auth), lengths are bounded, batches and bodies are bounded (413), a slow body is cut
// while a live stream is not, open subscriptions are capped per user and per token (429),
// cookie-authenticated changes from a foreign origin are 403, cookies are Secure behind https,
// and a failed-token lockout never blocks a valid token.
import net from "node:net";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "@/server/api/root";
import { createCaller } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { startHttp, startTestArmory, uniqueEmail, type TestArmory } from "../support/armory";
import { httpClient } from "../support/http-server";
import { expectTrpcError } from "../support/trpc-errors";
import { insertAgentRow, makeToken } from "../support/trust";

const PUBLIC_URL = "https://armory.example.test";

function cookieOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

describe("the HTTP boundary (pglite)", () => {
  let armory: TestArmory;
  let http: { url: string; close(): Promise<void> };
  let cookie: string;
  let userId: string;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${http.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: http.url, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  async function signUpHttp(name = "Boundary User") {
    const res = await post("/api/auth/sign-up/email", { name, email: uniqueEmail("boundary"), password: "a long enough password" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { id: string } };
    return { res, cookie: cookieOf(res), id: body.user.id };
  }

  async function errorCode(res: Response): Promise<string | undefined> {
    const body = (await res.json()) as unknown;
    const first = Array.isArray(body) ? body[0] : body;
    return (first as { error?: { json?: { data?: { code?: string } } } }).error?.json?.data?.code;
  }

  beforeAll(async () => {
    armory = await startTestArmory("pglite", {
      ARMORY_PUBLIC_URL: PUBLIC_URL,
      ARMORY_SIGN_UP: "open",
      ARMORY_SIGN_IN_RATE_LIMIT: "1000",
      ARMORY_HTTP_HEADERS_TIMEOUT_SECONDS: "2",
      ARMORY_HTTP_BODY_TIMEOUT_SECONDS: "2",
      ARMORY_FILES_MAX_BYTES: "1024",
      ARMORY_MAX_SUBSCRIPTIONS_PER_USER: "3",
      ARMORY_MAX_SUBSCRIPTIONS_PER_TOKEN: "2",
      ARMORY_TOKEN_FAIL_RATE_LIMIT: "3",
      ARMORY_TOKEN_FAIL_RATE_WINDOW_SECONDS: "600",
    });
    http = await startHttp(() => armory.services);
    const first = await signUpHttp();
    cookie = first.cookie;
    userId = first.id;
  });
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  const projects = () => armory.services.db.prisma.project.count({ where: { members: { some: { userId } } } });

  describe("NUL characters", () => {
    it("refuses NUL in a POST body, in values and keys, with 400 and changes nothing", async () => {
      const before = await projects();
      for (const json of [{ name: "a\u0000b" }, { name: "ok", "k\u0000": 1 }, { name: "ok", deep: { list: [{ x: "\u0000" }] } }]) {
        const res = await post("/api/trpc/project.create?batch=1", { 0: { json } }, { cookie });
        expect(res.status).toBe(400);
        expect(JSON.stringify(await res.json())).toMatch(/NUL/);
      }
      expect(await projects()).toBe(before);
    });

    it("refuses NUL in a GET batch query string with 400", async () => {
      const input = encodeURIComponent(JSON.stringify({ 0: { json: { projectId: "p\u0000" } }, 1: { json: { projectId: "ok" } } }));
      const res = await fetch(`${http.url}/api/trpc/project.get,project.get?batch=1&input=${input}`, { headers: { cookie } });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { json: { message: string; data: { code: string } } } }[];
      expect(body[0]!.error.json.data.code).toBe("BAD_REQUEST");
      expect(body[0]!.error.json.message).toMatch(/NUL/);
    });

    it("refuses NUL in a subscription's input (its stream carries the 400)", async () => {
      const err = await new Promise<unknown>((resolve) => {
        const sub = httpClient(http.url, cookie).agent.onStatus.subscribe({ projectId: "p\u0000" } as never, {
          onData: () => resolve(new Error("subscription with NUL got data")),
          onError: (e) => {
            sub.unsubscribe();
            resolve(e);
          },
        });
      });
      expect(err).toBeInstanceOf(TRPCClientError);
      expect((err as TRPCClientError<AppRouter>).data?.code).toBe("BAD_REQUEST");
    });

    it("answers NUL in better-auth JSON bodies with 400, not 500", async () => {
      const signUp = await post("/api/auth/sign-up/email", { name: "nul\u0000name", email: uniqueEmail("nul"), password: "a long enough password" });
      expect(signUp.status).toBe(400);
      const signIn = await post("/api/auth/sign-in/email", { email: "x\u0000@example.test", password: "a long enough password" });
      expect(signIn.status).toBe(400);
      const key = await post("/api/auth/sign-in/email", { email: "x@example.test", password: "a long enough password", "k\u0000": 1 });
      expect(key.status).toBe(400);
    });
  });

  describe("lengths", () => {
    it("refuses a 1 MB user name (and a 101-character one) at sign-up with 400", async () => {
      const huge = await post("/api/auth/sign-up/email", { name: "n".repeat(1_000_000), email: uniqueEmail("huge"), password: "a long enough password" });
      expect(huge.status).toBe(400);
      const long = await post("/api/auth/sign-up/email", { name: "n".repeat(101), email: uniqueEmail("long"), password: "a long enough password" });
      expect(long.status).toBe(400);
      expect(((await long.json()) as { message: string }).message).toMatch(/name/);
      const email = await post("/api/auth/sign-up/email", { name: "ok", email: `${"e".repeat(250)}@example.test`, password: "a long enough password" });
      expect(email.status).toBe(400);
    });

    it("refuses a 1 MB project name with 400", async () => {
      const res = await post("/api/trpc/project.create", { json: { name: "p".repeat(1_000_000) } }, { cookie });
      expect(res.status).toBe(400);
    });
  });

  describe("batches and bodies", () => {
    it("refuses a batch of 21 procedures with 413 before any of them runs; 20 are fine", async () => {
      const before = await projects();
      const names = Array.from({ length: 21 }, () => "project.create").join(",");
      const body = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [i, { json: { name: `batch ${i}` } }]));
      const res = await post(`/api/trpc/${names}?batch=1`, body, { cookie });
      expect(res.status).toBe(413);
      expect(res.headers.get("content-type")).toMatch(/json/);
      expect(await errorCode(res)).toBe("PAYLOAD_TOO_LARGE");
      expect(await projects()).toBe(before);

      const twenty = Array.from({ length: 20 }, () => "project.list").join(",");
      const ok = await fetch(`${http.url}/api/trpc/${twenty}?batch=1&input=${encodeURIComponent("{}")}`, { headers: { cookie } });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as unknown[]).length).toBe(20);
    });

    it("the typed client splits a large batch into allowed ones", async () => {
      const trpc = httpClient(http.url, cookie);
      const results = await Promise.all(Array.from({ length: 45 }, () => trpc.project.list.query()));
      expect(results).toHaveLength(45);
    });

    it("refuses an oversized body with 413, from its Content-Length and from its streamed bytes", async () => {
      const limit = armory.services.config.limits.maxBodyBytes;
      const big = JSON.stringify({ json: { name: "x", description: "d".repeat(limit) } });
      const declared = await post("/api/trpc/project.create", big, { cookie });
      expect(declared.status).toBe(413);
      expect(await errorCode(declared)).toBe("PAYLOAD_TOO_LARGE");

      // Chunked: no Content-Length, the bytes tell.
      const chunk = new TextEncoder().encode("d".repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent > limit + chunk.byteLength) controller.close();
          else {
            sent += chunk.byteLength;
            controller.enqueue(chunk);
          }
        },
      });
      const chunked = await fetch(`${http.url}/api/trpc/project.create`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: http.url, cookie },
        body: stream,
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).toBe(413);
    });

    it("cuts a slow body off (408) while a live stream on the same server keeps going", async () => {
      const trpc = httpClient(http.url, cookie);
      const project = await trpc.project.create.mutate({ name: "Streams" });
      const events: unknown[] = [];
      let onEvent: (() => void) | null = null;
      const sub = trpc.agent.onStatus.subscribe(
        { projectId: project.id },
        {
          onData: (e) => {
            events.push(e);
            onEvent?.();
          },
        },
      );
      const waitEvents = (n: number) =>
        new Promise<void>((resolve) => {
          onEvent = () => events.length >= n && resolve();
          onEvent();
        });
      await waitEvents(1); // the engine state

      const url = new URL(http.url);
      const socket = net.connect(Number(url.port), url.hostname);
      let answer = "";
      socket.on("data", (d) => (answer += d.toString()));
      socket.on("error", () => undefined);
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      socket.write(`POST /api/trpc/project.create HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"json":`);
      // Never sends the rest: the server's body timeout (2 s here) must close the connection.
      await new Promise<void>((resolve) => socket.once("close", () => resolve()));
      expect(answer).toMatch(/^HTTP\/1\.1 408/);

      // The SSE response, open longer than the body timeout, still delivers.
      armory.services.agents.bus.publishRemoved(project.id, "00000000-0000-4000-8000-000000000000");
      await waitEvents(2);
      expect(events[1]).toMatchObject({ type: "removed", projectId: project.id });
      sub.unsubscribe();
    });

    it("keeps another user's calls answering while one user sends 300 calls at once", async () => {
      const other = await signUpHttp("Other user");
      const heavy = httpClient(http.url, cookie);
      const names = Array.from({ length: 300 }, () => "project.list").join(",");
      const flood = [
        fetch(`${http.url}/api/trpc/${names}?batch=1&input=${encodeURIComponent("{}")}`, { headers: { cookie } }).then((r) => r.status),
        ...Array.from({ length: 300 }, () => heavy.project.list.query().then(() => 200)),
      ];
      const light = httpClient(http.url, other.cookie);
      const mine = await light.project.create.mutate({ name: "Still served" });
      expect(mine.name).toBe("Still served");
      const statuses = await Promise.all(flood);
      expect(statuses[0]).toBe(413);
      expect(statuses.slice(1).every((s) => s === 200)).toBe(true);
    });
  });

  describe("chat.stream", () => {
    it("is a 404 for an unknown session, before any stream starts (createCaller and SSE)", async () => {
      const caller = createCaller(await createContext({ services: armory.services, headers: new Headers({ cookie }) }));
      const project = await caller.project.create({ name: "Chat 404" });
      const agent = await insertAgentRow(armory.services, project.id, "chat-404");
      const input = { projectId: project.id, agentId: agent.id, sessionId: crypto.randomUUID() };
      await expectTrpcError(caller.chat.stream(input), "NOT_FOUND", /Chat session/);
      const err = await new Promise<unknown>((resolve) => {
        const sub = httpClient(http.url, cookie).chat.stream.subscribe(input, {
          onData: () => resolve(new Error("unknown session streamed data")),
          onError: (e) => {
            sub.unsubscribe();
            resolve(e);
          },
        });
      });
      expect((err as TRPCClientError<AppRouter>).data?.code).toBe("NOT_FOUND");
      expect((err as TRPCClientError<AppRouter>).data?.httpStatus).toBe(404);
    });
  });

  describe("subscription caps", () => {
    it("caps open subscriptions per user (429) and frees the slot when one ends", async () => {
      const caller = createCaller(await createContext({ services: armory.services, headers: new Headers({ cookie }) }));
      const project = await caller.project.create({ name: "Capped" });
      const open = [];
      for (let i = 0; i < 3; i++) open.push((await caller.agent.onStatus({ projectId: project.id }))[Symbol.asyncIterator]());
      await expectTrpcError(caller.agent.onStatus({ projectId: project.id }), "TOO_MANY_REQUESTS", /at most one user \(3\)/);
      await open.pop()!.return!();
      const again = (await caller.agent.onStatus({ projectId: project.id }))[Symbol.asyncIterator]();
      expect((await again.next()).value).toMatchObject({ type: "engine" });
      await again.return!();
      for (const it of open) await it.return!();

      // Over HTTP: the fourth SSE stream is refused with TOO_MANY_REQUESTS.
      const trpc = httpClient(http.url, cookie);
      const subs: { unsubscribe(): void }[] = [];
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => {
          subs.push(trpc.agent.onStatus.subscribe({ projectId: project.id }, { onData: () => resolve(), onError: reject }));
        });
      }
      const refused = await new Promise<unknown>((resolve) => {
        const sub = trpc.agent.onStatus.subscribe({ projectId: project.id }, {
          onData: () => resolve(new Error("fourth stream got data")),
          onError: (e) => {
            sub.unsubscribe();
            resolve(e);
          },
        });
      });
      expect((refused as TRPCClientError<AppRouter>).data?.code).toBe("TOO_MANY_REQUESTS");
      for (const s of subs) s.unsubscribe();
    });

    it("caps open subscriptions per token", async () => {
      const owner = await signUpHttp("Token streams");
      const { token } = await makeToken(armory.services, owner.id, { scopes: ["read", "write"] });
      const caller = createCaller(await createContext({ services: armory.services, headers: new Headers({ authorization: `Bearer ${token}` }) }));
      const project = await caller.project.create({ name: "Token streams" });
      const a = (await caller.agent.onStatus({ projectId: project.id }))[Symbol.asyncIterator]();
      const b = (await caller.agent.onStatus({ projectId: project.id }))[Symbol.asyncIterator]();
      await expectTrpcError(caller.agent.onStatus({ projectId: project.id }), "TOO_MANY_REQUESTS", /this token \(2\)/);
      // The same user's session is under its own (higher) cap.
      const session = createCaller(await createContext({ services: armory.services, headers: new Headers({ cookie: owner.cookie }) }));
      const c = (await session.agent.onStatus({ projectId: project.id }))[Symbol.asyncIterator]();
      await c.return!();
      await a.return!();
      await b.return!();
    });
  });

  describe("origins and cookies", () => {
    it("sets Secure cookies when the public URL is https", async () => {
      const { res } = await signUpHttp("Secure cookie");
      const session = res.headers.getSetCookie().find((c) => c.includes("session_token"));
      expect(session).toMatch(/;\s*Secure/i);
    });

    it("refuses cookie-authenticated mutations from a foreign origin or cross-site (403), not token ones", async () => {
      const before = await projects();
      const foreign = await post("/api/trpc/project.create", { json: { name: "csrf" } }, { cookie, origin: "https://evil.example" });
      expect(foreign.status).toBe(403);
      expect(await errorCode(foreign)).toBe("FORBIDDEN");
      const crossSite = await post("/api/trpc/project.create", { json: { name: "csrf" } }, { cookie, "sec-fetch-site": "cross-site" });
      expect(crossSite.status).toBe(403);
      const nullOrigin = await post("/api/trpc/project.create", { json: { name: "csrf" } }, { cookie, origin: "null" });
      expect(nullOrigin.status).toBe(403);
      // X-Forwarded-Host counts only behind a trusted proxy (ARMORY_TRUST_PROXY, off here).
      const forwarded = await post("/api/trpc/project.create", { json: { name: "csrf" } }, { cookie, origin: "https://evil.example", "x-forwarded-host": "evil.example" });
      expect(forwarded.status).toBe(403);
      expect(await projects()).toBe(before);

      // The configured public URL and the request's own origin are trusted.
      expect((await post("/api/trpc/project.create", { json: { name: "from public url" } }, { cookie, origin: PUBLIC_URL })).status).toBe(200);
      expect((await post("/api/trpc/project.create", { json: { name: "same origin" } }, { cookie, "sec-fetch-site": "same-origin" })).status).toBe(200);
      // A machine token is not a cookie: a page cannot make a browser send it.
      const { token } = await makeToken(armory.services, userId);
      const withToken = await post("/api/trpc/project.create", { json: { name: "token" } }, { authorization: `Bearer ${token}`, origin: "https://evil.example" });
      expect(withToken.status).toBe(200);
    });

    it("refuses better-auth's state-changing endpoints from a foreign origin (403)", async () => {
      const { cookie: c } = await signUpHttp("Auth CSRF");
      const signOut = await post("/api/auth/sign-out", {}, { cookie: c, origin: "https://evil.example" });
      expect(signOut.status).toBe(403);
      const update = await post("/api/auth/update-user", { name: "pwned" }, { cookie: c, origin: "https://evil.example" });
      expect(update.status).toBe(403);
      const signUp = await post("/api/auth/sign-up/email", { name: "x", email: uniqueEmail("csrf"), password: "a long enough password" }, { "sec-fetch-site": "cross-site" });
      expect(signUp.status).toBe(403);
      // Still signed in: the foreign sign-out did nothing.
      expect((await fetch(`${http.url}/api/trpc/project.list`, { headers: { cookie: c } })).status).toBe(200);
    });

    it("never lets a failed-token lockout block a valid token", async () => {
      const { token } = await makeToken(armory.services, userId);
      const headers = (t: string) => new Headers({ authorization: `Bearer ${t}`, "x-armory-client-ip": "198.51.100.9" });
      const bad = `arm_abcdefabcdef_${"z".repeat(43)}`;
      for (let i = 0; i < 3; i++) {
        await expectTrpcError(createCaller(await createContext({ services: armory.services, headers: headers(bad) })).project.list(), "UNAUTHORIZED");
      }
      await expectTrpcError(createCaller(await createContext({ services: armory.services, headers: headers(bad) })).project.list(), "TOO_MANY_REQUESTS");
      const good = createCaller(await createContext({ services: armory.services, headers: headers(token) }));
      expect(Array.isArray(await good.project.list())).toBe(true);
    });
  });
});
