// Subscriptions over SSE as Armory's server writes them (src/server/api/sse.ts) against tRPC's
// own fetch adapter (handleTrpcRequest, what the Next route handler ran before): the same bytes
// for a replayed conversation, a resume from Last-Event-ID and the errors at the start; live events
// arrive in order through the typed client; a client that leaves ends the stream on the server.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import superjson from "superjson";
import { handleTrpcRequest } from "@/server/api/http";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { httpClient } from "../support/http-server";
import { insertAgentRow } from "../support/trust";

/** The first `count` SSE messages of a response body (then the body is cancelled). */
async function firstMessages(body: ReadableStream<Uint8Array>, count: number): Promise<string[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const parts = text.split("\n\n\n");
      if (parts.length > count) return parts.slice(0, count);
      const { value, done } = await reader.read();
      if (done) return text.split("\n\n\n").filter(Boolean);
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

describe("subscriptions over SSE, written by Armory's server (pglite)", () => {
  let armory: TestArmory;
  let http: { url: string; close(): Promise<void> };
  let owner: TestUser;
  let projectId: string;
  let agentId: string;
  let sessionId: string;
  let lastSeq: number;

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    http = await startHttp(() => armory.services);
    owner = await signUp(armory.services, { name: "Streamer" });
    const caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "SSE wire" })).id;
    agentId = (await insertAgentRow(armory.services, projectId, "talker")).id;
    const { store } = armory.services.chat;
    const session = await store.createSession({ projectId, agentId, title: "Wire", userId: owner.id });
    sessionId = session.id;
    const run = await store.createRun({ sessionId, agentId, projectId, userId: owner.id, message: "hi", mode: "oneshot" });
    const stored = await store.append(sessionId, [
      { runId: run.id, type: "user_message", data: { text: "hi", userId: owner.id } },
      ...Array.from({ length: 5 }, (_, i) => ({ runId: run.id, type: "stream_event", data: { type: "stream_event", event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `part ${i} é\n` } } } })),
    ]);
    lastSeq = stored.at(-1)!.seq;
  });
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  const streamUrl = (input: Record<string, unknown>) => `${http.url}/api/trpc/chat.stream?input=${encodeURIComponent(JSON.stringify(superjson.serialize(input)))}`;

  /** The same request through Armory's server and through tRPC's fetch adapter: their first `count` messages. */
  async function both(url: string, headers: Record<string, string>, count: number) {
    const requestId = crypto.randomUUID();
    const all = { ...headers, "x-request-id": requestId };
    const served = await fetch(url, { headers: all });
    const reference = await handleTrpcRequest(new Request(url, { headers: all }), armory.services);
    return {
      served,
      reference,
      ours: await firstMessages(served.body!, count),
      theirs: await firstMessages(reference.body!, count),
    };
  }

  it("replays a conversation with the same bytes as tRPC's producer, with the SSE headers", async () => {
    const { served, ours, theirs } = await both(streamUrl({ projectId, agentId, sessionId, afterSeq: 0 }), { cookie: owner.cookie }, 7);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("text/event-stream");
    expect(served.headers.get("cache-control")).toBe("no-store");
    expect(served.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(ours).toEqual(theirs);
    expect(ours[0]).toBe("event: connected\ndata: {}");
    // Tracked: each event carries its seq as the SSE id; the text (unicode, newline) round-trips.
    const events = ours.slice(1).map((m) => {
      const [data, id] = m.split("\n");
      return { id: id!.replace(/^id: /, ""), event: superjson.deserialize<ChatStreamEvent>(JSON.parse(data!.replace(/^data: /, ""))) };
    });
    expect(events.map((e) => Number(e.id))).toEqual(events.map((e) => e.event.seq));
    expect(events.at(-1)!.event.seq).toBe(lastSeq);
    expect(events[1]!.event.data).toMatchObject({ event: { delta: { text: "part 0 é\n" } } });
    expect(events[0]!.event.at).toBeInstanceOf(Date);
  });

  it("resumes after Last-Event-ID as tRPC does", async () => {
    const { ours, theirs } = await both(streamUrl({ projectId, agentId, sessionId, afterSeq: 0 }), { cookie: owner.cookie, "last-event-id": String(lastSeq - 2) }, 3);
    expect(ours).toEqual(theirs);
    expect(ours.slice(1).map((m) => Number(/id: (\d+)/.exec(m)![1]))).toEqual([lastSeq - 1, lastSeq]);
  });

  it("answers an unknown session (404) and a signed-out caller (401) with tRPC's serialized error", async () => {
    const unknown = await both(streamUrl({ projectId, agentId, sessionId: crypto.randomUUID(), afterSeq: 0 }), { cookie: owner.cookie }, 2);
    expect(unknown.ours).toEqual(unknown.theirs);
    expect(unknown.ours[1]).toMatch(/^event: serialized-error\ndata: .*"code":"NOT_FOUND"/);
    const anonymous = await both(streamUrl({ projectId, agentId, sessionId, afterSeq: 0 }), {}, 2);
    expect(anonymous.ours).toEqual(anonymous.theirs);
    expect(anonymous.ours[1]).toMatch(/"code":"UNAUTHORIZED"/);
    const invalid = await both(streamUrl({ projectId, agentId, sessionId: "not-a-uuid", afterSeq: 0 }), { cookie: owner.cookie }, 2);
    expect(invalid.ours).toEqual(invalid.theirs);
    expect(invalid.ours[1]).toMatch(/"code":"BAD_REQUEST"/);
  });

  it("answers an input that is not JSON as tRPC does (its stream carries the 400)", async () => {
    const { ours, theirs } = await both(`${http.url}/api/trpc/chat.stream?input=%7Bnot-json`, { cookie: owner.cookie }, 2);
    expect(ours).toEqual(theirs);
    expect(ours[1]).toMatch(/^event: serialized-error\ndata: .*"code":"BAD_REQUEST"/);
  });

  it("delivers a live burst in order through the typed client, and a client that leaves ends the stream on the server", async () => {
    const { store } = armory.services.chat;
    const { bus } = armory.services.chat;
    const session = await store.createSession({ projectId, agentId, title: "Live", userId: owner.id });
    const run = await store.createRun({ sessionId: session.id, agentId, projectId, userId: owner.id, message: "go", mode: "oneshot" });
    const seqs: number[] = [];
    let started!: () => void;
    const open = new Promise<void>((r) => (started = r));
    const sub = httpClient(http.url, owner.cookie).chat.stream.subscribe(
      { projectId, agentId, sessionId: session.id, afterSeq: 0 },
      { onStarted: () => started(), onData: ({ data }) => seqs.push(data.seq) },
    );
    await open;
    await vi.waitFor(() => expect(bus.subscriberCount(session.id)).toBe(1));
    // 300 events emitted in one go: written to the response together, read back one by one, in order.
    await Promise.all(Array.from({ length: 300 }, (_, i) => bus.emit(session.id, { runId: run.id, type: "stderr", data: { text: `line ${i}` } })));
    await vi.waitFor(() => expect(seqs).toHaveLength(300), { timeout: 10_000 });
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    sub.unsubscribe();
    await vi.waitFor(() => expect(bus.subscriberCount(session.id)).toBe(0), { timeout: 5000 });
  });
});
