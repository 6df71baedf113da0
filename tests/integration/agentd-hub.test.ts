// Armory's endpoint for agent daemons (src/server/agentd/hub.ts) over a real HTTP server with
// Armory's own upgrade listener, spoken to by a WebSocket peer that follows the armoryd protocol
// (src/contracts/armoryd.ts) the way the real daemon does (the real daemon against a real
// container is tests/docker/armoryd*.test.ts). Proves: only an agent's own token connects; events
// are delivered once, in order, and a reconnect resumes after the last one received (a replay is
// never delivered twice); batches of events (protocol 2) are delivered in order with the same
// dedupe and gap rules and one ack per frame, and a protocol-1 daemon's single events still work;
// a process's events reach only that process's listeners; requests are answered or fail at once
// when the connection is lost; a newer daemon replaces an older one and an older one cannot take
// the agent back; invalid frames and other protocol versions are refused; a silent daemon is cut off.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  ACK_EVERY,
  AGENTD_PATH,
  CLOSE_PROTOCOL,
  CLOSE_REPLACED,
  CLOSE_SUPERSEDED,
  PROTOCOL_VERSION,
  type ArmoryMessage,
  type DaemonEvent,
  type HelloMessage,
} from "@/contracts/armoryd";
import { DaemonHub, DaemonRequestError, DaemonUnavailableError } from "@/server/agentd/hub";
import { createLogger } from "@/server/logger";
import { signUp, startHttp, startTestArmory, callerFor, type TestArmory } from "../support/armory";
import { insertAgentRow } from "../support/trust";

type Server = Awaited<ReturnType<typeof startHttp>>;

const capabilities = {
  agentVersion: "test",
  claudeVersion: "2.1.330",
  writablePaths: ["/workspace"],
  configDir: "/home/agent/.claude",
  instructionsDir: "/workspace",
  instructionFiles: [],
  configWatcher: "fs.watch",
  supportedActions: ["chat", "files"],
};

function hello(daemonId: string, startedAt = Date.now(), protocol = PROTOCOL_VERSION): HelloMessage {
  return { type: "hello", protocol, daemonId, containerId: null, startedAt, capabilities, processes: [], terminals: [], lastSeq: 0 };
}

/** A daemon-side peer: connects, says hello, records what Armory sends. */
class Peer {
  readonly received: ArmoryMessage[] = [];
  private waiters: { pred: (m: ArmoryMessage) => boolean; resolve: (m: ArmoryMessage) => void }[] = [];
  closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on("message", (d) => {
      const m = JSON.parse(d.toString()) as ArmoryMessage;
      this.received.push(m);
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }
  static async open(url: string, token: string): Promise<Peer> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const peer = new Peer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return peer;
  }
  next<T extends ArmoryMessage["type"]>(type: T, pred: (m: Extract<ArmoryMessage, { type: T }>) => boolean = () => true): Promise<Extract<ArmoryMessage, { type: T }>> {
    const seen = this.received.find((m) => m.type === type && pred(m as Extract<ArmoryMessage, { type: T }>));
    if (seen) return Promise.resolve(seen as Extract<ArmoryMessage, { type: T }>);
    return new Promise((resolve) => this.waiters.push({ pred: (m) => m.type === type && pred(m as Extract<ArmoryMessage, { type: T }>), resolve: resolve as (m: ArmoryMessage) => void }));
  }
  send(m: unknown): void {
    this.ws.send(JSON.stringify(m));
  }
  event(seq: number, event: DaemonEvent): void {
    this.send({ type: "event", seq, at: Date.now(), event });
  }
  /** One `events` frame of seqs from..to (each event made by `make`). */
  events(from: number, to: number, make: (seq: number) => DaemonEvent = line): void {
    const events = [];
    for (let seq = from; seq <= to; seq++) events.push({ seq, at: Date.now(), event: make(seq) });
    this.send({ type: "events", events });
  }
}

/** A hub of its own on the test Armory's token check, logging into `logs` (JSON lines). */
async function ownHub(armory: TestArmory, logs: string[], opts: { heartbeatMs?: number; deadAfterMs?: number } = {}) {
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const hub = new DaemonHub({ log: createLogger({ level: "info", format: "json", destination }), verifyToken: (t) => armory.services.gateway.verifyToken(t), ...opts });
  const http = await import("node:http");
  const srv = http.createServer();
  srv.on("upgrade", (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  return {
    hub,
    url: `ws://127.0.0.1:${port}${AGENTD_PATH}`,
    async close() {
      await hub.close();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

const line = (n: number): DaemonEvent => ({ type: "proc.line", procId: "p1", line: `{"n":${n}}` });

/** An HTTP status for a refused upgrade. */
function refused(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => reject(new Error("the upgrade was accepted")));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", () => {});
  });
}

describe("the agent daemons' endpoint (DaemonHub)", () => {
  let armory: TestArmory;
  let server: Server;
  let url: string;
  let agentId: string;
  let token: string;

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    server = await startHttp(() => armory.services);
    url = `${server.url.replace(/^http/, "ws")}${AGENTD_PATH}`;
    const user = await signUp(armory.services);
    const caller = await callerFor(armory.services, user);
    const project = await caller.project.create({ name: "Daemons" });
    agentId = (await insertAgentRow(armory.services, project.id, "daemon")).id;
    token = await armory.services.gateway.ensureAgentToken(agentId);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await armory?.close();
  });

  it("connects only with an agent's own token", async () => {
    expect(await refused(url, {})).toBe(401);
    expect(await refused(url, { authorization: "Bearer nope" })).toBe(401);
    expect(await refused(url, { authorization: `Bearer ${token}x` })).toBe(401);
    const peer = await Peer.open(url, token);
    peer.send(hello("daemon-a-000"));
    const welcome = await peer.next("welcome");
    expect(welcome).toEqual({ type: "welcome", protocol: PROTOCOL_VERSION, resumeAfter: null });
    expect(armory.services.hub.state(agentId)).toBe("connected");
    expect(armory.services.hub.info(agentId)!.hello.capabilities.supportedActions).toEqual(["chat", "files"]);
    peer.ws.close();
    await peer.closed;
    await expect.poll(() => armory.services.hub.state(agentId)).toBe("disconnected");
  });

  it("delivers each event once, in order, and resumes after the last one across a reconnect", async () => {
    const hub = armory.services.hub;
    const got: number[] = [];
    const off = hub.onEvent(agentId, (e) => e.type === "proc.line" && got.push(JSON.parse(e.line).n as number));
    let peer = await Peer.open(url, token);
    peer.send(hello("daemon-b-000"));
    expect((await peer.next("welcome")).resumeAfter).toBeNull();
    for (let n = 1; n <= 5; n++) peer.event(n, line(n));
    // A repeat (as after a replay) is dropped.
    peer.event(3, line(3));
    peer.event(6, line(6));
    const ack = await peer.next("ack", (a) => a.seq === 6);
    expect(ack.seq).toBe(6);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);

    // The connection drops; the same daemon comes back and replays from 4 (it had no ack for them).
    peer.ws.terminate();
    await expect.poll(() => hub.state(agentId)).toBe("disconnected");
    peer = await Peer.open(url, token);
    peer.send(hello("daemon-b-000"));
    expect((await peer.next("welcome")).resumeAfter).toBe(6);
    for (let n = 4; n <= 8; n++) peer.event(n, line(n));
    await peer.next("ack", (a) => a.seq === 8);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // A restarted daemon (new id) starts over: nothing to resume, and its events count from 1.
    const restarted: string[] = [];
    const offDaemon = hub.onDaemon((i, prev) => restarted.push(`${prev}->${i.daemonId}`));
    peer.ws.close();
    await peer.closed;
    peer = await Peer.open(url, token);
    peer.send(hello("daemon-c-000"));
    expect((await peer.next("welcome")).resumeAfter).toBeNull();
    peer.event(1, line(100));
    await peer.next("ack", (a) => a.seq === 1);
    expect(got.at(-1)).toBe(100);
    expect(restarted).toEqual(["daemon-b-000->daemon-c-000"]);
    off();
    offDaemon();
    peer.ws.close();
    await peer.closed;
  });

  it("takes batches of events: in order, a replayed batch's repeats dropped, a gap reported, one ack per frame", async () => {
    const logs: string[] = [];
    const own = await ownHub(armory, logs);
    const hub = own.hub;
    const got: number[] = [];
    const lines: number[] = [];
    hub.onEvent(agentId, (e, meta) => {
      got.push(meta.seq);
      if (e.type === "proc.line") lines.push(JSON.parse(e.line).n as number);
    });
    const peer = await Peer.open(own.url, token);
    peer.send(hello("daemon-batch-0"));
    expect(await peer.next("welcome")).toEqual({ type: "welcome", protocol: PROTOCOL_VERSION, resumeAfter: null });
    peer.events(1, 5);
    peer.events(3, 8); // a replay overlapping what came: 3..5 are dropped
    peer.events(11, 12); // 9 and 10 never came (the daemon's outbox overflowed)
    expect((await peer.next("ack", (a) => a.seq === 12)).seq).toBe(12);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 11, 12]);
    expect(lines).toEqual(got);
    const gap = logs.map((l) => JSON.parse(l) as { msg: string; from?: number; to?: number }).filter((l) => l.msg.includes("events lost"));
    expect(gap).toMatchObject([{ from: 9, to: 10 }]);

    // A frame of more than ACK_EVERY events is acked once, at its last seq (not at its 256th event).
    const acksBefore = peer.received.filter((m) => m.type === "ack").length;
    peer.events(13, 12 + ACK_EVERY + 44);
    const big = await peer.next("ack", (a) => a.seq > 12);
    expect(big.seq).toBe(12 + ACK_EVERY + 44);
    expect(peer.received.filter((m) => m.type === "ack").length).toBe(acksBefore + 1);
    expect(got.length).toBe(10 + ACK_EVERY + 44);

    // Seqs that are not contiguous make the frame invalid: refused, nothing of it delivered.
    const before = got.length;
    peer.send({
      type: "events",
      events: [
        { seq: 400, at: 1, event: line(400) },
        { seq: 402, at: 1, event: line(402) },
      ],
    });
    expect((await peer.closed).code).toBe(1002);
    expect(got.length).toBe(before);
    // So is an empty batch.
    const again = await Peer.open(own.url, token);
    again.send(hello("daemon-batch-1"));
    await again.next("welcome");
    again.send({ type: "events", events: [] });
    expect((await again.closed).code).toBe(1002);
    await own.close();
  });

  it("still takes a protocol-1 daemon's single event frames (agents on older images)", async () => {
    const own = await ownHub(armory, []);
    const got: number[] = [];
    own.hub.onEvent(agentId, (_e, meta) => got.push(meta.seq));
    const peer = await Peer.open(own.url, token);
    peer.send(hello("daemon-v1-000", Date.now(), 1));
    expect(await peer.next("welcome")).toEqual({ type: "welcome", protocol: 1, resumeAfter: null });
    for (let n = 1; n <= 3; n++) peer.event(n, line(n));
    peer.event(2, line(2));
    peer.event(4, line(4));
    expect((await peer.next("ack", (a) => a.seq === 4)).seq).toBe(4);
    expect(got).toEqual([1, 2, 3, 4]);
    expect(own.hub.state(agentId)).toBe("connected");
    // Below the oldest version Armory speaks: refused.
    peer.ws.close();
    await peer.closed;
    const old = await Peer.open(own.url, token);
    old.send(hello("daemon-v0-000", Date.now(), 0));
    expect((await old.closed).code).toBe(CLOSE_PROTOCOL);
    await own.close();
  });

  it("hands a process's events only to that process's listeners (and to the agent's), even when one unsubscribes or throws mid-batch", async () => {
    const own = await ownHub(armory, []);
    const hub = own.hub;
    const p1: string[] = [];
    const p2: string[] = [];
    const all: string[] = [];
    const offP1 = hub.onProcEvent(agentId, "p1", (e) => {
      p1.push(e.type === "proc.line" ? e.line : e.type);
      if (p1.length === 2) offP1(); // unsubscribes during the batch: it gets nothing more
    });
    hub.onProcEvent(agentId, "p2", (e) => {
      p2.push(e.type === "proc.line" ? e.line : e.type);
      if (e.type === "proc.stderr") throw new Error("a failing listener");
    });
    const offOther = hub.onProcEvent(agentId, "p3", () => all.push("p3 listener called"));
    offOther();
    hub.onEvent(agentId, (e) => all.push("procId" in e ? `${e.procId}:${e.type}` : e.type));
    const peer = await Peer.open(own.url, token);
    peer.send(hello("daemon-procs-0"));
    await peer.next("welcome");
    const events: DaemonEvent[] = [
      { type: "proc.line", procId: "p1", line: "a" },
      { type: "proc.line", procId: "p2", line: "b" },
      { type: "proc.stderr", procId: "p2", text: "oops" },
      { type: "proc.line", procId: "p1", line: "c" },
      { type: "proc.line", procId: "p1", line: "d" },
      { type: "proc.line", procId: "p3", line: "e" },
      { type: "term.exit", termId: "p1", exitCode: 0 },
      { type: "proc.exit", procId: "p2", exitCode: 0, signal: null, oomKilled: false },
    ];
    peer.events(1, events.length, (seq) => events[seq - 1]!);
    await peer.next("ack", (a) => a.seq === events.length);
    expect(p1).toEqual(["a", "c"]);
    expect(p2).toEqual(["b", "proc.stderr", "proc.exit"]);
    expect(all).toEqual(["p1:proc.line", "p2:proc.line", "p2:proc.stderr", "p1:proc.line", "p1:proc.line", "p3:proc.line", "term.exit", "p2:proc.exit"]);
    peer.ws.close();
    await peer.closed;
    await own.close();
  });

  it("answers requests through the daemon, and fails them at once when it is not there or goes away", async () => {
    const hub = armory.services.hub;
    await expect(hub.request(agentId, "fs.list", { path: "/workspace", limit: 10, shownPath: "/workspace" })).rejects.toBeInstanceOf(DaemonUnavailableError);
    const peer = await Peer.open(url, token);
    peer.send(hello("daemon-d-000"));
    await peer.next("welcome");
    const ok = hub.request(agentId, "fs.list", { path: "/workspace", limit: 10, shownPath: "/workspace" });
    const req = await peer.next("request", (r) => r.method === "fs.list");
    expect(req.params).toEqual({ path: "/workspace", limit: 10, shownPath: "/workspace" });
    peer.send({ type: "response", id: req.id, ok: true, result: { entries: [], truncated: false } });
    expect(await ok).toEqual({ entries: [], truncated: false });

    const refusedReq = hub.request(agentId, "fs.read", { root: "/workspace", path: "/workspace/x", maxBytes: 10 });
    const r2 = await peer.next("request", (r) => r.method === "fs.read");
    peer.send({ type: "response", id: r2.id, ok: false, error: { code: "missing", message: "no such file", path: "/workspace/x" } });
    const err = await refusedReq.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonRequestError);
    expect((err as DaemonRequestError).error.code).toBe("missing");

    // Invalid params never reach the daemon.
    await expect(hub.request(agentId, "term.resize", { termId: "t", cols: 0, rows: 5 })).rejects.toThrow(/invalid params/);

    const lost = hub.request(agentId, "fs.list", { path: "/workspace", limit: 10, shownPath: "/workspace" });
    await peer.next("request", (r) => r.method === "fs.list" && r.id !== req.id);
    peer.ws.terminate();
    const e = await lost.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DaemonUnavailableError);
    expect((e as Error).message).toMatch(/connection to the agent's daemon was lost/);
  });

  it("lets a newer daemon replace an older one, and never the other way round", async () => {
    const hub = armory.services.hub;
    const older = await Peer.open(url, token);
    older.send(hello("daemon-old-0", Date.now() - 60_000));
    await older.next("welcome");
    const newer = await Peer.open(url, token);
    newer.send(hello("daemon-new-0", Date.now()));
    await newer.next("welcome");
    expect((await older.closed).code).toBe(CLOSE_REPLACED);
    expect(hub.info(agentId)!.daemonId).toBe("daemon-new-0");
    // The old container's daemon tries again while the new one lives: refused.
    const again = await Peer.open(url, token);
    again.send(hello("daemon-old-0", Date.now() - 60_000));
    expect((await again.closed).code).toBe(CLOSE_SUPERSEDED);
    expect(hub.info(agentId)!.daemonId).toBe("daemon-new-0");
    expect(hub.state(agentId)).toBe("connected");
    newer.ws.close();
    await newer.closed;
  });

  it("refuses invalid frames and other protocol versions", async () => {
    const a = await Peer.open(url, token);
    a.ws.send("{not json");
    expect((await a.closed).code).toBe(1002);
    const b = await Peer.open(url, token);
    b.send({ type: "hello", protocol: PROTOCOL_VERSION }); // incomplete
    expect((await b.closed).code).toBe(1002);
    const c = await Peer.open(url, token);
    c.send(hello("daemon-v99-0", Date.now(), PROTOCOL_VERSION + 1));
    expect((await c.closed).code).toBe(CLOSE_PROTOCOL);
    expect(armory.services.hub.state(agentId)).toBe("disconnected");
  });

  it("cuts off a daemon that stops talking", async () => {
    // A hub of its own with short heartbeats, on the same Armory's token check.
    const hub = new DaemonHub({ log: createLogger({ level: "silent", format: "json" }), verifyToken: (t) => armory.services.gateway.verifyToken(t), heartbeatMs: 50, deadAfterMs: 300 });
    const http = await import("node:http");
    const srv = http.createServer();
    srv.on("upgrade", (req, socket, head) => hub.handleUpgrade(req, socket, head));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    const peer = await Peer.open(`ws://127.0.0.1:${port}${AGENTD_PATH}`, token);
    // It says hello, then nothing (no pings of its own, no pongs): the hub closes it after deadAfterMs.
    peer.send(hello("daemon-silent"));
    const started = Date.now();
    await peer.next("welcome");
    const closed = await peer.closed;
    expect(closed.code).toBe(1006);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await expect.poll(() => hub.state(agentId)).toBe("disconnected");
    await hub.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });
});
