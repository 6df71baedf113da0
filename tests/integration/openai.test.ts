// The OpenAI-compatible endpoint's refusals and validation over real HTTP with the official
// `openai` client (its typed errors), on a real database: tokens, project membership, the chat
// permission by role and trust grant, models filtered by permission, bodies in OpenAI's error
// shape. Agents here have no container, so a turn fails at once with the chat's own message
// (tests/docker/openai.test.ts runs real turns).
import OpenAI, { APIError, AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { insertAgentRow, makeToken } from "../support/trust";

describe("OpenAI-compatible endpoint: authentication, permissions, validation", () => {
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let projectId: string;
  let otherProjectId: string;
  let web: { id: string; name: string; projectId: string };
  let db: { id: string; name: string; projectId: string };
  let aliceToken: string;

  const baseURL = (project = projectId) => `${http.url}/api/openai/${project}/v1`;
  const client = (apiKey: string, project = projectId) => new OpenAI({ apiKey, baseURL: baseURL(project), maxRetries: 0 });
  const ask = (c: OpenAI, model: string, extra: Record<string, unknown> = {}) =>
    c.chat.completions.create({ model, messages: [{ role: "user", content: "Hello" }], ...extra } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);

  async function rejects<T extends APIError>(promise: Promise<unknown>, type: new (...a: never[]) => T): Promise<T> {
    const err = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(type);
    return err as T;
  }

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    http = await startHttp(() => armory.services);
    alice = await signUp(armory.services, { name: "Alice" });
    bob = await signUp(armory.services, { name: "Bob" });
    carol = await signUp(armory.services, { name: "Carol" });
    const a = await callerFor(armory.services, alice);
    projectId = (await a.project.create({ name: "OpenAI" })).id;
    otherProjectId = (await a.project.create({ name: "Other" })).id;
    await a.project.members.add({ projectId, email: bob.email, role: "viewer" });
    web = await insertAgentRow(armory.services, projectId, "web-1");
    db = await insertAgentRow(armory.services, projectId, "db-1");
    aliceToken = (await makeToken(armory.services, alice.id)).token;
  });
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  it("a missing or bad token is 401 (AuthenticationError), logged in the security log, and a cookie does not count", async () => {
    const bad = await rejects(client("arm_000000000000_" + "x".repeat(43)).models.list(), AuthenticationError);
    expect(bad.status).toBe(401);
    expect(bad.code).toBe("invalid_api_key");
    expect(bad.message).toMatch(/Invalid token/);
    const garbage = await rejects(ask(client("not-a-token"), "web-1"), AuthenticationError);
    expect(garbage.error).toMatchObject({ message: "Invalid token.", type: "invalid_request_error", param: null, code: "invalid_api_key" });
    // A signed-in browser's cookie is not a way in: machines only.
    const res = await fetch(`${baseURL()}/models`, { headers: { cookie: alice.cookie } });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
    expect(body.error.message).toMatch(/Authorization: Bearer/);
    const logged = await armory.services.db.prisma.securityEvent.findMany({ where: { action: { startsWith: "openai." } } });
    expect(logged.map((e) => e.action).sort()).toEqual(["openai.chat.completions", "openai.models", "openai.models"]);
    expect(logged.every((e) => e.outcome === "UNAUTHORIZED")).toBe(true);
  });

  it("GET /models lists the agents the token may chat with, in OpenAI's list shape", async () => {
    const owner = await client(aliceToken).models.list();
    expect(owner.data.map((m) => m.id)).toEqual(["db-1", "web-1"]);
    expect(owner.data[0]).toMatchObject({ object: "model", owned_by: "armory" });
    expect(owner.data[0]!.created).toBeGreaterThan(1_700_000_000);
    expect(await client(aliceToken).models.retrieve("web-1")).toMatchObject({ id: "web-1", object: "model" });

    // A viewer cannot chat by default: no models; a grant for its token on one agent adds that one.
    const { token: bobToken, summary } = await makeToken(armory.services, bob.id);
    expect((await client(bobToken).models.list()).data).toEqual([]);
    await rejects(client(bobToken).models.retrieve("web-1"), NotFoundError);
    const a = await callerFor(armory.services, alice);
    const grant = await a.trust.create({ projectId, callerType: "token", callerId: summary.id, targetType: "agent", target: web.id, permissions: { chat: true } });
    expect((await client(bobToken).models.list()).data.map((m) => m.id)).toEqual(["web-1"]);
    await a.trust.delete({ projectId, grantId: grant.id });
    expect((await client(bobToken).models.list()).data).toEqual([]);

    // Not a member: 403; a token limited to another project: 403; no such project: 404.
    const carolToken = (await makeToken(armory.services, carol.id)).token;
    const notMember = await rejects(client(carolToken).models.list(), PermissionDeniedError);
    expect(notMember.message).toMatch(/not a member/);
    const scoped = (await makeToken(armory.services, alice.id, { projectIds: [otherProjectId] })).token;
    expect((await rejects(client(scoped).models.list(), PermissionDeniedError)).message).toMatch(/not scoped to this project/);
    expect((await rejects(client(aliceToken, crypto.randomUUID()).models.list(), NotFoundError)).code).toBe("project_not_found");
    expect((await rejects(client(aliceToken, "not-a-uuid").models.list(), NotFoundError)).code).toBe("project_not_found");
  });

  it("a token without chat on the agent is 403 (audited); with a grant it may send; a read-only token may not", async () => {
    const { token: bobToken, summary } = await makeToken(armory.services, bob.id);
    const denied = await rejects(ask(client(bobToken), "db-1"), PermissionDeniedError);
    expect(denied.status).toBe(403);
    expect(denied.error).toMatchObject({ type: "permission_error", code: "permission_denied", param: null });
    expect(denied.message).toMatch(/chat permission on agent db-1/);
    const entry = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "openai.chat.completions", tokenId: summary.id } });
    expect(entry).toMatchObject({ allowed: false, agentId: db.id, agentName: "db-1", permission: "chat", projectId, userId: bob.id, outcome: "FORBIDDEN" });
    // No turn ran.
    expect(await armory.services.db.prisma.chatRun.count({ where: { agentId: db.id } })).toBe(0);
    // A grant for the token on that agent lets it send (the turn then fails: no container here).
    const a = await callerFor(armory.services, alice);
    const grant = await a.trust.create({ projectId, callerType: "token", callerId: summary.id, targetType: "agent", target: db.id, permissions: { chat: true } });
    expect((await rejects(ask(client(bobToken), "db-1"), APIError)).code).toBe("agent_not_running");
    const allowed = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "openai.chat.completions", tokenId: summary.id, allowed: true } });
    expect(allowed).toMatchObject({ grantId: grant.id, outcome: "ok", agentId: db.id });
    await a.trust.delete({ projectId, grantId: grant.id });
    await armory.services.db.prisma.chatSession.deleteMany({ where: { agentId: db.id } });

    const readOnly = (await makeToken(armory.services, alice.id, { scopes: ["read"] })).token;
    expect((await client(readOnly).models.list()).data).toHaveLength(2);
    expect((await rejects(ask(client(readOnly), "web-1"), PermissionDeniedError)).message).toMatch(/lacks the write scope/);
  });

  it("an unknown model is 404 model_not_found", async () => {
    const err = await rejects(ask(client(aliceToken), "gpt-4o"), NotFoundError);
    expect(err.error).toMatchObject({ type: "invalid_request_error", code: "model_not_found", param: "model" });
    expect(err.message).toMatch(/names of this project's agents/);
  });

  it("bad bodies are 400 in OpenAI's error shape, naming the parameter", async () => {
    const c = client(aliceToken);
    const cases: [Record<string, unknown>, string | null, RegExp][] = [
      [{ model: "web-1" }, "messages", /messages is required/],
      [{ model: "web-1", messages: [] }, "messages", /at least one message/],
      [{ model: "web-1", messages: "hello" }, "messages", /messages/],
      [{ model: "web-1", messages: [{ role: "assistant", content: "Hi" }, { role: "system", content: "Be brief" }] }, "messages", /must contain a user message/],
      [{ model: "web-1", messages: [{ role: "wizard", content: "Hi" }] }, "messages.0.role", /role/],
      [{ model: "web-1", messages: [{ role: "user", content: 42 }] }, "messages.0.content", /content/],
      [{ model: "web-1", messages: [{ role: "user", content: "   " }] }, "messages.0.content", /empty/],
      [{ model: "web-1", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://x" } }] }] }, "messages.0.content", /only text parts/],
      [{ model: "web-1", messages: [{ role: "user", content: "Hi" }], n: 2 }, "n", /only n = 1/],
      [{ model: "web-1", messages: [{ role: "user", content: "Hi" }], tools: [{ type: "function", function: { name: "f" } }] }, "tools", /own tools/],
      [{ model: "web-1", messages: [{ role: "user", content: "Hi" }], stream: "yes" }, "stream", /stream/],
      [{ model: "", messages: [{ role: "user", content: "Hi" }] }, "model", /model is required/],
      [{ model: "web-1", messages: [{ role: "user", content: "Hi\u0000" }] }, "messages.0.content", /NUL/],
    ];
    for (const [body, param, message] of cases) {
      const err = await rejects(c.chat.completions.create(body as never), BadRequestError);
      expect(err.error, JSON.stringify(body)).toMatchObject({ type: "invalid_request_error", param });
      expect(err.message, JSON.stringify(body)).toMatch(message);
    }
    // Not JSON, no body, too large: plain HTTP.
    const post = (body: BodyInit | undefined, headers: Record<string, string> = {}) =>
      fetch(`${baseURL()}/chat/completions`, { method: "POST", body, headers: { authorization: `Bearer ${aliceToken}`, "content-type": "application/json", ...headers } });
    const notJson = await post("{not json");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: "invalid_json", type: "invalid_request_error" } });
    expect((await post(undefined)).status).toBe(400);
    const huge = await post(JSON.stringify({ model: "web-1", messages: [{ role: "user", content: "x".repeat(3 * 1024 * 1024) }] }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { code: "request_too_large" } });
    // A session header that is not a session id, or not one of this agent's.
    const badSession = await rejects(
      c.chat.completions.create({ model: "web-1", messages: [{ role: "user", content: "Hi" }] }, { headers: { "X-Armory-Session": "nope" } }),
      BadRequestError,
    );
    expect(badSession.code).toBe("invalid_session");
    const unknown = await rejects(
      c.chat.completions.create({ model: "web-1", messages: [{ role: "user", content: "Hi" }] }, { headers: { "X-Armory-Session": crypto.randomUUID() } }),
      NotFoundError,
    );
    expect(unknown.code).toBe("session_not_found");
    // Wrong method, unknown endpoint.
    const get = await fetch(`${baseURL()}/chat/completions`, { headers: { authorization: `Bearer ${aliceToken}` } });
    expect(get.status).toBe(405);
    expect((await (await fetch(`${baseURL()}/embeddings`, { method: "POST", headers: { authorization: `Bearer ${aliceToken}` } })).json()) as unknown).toMatchObject({
      error: { code: "unknown_url" },
    });
    // None of this started a turn.
    expect(await armory.services.db.prisma.chatRun.count({ where: { projectId } })).toBe(0);
  });

  it("a turn that fails (the agent is not running) is 503 with the chat's message, streamed or not; the send is audited", async () => {
    const c = client(aliceToken);
    const err = await rejects(ask(c, "web-1"), APIError);
    expect(err.status).toBe(503);
    expect(err.code).toBe("agent_not_running");
    expect(err.message).toMatch(/The agent web-1 is not running/);
    const headers = err.headers as unknown as Headers;
    expect(headers.get("x-armory-session")).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers.get("x-should-retry")).toBe("false");
    const entry = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "openai.chat.completions", agentId: web.id, allowed: true } });
    expect(entry).toMatchObject({ userId: alice.id, permission: "chat", agentName: "web-1", outcome: "ok", type: "mutation" });
    expect(entry.input).toMatchObject({ model: "web-1", message: "Hello", stream: false });
    expect(JSON.stringify(entry)).not.toContain(aliceToken);

    // Streamed: the role chunk arrives, then the failure as an error event the client raises.
    const stream = await c.chat.completions.create({ model: "web-1", messages: [{ role: "user", content: "Hello again" }], stream: true });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).message).toMatch(/not running/);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
  });

  it("earlier turns and system messages reach the agent as one message when the call starts a new session", async () => {
    const c = client(aliceToken);
    const { response } = await c.chat.completions
      .create({
        model: "db-1",
        messages: [
          { role: "system", content: "Answer in French." },
          { role: "user", content: "My name is Ada." },
          { role: "assistant", content: "Noted." },
          { role: "user", content: "What is my name?" },
        ],
      })
      .withResponse()
      .catch((e: APIError) => ({ response: { headers: e.headers! } }));
    const sessionId = response.headers.get("x-armory-session")!;
    const run = await armory.services.db.prisma.chatRun.findFirstOrThrow({ where: { sessionId } });
    expect(run.message).toBe(
      "Instructions:\nAnswer in French.\n\nThe conversation so far:\nUser: My name is Ada.\n\nAssistant: Noted.\n\nThe message to answer now:\nWhat is my name?",
    );
  });

  it("the `user` field continues one session per agent and token owner; without it each call is a new session", async () => {
    const c = client(aliceToken);
    const sessionOf = (messages: OpenAI.Chat.ChatCompletionMessageParam[], user?: string) =>
      c.chat.completions.create({ model: "web-1", messages, ...(user ? { user } : {}) }).then(
        () => {
          throw new Error("the turn should fail: the agent has no container");
        },
        (e: APIError) => e.headers!.get("x-armory-session")!,
      );
    const first = await sessionOf([{ role: "user", content: "First" }], "ticket-7");
    const second = await sessionOf(
      [
        { role: "user", content: "First" },
        { role: "assistant", content: "Ok" },
        { role: "user", content: "Second" },
      ],
      "ticket-7",
    );
    expect(second).toBe(first);
    // Continuing: only the last user message is sent (the session holds the rest).
    const runs = await armory.services.db.prisma.chatRun.findMany({ where: { sessionId: first }, orderBy: { startedAt: "asc" } });
    expect(runs.map((r) => r.message)).toEqual(["First", "Second"]);
    // Another key, or no key: new sessions; another owner's same key: its own session.
    expect(await sessionOf([{ role: "user", content: "Third" }], "ticket-8")).not.toBe(first);
    expect(await sessionOf([{ role: "user", content: "Third" }])).not.toBe(first);
    const bobToken = (await makeToken(armory.services, bob.id)).token;
    const a = await callerFor(armory.services, alice);
    await a.project.members.updateRole({ projectId, userId: bob.id, role: "operator" });
    const bobs = await client(bobToken)
      .chat.completions.create({ model: "web-1", messages: [{ role: "user", content: "Mine" }], user: "ticket-7" })
      .then(
        () => null,
        (e: APIError) => e.headers!.get("x-armory-session"),
      );
    expect(bobs).toMatch(/^[0-9a-f-]{36}$/);
    expect(bobs).not.toBe(first);
    // The header wins over the key, and names the session explicitly.
    const viaHeader = await c.chat.completions
      .create({ model: "web-1", messages: [{ role: "user", content: "Fourth" }], user: "ticket-8" }, { headers: { "X-Armory-Session": first } })
      .then(
        () => null,
        (e: APIError) => e.headers!.get("x-armory-session"),
      );
    expect(viaHeader).toBe(first);
    // Deleting the conversation forgets the key: the next call starts afresh.
    await a.chat.deleteSession({ projectId, agentId: web.id, sessionId: first });
    expect(await armory.services.db.prisma.openaiUserSession.count({ where: { sessionId: first } })).toBe(0);
    const fresh = await sessionOf([{ role: "user", content: "Again" }], "ticket-7");
    expect(fresh).not.toBe(first);
  });
});
