// armoryd's connection (src/armoryd/connection.ts) against a real WebSocket server playing
// Armory's side of the protocol: with a protocol-2 welcome the events of one event-loop turn
// arrive as one `events` frame and a replay after a reconnect is batched too; events produced
// before a response go out before it; with a protocol-1 welcome every event is its own `event`
// frame; an Armory that refuses protocol 2 (CLOSE_PROTOCOL) is greeted with protocol 1 next.
// armoryd runs on Bun, whose global WebSocket takes headers; Node 20 has none, so `ws` (same
// constructor form, same event properties) stands in for it here.
import http from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as WsClient, WebSocketServer, type WebSocket } from "ws";
import { CLOSE_PROTOCOL, daemonMessage, parseFrame, PROTOCOL_VERSION, type DaemonEvent, type DaemonMessage, type SelfReport } from "../contracts/armoryd";
import { Connection } from "./connection";

const report: SelfReport = { rssBytes: 1, processes: 0, terminals: 0, load1: 0, uptimeMs: 1, problems: [], watches: 0 };
const line = (n: number): DaemonEvent => ({ type: "proc.line", procId: "p", line: `line ${n}` });

/** Armory's side: records every frame per socket; welcomes with `protocol` (or refuses a hello with `refuse`). */
class FakeArmory {
  readonly wss: WebSocketServer;
  readonly server = http.createServer();
  readonly frames: DaemonMessage[] = [];
  sockets: WebSocket[] = [];
  protocol = PROTOCOL_VERSION;
  refuse: ((hello: Extract<DaemonMessage, { type: "hello" }>) => boolean) | null = null;
  resumeAfter: number | null = null;
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];

  constructor() {
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on("connection", (ws) => {
      this.sockets.push(ws);
      ws.on("message", (d) => {
        const m = parseFrame(daemonMessage, d.toString());
        if (!m) throw new Error(`invalid frame: ${d.toString().slice(0, 200)}`);
        this.frames.push(m);
        if (m.type === "hello") {
          if (this.refuse?.(m)) ws.close(CLOSE_PROTOCOL, "protocol 1 required");
          else ws.send(JSON.stringify({ type: "welcome", protocol: Math.min(this.protocol, m.protocol), resumeAfter: this.resumeAfter }));
        }
        this.changed();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return `ws://127.0.0.1:${(this.server.address() as { port: number }).port}/api/agentd`;
  }

  changed(): void {
    for (const w of [...this.waiters]) {
      if (w.pred()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** Event frames as [type, seqs]. */
  eventFrames(): [string, number[]][] {
    return this.frames.flatMap((f): [string, number[]][] =>
      f.type === "events" ? [[f.type, f.events.map((e) => e.seq)]] : f.type === "event" ? [[f.type, [f.seq]]] : [],
    );
  }

  seqs(): number[] {
    return this.eventFrames().flatMap(([, s]) => s);
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe("armoryd's connection to Armory", () => {
  const g = globalThis as { WebSocket?: unknown };
  const had = g.WebSocket;
  let armory: FakeArmory;
  let url: string;
  let conn: Connection | null = null;
  let handle: (method: string, params: unknown) => Promise<unknown> = async () => ({});
  let welcomes = 0;

  beforeAll(() => {
    g.WebSocket = WsClient;
  });
  afterAll(() => {
    g.WebSocket = had;
  });

  const start = async (setup: (a: FakeArmory) => void = () => {}) => {
    armory = new FakeArmory();
    setup(armory);
    url = await armory.listen();
    welcomes = 0;
    conn = new Connection({
      url,
      token: "tok",
      hello: () => ({ daemonId: "daemon-test-1", containerId: null, startedAt: 1, capabilities: { agentVersion: "t", claudeVersion: "t", writablePaths: [], configDir: "/", instructionsDir: "/", instructionFiles: [], configWatcher: "none", supportedActions: [] }, processes: [], terminals: [] }),
      report: () => report,
      handle: (method, params) => handle(method, params),
      errorOf: (err) => ({ code: "internal", message: String(err) }),
      onFirstWelcome: () => welcomes++,
    });
    conn.start();
    // Ready once the welcome's ping came back (the daemon sends its self-report right after it).
    await armory.until(() => armory.frames.some((f) => f.type === "ping"));
    return conn;
  };

  afterEach(async () => {
    conn?.stop();
    conn = null;
    await armory?.close();
  });

  it("with protocol 2, sends one frame per event-loop turn, a lone event in its own turn, and events before a response", async () => {
    const c = await start();
    expect(armory.frames[0]).toMatchObject({ type: "hello", protocol: PROTOCOL_VERSION });
    for (let n = 1; n <= 50; n++) c.emit(line(n));
    await armory.until(() => armory.seqs().length === 50);
    c.emit(line(51));
    await armory.until(() => armory.seqs().length === 51);
    expect(armory.eventFrames()).toEqual([
      ["events", Array.from({ length: 50 }, (_, i) => i + 1)],
      ["events", [51]],
    ]);
    // A request whose handler produces events in its own turn: they reach Armory before the response.
    handle = async () => {
      c.emit(line(52));
      c.emit(line(53));
      return {};
    };
    armory.sockets[0]!.send(JSON.stringify({ type: "request", id: 7, method: "proc.closeInput", params: { procId: "p" } }));
    await armory.until(() => armory.frames.some((f) => f.type === "response"));
    const tail = armory.frames.filter((f) => f.type === "events" || f.type === "response").slice(-2);
    expect(tail).toMatchObject([{ type: "events", events: [{ seq: 52 }, { seq: 53 }] }, { type: "response", id: 7, ok: true }]);
    expect(welcomes).toBe(1);
  });

  it("replays what Armory did not ack after a reconnect, batched", async () => {
    const c = await start();
    for (let n = 1; n <= 3; n++) c.emit(line(n));
    await armory.until(() => armory.seqs().length === 3);
    // Armory acks 1; the connection drops; 4..6 happen while it is down.
    armory.sockets[0]!.send(JSON.stringify({ type: "ack", seq: 1 }));
    await armory.until(() => armory.frames.filter((f) => f.type === "ping").length >= 1);
    armory.resumeAfter = 2; // Armory holds 1 and 2.
    armory.sockets[0]!.terminate();
    await new Promise((r) => setImmediate(r));
    for (let n = 4; n <= 6; n++) c.emit(line(n));
    await armory.until(() => armory.frames.filter((f) => f.type === "hello").length === 2 && armory.seqs().length === 7);
    expect(armory.eventFrames()).toEqual([
      ["events", [1, 2, 3]],
      ["events", [3, 4, 5, 6]],
    ]);
    expect(armory.frames.filter((f) => f.type === "hello").map((h) => (h as { lastSeq: number }).lastSeq)).toEqual([0, 6]);
  });

  it("with a protocol-1 welcome, sends each event as its own `event` frame (replays too)", async () => {
    const c = await start((a) => (a.protocol = 1));
    c.emit(line(1));
    c.emit(line(2));
    await armory.until(() => armory.seqs().length === 2);
    armory.resumeAfter = 0;
    armory.sockets[0]!.terminate();
    await armory.until(() => armory.frames.filter((f) => f.type === "hello").length === 2 && armory.seqs().length === 4);
    expect(armory.eventFrames()).toEqual([
      ["event", [1]],
      ["event", [2]],
      ["event", [1]],
      ["event", [2]],
    ]);
  });

  it("greets an Armory that refuses protocol 2 with protocol 1, and then sends single events", async () => {
    const c = await start((a) => (a.refuse = (h) => h.protocol !== 1));
    const hellos = armory.frames.filter((f) => f.type === "hello").map((h) => (h as { protocol: number }).protocol);
    expect(hellos).toEqual([PROTOCOL_VERSION, 1]);
    c.emit(line(1));
    c.emit(line(2));
    await armory.until(() => armory.seqs().length === 2);
    expect(armory.eventFrames()).toEqual([
      ["event", [1]],
      ["event", [2]],
    ]);
  });
});
