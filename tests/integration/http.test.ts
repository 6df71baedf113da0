// The real HTTP surface (tRPC over fetch, better-auth routes, health) on both databases:
// status codes, messages, cookies, rate limits, and that secrets stay out of logs.
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { AppRouter } from "@/server/api/root";
import { DB_KINDS } from "../support/databases";
import { startHttp, startTestArmory, uniqueEmail, type TestArmory } from "../support/armory";
import { httpClient } from "../support/http-server";


async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", origin: new URL(url).origin, ...headers },
    body: JSON.stringify(body),
  });
}

function sessionCookie(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

describe.each(DB_KINDS)("HTTP API on %s", (kind) => {
  let armory: TestArmory;
  let http: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    armory = await startTestArmory(kind, { ARMORY_SIGN_IN_RATE_LIMIT: "100" });
    http = await startHttp(() => armory.services);
  });
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  it("signs up, calls authed procedures with the session cookie, signs out", async () => {
    const email = uniqueEmail("http");
    const password = "a long enough password";
    const signUpRes = await postJson(`${http.url}/api/auth/sign-up/email`, { name: "Http User", email, password });
    expect(signUpRes.status).toBe(200);
    const cookie = sessionCookie(signUpRes);
    expect(cookie).toMatch(/session_token=/);
    // The password is nowhere in the response.
    expect(JSON.stringify(await signUpRes.json())).not.toContain(password);

    const trpc = httpClient(http.url, cookie);
    const project = await trpc.project.create.mutate({ name: "Over HTTP" });
    expect(project.createdAt).toBeInstanceOf(Date); // superjson round trip
    expect((await trpc.project.list.query()).map((p) => p.id)).toContain(project.id);

    const out = await postJson(`${http.url}/api/auth/sign-out`, {}, { cookie });
    expect(out.status).toBe(200);
    const afterSignOut = await fetch(`${http.url}/api/trpc/project.list`, { headers: { cookie } });
    expect(afterSignOut.status).toBe(401);

    // Nothing secret reached the logs.
    expect(armory.logs.text).not.toContain(password);
  });

  it("answers anonymous tRPC calls with 401 and a message", async () => {
    const res = await fetch(`${http.url}/api/trpc/project.list`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { json: { message: string; data: { code: string } } } };
    expect(body.error.json.data.code).toBe("UNAUTHORIZED");
    expect(body.error.json.message).toBe("Sign in to do this.");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("answers bad input with 400 and unknown ids with 404, never 500, and shows no stack", async () => {
    const signUpRes = await postJson(`${http.url}/api/auth/sign-up/email`, {
      name: "Bad Input",
      email: uniqueEmail("bad"),
      password: "password-1234",
    });
    const cookie = sessionCookie(signUpRes);

    const tooLong = await postJson(`${http.url}/api/trpc/project.create`, { json: { name: "n".repeat(500) } }, { cookie });
    expect(tooLong.status).toBe(400);
    const tooLongBody = await tooLong.text();
    expect(tooLongBody).toContain("Project name must be at most 100 characters");
    expect(tooLongBody).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack frames

    const garbage = await fetch(`${http.url}/api/trpc/project.create`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: "{not json",
    });
    expect(garbage.status).toBe(400);

    const unknown = await fetch(
      `${http.url}/api/trpc/project.get?input=${encodeURIComponent(JSON.stringify({ json: { projectId: crypto.randomUUID() } }))}`,
      { headers: { cookie } },
    );
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("Project not found.");

    const noSuchProcedure = await fetch(`${http.url}/api/trpc/project.nope`, { headers: { cookie } });
    expect(noSuchProcedure.status).toBe(404);

    // And the typed client surfaces the same message.
    const err = await httpClient(http.url, cookie)
      .project.create.mutate({ name: "" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    expect((err as TRPCClientError<AppRouter>).message).toBe("name: Project name is required");
  });

  it("rejects wrong credentials, duplicate emails and short passwords with 4xx messages", async () => {
    const email = uniqueEmail("creds");
    const ok = await postJson(`${http.url}/api/auth/sign-up/email`, { name: "Creds", email, password: "right-password-1" });
    expect(ok.status).toBe(200);

    const dup = await postJson(`${http.url}/api/auth/sign-up/email`, { name: "Creds", email, password: "another-password" });
    expect(dup.status).toBeGreaterThanOrEqual(400);
    expect(dup.status).toBeLessThan(500);
    expect(((await dup.json()) as { message: string }).message).toMatch(/already exists/i);

    const short = await postJson(`${http.url}/api/auth/sign-up/email`, { name: "Short", email: uniqueEmail(), password: "short" });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { message: string }).message).toMatch(/password.*short/i);

    const wrong = await postJson(`${http.url}/api/auth/sign-in/email`, { email, password: "wrong-password-1" });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/invalid email or password/i);
    // better-auth's own warning lands in the structured log, without the password.
    const authLines = armory.logs.lines.filter((l) => l.includes('"component":"auth"'));
    expect(authLines.some((l) => /Invalid password/i.test(l))).toBe(true);
    expect(armory.logs.text).not.toContain("wrong-password-1");

    const badEmail = await postJson(`${http.url}/api/auth/sign-in/email`, { email: "not-an-email", password: "whatever-123" });
    expect(badEmail.status).toBe(400);
  });

  it("streams subscriptions over SSE with the session cookie, and refuses them without one", async () => {
    const signUpRes = await postJson(`${http.url}/api/auth/sign-up/email`, {
      name: "Sse",
      email: uniqueEmail("sse"),
      password: "password-sse-1",
    });
    const cookie = sessionCookie(signUpRes);
    const trpc = httpClient(http.url, cookie);
    const project = await trpc.project.create.mutate({ name: "SSE" });

    const first = await new Promise<unknown>((resolve, reject) => {
      const sub = trpc.agent.onStatus.subscribe(
        { projectId: project.id },
        {
          onData: (event) => {
            sub.unsubscribe();
            resolve(event);
          },
          onError: reject,
        },
      );
    });
    expect(first).toMatchObject({ type: "engine" });
    // Unsubscribing closes the stream on the server too (no listener left behind).
    await vi.waitFor(() => expect(armory.services.agents.bus.subscriberCount).toBe(0), { timeout: 5000 });

    const refused = await new Promise<unknown>((resolve) => {
      const sub = httpClient(http.url).agent.onStatus.subscribe(
        { projectId: project.id },
        {
          onData: () => resolve(new Error("anonymous subscription got data")),
          onError: (err) => {
            sub.unsubscribe();
            resolve(err);
          },
        },
      );
    });
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<AppRouter>).data?.code).toBe("UNAUTHORIZED");
  });

  it("serves /api/health with a database check", async () => {
    const res = await fetch(`${http.url}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; database: { kind: string; status: string } };
    expect(body).toMatchObject({ status: "ok", database: { kind: armory.kind === "pglite" ? "pglite" : "postgres", status: "ok" } });
  });
});

describe.each(DB_KINDS)("sign-in rate limit on %s", (kind) => {
  let armory: TestArmory;
  let http: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    armory = await startTestArmory(kind, { ARMORY_SIGN_IN_RATE_LIMIT: "3", ARMORY_SIGN_IN_RATE_WINDOW_SECONDS: "60" });
    http = await startHttp(() => armory.services);
  });
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  it("refuses sign-in attempts beyond the limit with 429, even with the right password", async () => {
    const email = uniqueEmail("rate");
    const password = "the right password";
    expect((await postJson(`${http.url}/api/auth/sign-up/email`, { name: "Rate", email, password })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await postJson(`${http.url}/api/auth/sign-in/email`, { email, password: `wrong-${i}-password` })).status);
    }
    expect(statuses).toEqual([401, 401, 401]);
    const limited = await postJson(`${http.url}/api/auth/sign-in/email`, { email, password });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("x-retry-after"))).toBeGreaterThan(0);
    // The counter lives in the database: a restart does not reset it.
    await armory.restart();
    expect((await postJson(`${http.url}/api/auth/sign-in/email`, { email, password })).status).toBe(429);
  });
});
