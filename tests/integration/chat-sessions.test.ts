// Managing conversations: chat.renameSession, chat.deleteSession and chat.sessions' search, on
// a real database through the real tRPC callers and middlewares. Conversations are written the
// way a turn writes them (a run with the user's message, numbered events, the run's end) through
// the chat store, so no container is needed; a real running turn in a container is refused
// deletion in tests/docker/chat.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { insertAgentRow } from "../support/trust";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;

describe("chat sessions: rename, delete, search (pglite)", () => {
  let armory: TestArmory;
  let owner: TestUser;
  let caller: Caller;
  let projectId: string;
  let agentId: string;

  /** A finished conversation: the user's message, the agent's full reply, the run's end. */
  async function conversation(title: string, userText: string, replyText: string) {
    const { store } = armory.services.chat;
    const session = await store.createSession({ projectId, agentId, title, userId: owner.id });
    const run = await store.createRun({ sessionId: session.id, agentId, projectId, userId: owner.id, message: userText, mode: "oneshot" });
    await store.append(session.id, [
      { runId: run.id, type: "user_message", data: { text: userText, userId: owner.id } },
      { runId: run.id, type: "assistant", data: { type: "assistant", message: { id: "msg_1", role: "assistant", content: [{ type: "text", text: replyText }] } } },
    ]);
    await store.finishRun(run.id, { status: "completed", durationMs: 12 });
    return { sessionId: session.id, runId: run.id };
  }

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    owner = await signUp(armory.services, { name: "Chat Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Conversations" })).id;
    agentId = (await insertAgentRow(armory.services, projectId, "talker")).id;
  });
  afterAll(async () => {
    await armory?.close();
  });

  it("renames a session: the new title is listed, the order (last activity) stays", async () => {
    const older = await conversation("Old topic", "tell me about ports", "Ports are numbers.");
    const newer = await conversation("New topic", "and sockets?", "Sockets are endpoints.");
    const before = (await caller.chat.sessions({ projectId, agentId })).sessions.map((s) => s.id);
    expect(before.indexOf(newer.sessionId)).toBeLessThan(before.indexOf(older.sessionId));

    const renamed = await caller.chat.renameSession({ projectId, agentId, sessionId: older.sessionId, title: "  Networking   basics " });
    expect(renamed).toMatchObject({ id: older.sessionId, title: "Networking basics", running: false, turns: 1 });
    const after = (await caller.chat.sessions({ projectId, agentId })).sessions;
    expect(after.find((s) => s.id === older.sessionId)!.title).toBe("Networking basics");
    expect(after.map((s) => s.id)).toEqual(before);
    const history = await caller.chat.history({ projectId, agentId, sessionId: older.sessionId });
    expect(history.session.title).toBe("Networking basics");
  });

  it("refuses bad titles and unknown sessions with clear 4xx", async () => {
    const { sessionId } = await conversation("Keep me", "hello", "hi");
    await expectTrpcError(caller.chat.renameSession({ projectId, agentId, sessionId, title: "   " }), "BAD_REQUEST", /title is empty/);
    await expectTrpcError(caller.chat.renameSession({ projectId, agentId, sessionId, title: "x".repeat(201) }), "BAD_REQUEST", /at most 200/);
    await expectTrpcError(caller.chat.renameSession({ projectId, agentId, sessionId, title: "two\nlines" }), "BAD_REQUEST", /one line/);
    await expectTrpcError(caller.chat.renameSession({ projectId, agentId, sessionId: crypto.randomUUID(), title: "Nope" }), "NOT_FOUND");
    await expectTrpcError(caller.chat.renameSession({ projectId, agentId, sessionId: "not-a-uuid", title: "Nope" }), "BAD_REQUEST", /UUID/);
    await expectTrpcError(caller.chat.deleteSession({ projectId, agentId, sessionId: crypto.randomUUID() }), "NOT_FOUND");
    // A session of another agent of the same project is not reachable through this agent.
    const other = (await insertAgentRow(armory.services, projectId, "other")).id;
    await expectTrpcError(caller.chat.renameSession({ projectId, agentId: other, sessionId, title: "Stolen" }), "NOT_FOUND");
    await expectTrpcError(caller.chat.deleteSession({ projectId, agentId: other, sessionId }), "NOT_FOUND");
    expect((await caller.chat.history({ projectId, agentId, sessionId })).session.title).toBe("Keep me");
  });

  it("searches by title, by the user's messages and by the agent's replies, case-insensitively", async () => {
    const a = await conversation("Deploying the backend", "how do I deploy?", "Run the deploy script.");
    const b = await conversation("Groceries", "what should I buy for a PINEAPPLE cake?", "Flour, sugar and fruit.");
    const c = await conversation("Weather", "is it sunny?", "It is raining cats_and_dogs with 100% certainty.");
    const ids = async (search: string) => (await caller.chat.sessions({ projectId, agentId, search })).sessions.map((s) => s.id);
    expect(await ids("deploying")).toEqual([a.sessionId]);
    expect(await ids("pineapple")).toEqual([b.sessionId]);
    expect(await ids("CATS_AND")).toEqual([c.sessionId]);
    // LIKE wildcards in the search are literal characters.
    expect(await ids("100%")).toEqual([c.sessionId]);
    expect(await ids("%")).toEqual([c.sessionId]);
    expect(await ids("_")).toEqual([c.sessionId]);
    expect(await ids("no conversation says this")).toEqual([]);
    // An empty search lists everything.
    expect((await ids("")).length).toBe((await caller.chat.sessions({ projectId, agentId })).sessions.length);
    await expectTrpcError(caller.chat.sessions({ projectId, agentId, search: "x".repeat(201) }), "BAD_REQUEST", /at most 200/);
  });

  it("deletes a session with its runs and events; refuses with 409 while a turn is running", async () => {
    const { sessionId } = await conversation("Doomed", "first", "reply");
    const prisma = armory.services.db.prisma;
    // A turn is running in the session (as a previous Armory process may have left it).
    const running = await armory.services.chat.store.createRun({ sessionId, agentId, projectId, userId: owner.id, message: "second", mode: "oneshot" });
    await expectTrpcError(caller.chat.deleteSession({ projectId, agentId, sessionId }), "CONFLICT", /turn is running/);
    // Over HTTP the refusal is a 409 with the message.
    const http = await startHttp(() => armory.services);
    try {
      const res = await fetch(`${http.url}/api/trpc/chat.deleteSession`, {
        method: "POST",
        headers: { cookie: owner.cookie, "content-type": "application/json" },
        body: JSON.stringify({ json: { projectId, agentId, sessionId } }),
      });
      expect(res.status).toBe(409);
      expect(await res.text()).toContain("stop it or wait for it to finish");
    } finally {
      await http.close();
    }
    expect(await prisma.chatSession.count({ where: { id: sessionId } })).toBe(1);

    // Stopping the turn makes it deletable.
    expect(await caller.chat.interrupt({ projectId, agentId, sessionId })).toEqual({ interrupted: true, runId: running.id });
    expect(await caller.chat.deleteSession({ projectId, agentId, sessionId })).toEqual({ deleted: true, sessionId });
    expect(await prisma.chatSession.count({ where: { id: sessionId } })).toBe(0);
    expect(await prisma.chatRun.count({ where: { sessionId } })).toBe(0);
    expect(await prisma.chatEvent.count({ where: { sessionId } })).toBe(0);
    expect((await caller.chat.sessions({ projectId, agentId })).sessions.map((s) => s.id)).not.toContain(sessionId);
    await expectTrpcError(caller.chat.history({ projectId, agentId, sessionId }), "NOT_FOUND");
    await expectTrpcError(caller.chat.deleteSession({ projectId, agentId, sessionId }), "NOT_FOUND");
  });

  it("lets viewers search but not rename or delete; non-members and anonymous callers get nothing", async () => {
    const { sessionId } = await conversation("Shared", "visible to viewers", "yes");
    const viewer = await signUp(armory.services, { name: "Viewer" });
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: viewer.id, role: "viewer" } });
    const asViewer = await callerFor(armory.services, viewer);
    expect((await asViewer.chat.sessions({ projectId, agentId, search: "visible to viewers" })).sessions.map((s) => s.id)).toEqual([sessionId]);
    await expectTrpcError(asViewer.chat.renameSession({ projectId, agentId, sessionId, title: "Mine" }), "FORBIDDEN");
    await expectTrpcError(asViewer.chat.deleteSession({ projectId, agentId, sessionId }), "FORBIDDEN");
    const operator = await signUp(armory.services, { name: "Operator" });
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: operator.id, role: "operator" } });
    const asOperator = await callerFor(armory.services, operator);
    expect((await asOperator.chat.renameSession({ projectId, agentId, sessionId, title: "Renamed by an operator" })).title).toBe("Renamed by an operator");
    const stranger = await callerFor(armory.services, await signUp(armory.services, { name: "Stranger" }));
    await expectTrpcError(stranger.chat.deleteSession({ projectId, agentId, sessionId }), "FORBIDDEN", /not a member/);
    await expectTrpcError(stranger.chat.sessions({ projectId, agentId, search: "visible" }), "FORBIDDEN");
    await expectTrpcError((await callerFor(armory.services, null)).chat.renameSession({ projectId, agentId, sessionId, title: "x" }), "UNAUTHORIZED");
    // Every decision is in the audit log, the refusals as denied.
    const rows = await armory.services.db.prisma.auditEvent.findMany({ where: { action: { in: ["chat.renameSession", "chat.deleteSession"] }, userId: viewer.id } });
    expect(rows.map((r) => [r.action, r.allowed]).sort()).toEqual([
      ["chat.deleteSession", false],
      ["chat.renameSession", false],
    ]);
    expect(await armory.services.db.prisma.chatSession.count({ where: { id: sessionId } })).toBe(1);
  });
});
