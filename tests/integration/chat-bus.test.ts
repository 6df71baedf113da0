// The chat bus delivers a claimed session's events before their write (the live path does not
// wait for the group commit) and a subscriber that replays never sees a gap, a duplicate or a
// reordering: the writes are held back with a gate in front of the real store (PGlite) so the
// "delivered, not stored yet" window is deterministic.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatEventBus } from "@/server/chat/bus";
import { ChatStore, type ChatEventRecord, type NewChatEvent } from "@/server/chat/store";
import { createLogger } from "@/server/logger";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { insertAgentRow } from "../support/trust";

/** The real store, whose writes wait while the gate is shut. */
class GatedStore extends ChatStore {
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => {};
  writes = 0;
  shut() {
    this.gate = new Promise((r) => (this.openGate = r));
  }
  open() {
    this.openGate();
  }
  override async appendMany(events: (NewChatEvent & { sessionId: string; seq?: number; at?: Date })[]) {
    await this.gate;
    this.writes++;
    return super.appendMany(events);
  }
}

/** Collects what a bus stream yields; `until` waits for a seq. */
function follow(bus: ChatEventBus, sessionId: string, afterSeq: number) {
  const ctrl = new AbortController();
  const seen: ChatEventRecord[] = [];
  const waiters: { seq: number; resolve: () => void }[] = [];
  const done = (async () => {
    for await (const e of bus.stream(sessionId, afterSeq, ctrl.signal)) {
      seen.push(e);
      for (const w of waiters.filter((w) => e.seq >= w.seq)) w.resolve();
    }
  })();
  return {
    seen,
    seqs: () => seen.map((e) => e.seq),
    until: (seq: number) => (seen.some((e) => e.seq >= seq) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ seq, resolve }))),
    close: async () => {
      ctrl.abort();
      await done;
    },
  };
}

describe("chat bus: live before stored", () => {
  let armory: TestArmory;
  let store: GatedStore;
  let bus: ChatEventBus;
  let newSession: () => Promise<{ sessionId: string; runId: string }>;

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    const prisma = armory.services.db.prisma;
    store = new GatedStore(prisma);
    bus = new ChatEventBus(store, createLogger({ level: "silent", format: "json" }));
    const user = await signUp(armory.services, { name: "Bus" });
    const project = await (await callerFor(armory.services, user)).project.create({ name: "Bus" });
    const agent = await insertAgentRow(armory.services, project.id, "bus");
    newSession = async () => {
      const session = await prisma.chatSession.create({ data: { projectId: project.id, agentId: agent.id, title: "bus", createdById: user.id } });
      const run = await prisma.chatRun.create({ data: { sessionId: session.id, agentId: agent.id, projectId: project.id, userId: user.id, message: "hi" } });
      return { sessionId: session.id, runId: run.id };
    };
  }, 120_000);

  afterAll(async () => {
    store?.open();
    await armory?.close();
  });

  const storedSeqs = async (sessionId: string) =>
    (await armory.services.db.prisma.chatEvent.findMany({ where: { sessionId }, orderBy: { seq: "asc" }, select: { seq: true } })).map((r) => r.seq);

  it("numbers a claimed session's events itself once its stored seq is known, delivers them while their write waits, and stores them with those numbers and times", async () => {
    const { sessionId, runId } = await newSession();
    const live = follow(bus, sessionId, 0);
    bus.claim(sessionId);
    // The first event after the claim is numbered by the database (the bus does not know the seq yet).
    await bus.emit(sessionId, { runId, type: "user_message", data: { n: 1 } });
    store.shut();
    const writes = store.writes;
    const pending = [2, 3, 4].map((n) => bus.emit(sessionId, { runId, type: "text", data: { n } }));
    await live.until(4);
    expect(store.writes).toBe(writes); // nothing written yet
    expect(await storedSeqs(sessionId)).toEqual([1]);
    expect(live.seen.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4]);

    store.open();
    const records = await Promise.all(pending);
    expect(records.map((r) => r.seq)).toEqual([2, 3, 4]);
    const rows = await armory.services.db.prisma.chatEvent.findMany({ where: { sessionId }, orderBy: { seq: "asc" } });
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    // What history replays is what the live subscriber saw.
    expect(rows.slice(1).map((r) => r.createdAt.getTime())).toEqual(live.seen.slice(1).map((e) => e.at.getTime()));
    expect((await armory.services.db.prisma.chatSession.findUniqueOrThrow({ where: { id: sessionId } })).lastSeq).toBe(4);
    bus.release(sessionId);
    await live.close();
  });

  it("a subscriber that joins while delivered events wait for their write gets the stored ones, then those, then the live ones: no gap, no duplicate", async () => {
    const { sessionId, runId } = await newSession();
    bus.claim(sessionId);
    for (let n = 1; n <= 3; n++) await bus.emit(sessionId, { runId, type: "text", data: { n } });
    store.shut();
    const pending = [4, 5, 6].map((n) => bus.emit(sessionId, { runId, type: "text", data: { n } }));
    const late = follow(bus, sessionId, 0);
    const resumed = follow(bus, sessionId, 5);
    await late.until(6);
    expect(late.seqs()).toEqual([1, 2, 3, 4, 5, 6]);
    pending.push(bus.emit(sessionId, { runId, type: "text", data: { n: 7 } }));
    store.open();
    await Promise.all(pending);
    pending.length = 0;
    pending.push(bus.emit(sessionId, { runId, type: "text", data: { n: 8 } }));
    await Promise.all(pending);
    await late.until(8);
    await resumed.until(8);
    expect(late.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(resumed.seqs()).toEqual([6, 7, 8]);
    expect(late.seen.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await storedSeqs(sessionId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    bus.release(sessionId);
    await Promise.all([late.close(), resumed.close()]);
  });

  it("after release the database numbers again, after the events the bus numbered that are still waiting", async () => {
    const { sessionId, runId } = await newSession();
    bus.claim(sessionId);
    await bus.emit(sessionId, { runId, type: "text", data: { n: 1 } });
    const live = follow(bus, sessionId, 0);
    store.shut();
    const pending = [2, 3].map((n) => bus.emit(sessionId, { runId, type: "text", data: { n } }));
    bus.release(sessionId);
    pending.push(bus.emit(sessionId, { runId, type: "run_completed", data: { n: 4 } }));
    // Numbered by the database: delivered only once it (and so everything before it) is stored.
    await live.until(3);
    expect(live.seqs()).toEqual([1, 2, 3]);
    await new Promise((r) => setImmediate(r));
    expect(live.seqs()).toEqual([1, 2, 3]);
    store.open();
    expect((await Promise.all(pending)).map((r) => r.seq)).toEqual([2, 3, 4]);
    await live.until(4);
    expect(live.seqs()).toEqual([1, 2, 3, 4]);
    expect(live.seen.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4]);
    expect(await storedSeqs(sessionId)).toEqual([1, 2, 3, 4]);
    // A session nobody claimed: every event is delivered once stored, as before.
    await bus.emit(sessionId, { runId, type: "text", data: { n: 5 } });
    await live.until(5);
    expect(live.seqs()).toEqual([1, 2, 3, 4, 5]);
    await live.close();
  });

  it("many claimed sessions interleaved in one group commit: every session gap-free in the database and on its stream", async () => {
    const sessions = await Promise.all(Array.from({ length: 5 }, () => newSession()));
    const streams = sessions.map((s) => follow(bus, s.sessionId, 0));
    for (const s of sessions) bus.claim(s.sessionId);
    await Promise.all(sessions.map((s) => bus.emit(s.sessionId, { runId: s.runId, type: "user_message", data: { n: 1 } })));
    const all: Promise<ChatEventRecord>[] = [];
    for (let n = 2; n <= 50; n++) for (const s of sessions) all.push(bus.emit(s.sessionId, { runId: s.runId, type: "text", data: { n } }));
    await Promise.all(all);
    const expected = Array.from({ length: 50 }, (_, i) => i + 1);
    for (const [i, s] of sessions.entries()) {
      await streams[i]!.until(50);
      expect(streams[i]!.seqs()).toEqual(expected);
      expect(streams[i]!.seen.map((e) => (e.data as { n: number }).n)).toEqual(expected);
      expect(await storedSeqs(s.sessionId)).toEqual(expected);
      bus.release(s.sessionId);
    }
    await Promise.all(streams.map((s) => s.close()));
  });

  it("stores delivered events together: they wait for the write delay, an event a subscriber waits for writes them all at once, flush() stores the rest", async () => {
    // A delay no test waits out: only an undelivered event or flush() can start these writes.
    const slow = new ChatEventBus(store, createLogger({ level: "silent", format: "json" }), 3_600_000);
    const { sessionId, runId } = await newSession();
    const live = follow(slow, sessionId, 0);
    slow.claim(sessionId);
    await slow.emit(sessionId, { runId, type: "user_message", data: { n: 1 } });
    const writes = store.writes;
    const delivered = Array.from({ length: 100 }, (_, i) => slow.emit(sessionId, { runId, type: "text", data: { n: i + 2 } }));
    await live.until(101);
    expect(store.writes).toBe(writes);
    expect(await storedSeqs(sessionId)).toEqual([1]);
    // Another session's event is numbered by the database: its subscriber waits, so the write starts, with everything queued.
    const other = await newSession();
    const urgent = await slow.emit(other.sessionId, { runId: other.runId, type: "user_message", data: { n: 1 } });
    expect(urgent.seq).toBe(1);
    expect(store.writes).toBe(writes + 1);
    expect((await Promise.all(delivered)).map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    expect(await storedSeqs(sessionId)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    // Delivered events left waiting are stored by flush() (the chat service calls it when Armory stops).
    const tail = [102, 103].map((n) => slow.emit(sessionId, { runId, type: "text", data: { n } }));
    await live.until(103);
    await slow.flush();
    expect((await Promise.all(tail)).map((r) => r.seq)).toEqual([102, 103]);
    expect(await storedSeqs(sessionId)).toEqual(Array.from({ length: 103 }, (_, i) => i + 1));
    slow.release(sessionId);
    await live.close();
  });
});
