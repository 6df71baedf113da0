// The daemon's pure parts: line splitting (stdout/stderr of chat processes), the outbox
// (sequencing, replay after a reconnect, trimming on ack, the size cap), its frames (one event, a
// batch, a replay cut at the byte cap), the batcher (one frame per event-loop turn), the reconnect
// back-off;
// and `armoryd connect` (ssh's ProxyCommand) against a real CONNECT proxy and echo server.
import http from "node:http";
import net from "node:net";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonMessage, parseFrame, RECONNECT_MAX_MS, RECONNECT_MIN_MS, type DaemonEvent } from "../contracts/armoryd";
import { EventBatcher } from "./batcher";
import { connectMain, proxyFor } from "./connect";
import { backoffMs } from "./connection";
import { LineSplitter, type SplitLine } from "./lines";
import { eventsFrame, framesOf, Outbox, singleFrame, type OutboxEntry } from "./outbox";

const texts = (lines: SplitLine[]) => lines.map((l) => (l.kind === "line" ? l.text : `<overflow ${l.length}>`));

describe("LineSplitter", () => {
  it("cuts lines across chunks, drops \\r, keeps the last line without a newline", () => {
    const s = new LineSplitter(100);
    expect(texts(s.push(Buffer.from('{"a":1}\r\n{"b"')))).toEqual(['{"a":1}']);
    expect(texts(s.push(Buffer.from(':2}\n\nlast')))).toEqual(['{"b":2}', ""]);
    expect(texts(s.end())).toEqual(["last"]);
    expect(s.end()).toEqual([]);
  });

  it("never splits a multi-byte character between chunks", () => {
    const bytes = Buffer.from("größe ✓\n");
    const s = new LineSplitter(100);
    const out = [...s.push(bytes.subarray(0, 3)), ...s.push(bytes.subarray(3, 9)), ...s.push(bytes.subarray(9))];
    expect(texts(out)).toEqual(["größe ✓"]);
  });

  it("reports a line over the limit as one overflow with its length, and goes on", () => {
    const s = new LineSplitter(10);
    const out = [...s.push(Buffer.from("short\n0123456789AB")), ...s.push(Buffer.from("CDEF\nnext\n"))];
    expect(texts(out)).toEqual(["short", "<overflow 16>", "next"]);
    // Exactly the limit is kept whole.
    expect(texts(new LineSplitter(10).push(Buffer.from("0123456789\n")))).toEqual(["0123456789"]);
  });

  it("with splitLong, hands a long line out in pieces of the limit", () => {
    const s = new LineSplitter(4, true);
    expect(texts([...s.push(Buffer.from("abcdefghij\nxy")), ...s.end()])).toEqual(["abcd", "efgh", "ij", "xy"]);
  });
});

const line = (n: number): DaemonEvent => ({ type: "proc.line", procId: "p", line: `line ${n}` });

describe("Outbox", () => {
  it("numbers events from 1 and replays those after a seq, oldest first", () => {
    const o = new Outbox(1024 * 1024);
    for (let i = 1; i <= 5; i++) expect(o.push(line(i)).seq).toBe(i);
    expect(o.lastSeq).toBe(5);
    expect(o.after(2).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(JSON.parse(o.after(4)[0]!.json)).toMatchObject({ seq: 5, event: { line: "line 5" } });
  });

  it("forgets acknowledged events and keeps the rest", () => {
    const o = new Outbox(1024 * 1024);
    for (let i = 1; i <= 3000; i++) o.push(line(i));
    o.ack(2990);
    expect(o.size).toBe(10);
    expect(o.after(0).map((e) => e.seq)).toEqual([2991, 2992, 2993, 2994, 2995, 2996, 2997, 2998, 2999, 3000]);
    o.push(line(3001));
    o.ack(3001);
    expect(o.size).toBe(0);
    expect(o.heldBytes).toBe(0);
    expect(o.after(0)).toEqual([]);
    expect(o.push(line(3002)).seq).toBe(3002);
  });

  it("drops the oldest events past its size cap, and says so", () => {
    const drops: [number, number, number][] = [];
    const frameBytes = new Outbox(1e9).push(line(1)).json.length;
    const o = new Outbox(frameBytes * 3, (n, from, to) => drops.push([n, from, to]));
    for (let i = 1; i <= 5; i++) o.push(line(i));
    expect(o.after(0).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(drops).toEqual([
      [1, 1, 1],
      [1, 2, 2],
    ]);
    expect(o.heldBytes).toBeLessThanOrEqual(frameBytes * 3);
  });
});

/** The frames' events as [seq, line] pairs, each frame parsed by the protocol's own schema. */
function framed(frames: string[]): { type: string; seqs: number[] }[] {
  return frames.map((f) => {
    const m = parseFrame(daemonMessage, f);
    if (m?.type === "events") return { type: m.type, seqs: m.events.map((e) => e.seq) };
    if (m?.type === "event") return { type: m.type, seqs: [m.seq] };
    throw new Error(`not an event frame: ${f}`);
  });
}

describe("event frames", () => {
  const entries = (n: number): OutboxEntry[] => {
    const o = new Outbox(1e9);
    for (let i = 1; i <= n; i++) o.push(line(i), 1000 + i);
    return o.after(0);
  };

  it("writes a protocol-1 frame and a batch the protocol's schema accepts, with every field", () => {
    const [a, b] = entries(2);
    expect(parseFrame(daemonMessage, singleFrame(a!))).toEqual({ type: "event", seq: 1, at: 1001, event: line(1) });
    expect(parseFrame(daemonMessage, eventsFrame([a!, b!]))).toEqual({
      type: "events",
      events: [
        { seq: 1, at: 1001, event: line(1) },
        { seq: 2, at: 1002, event: line(2) },
      ],
    });
  });

  it("cuts a replay into frames at the byte cap; one event over it goes alone", () => {
    const all = entries(10);
    const one = all[0]!.json.length;
    expect(framed(framesOf(all, one * 4))).toEqual([
      { type: "events", seqs: [1, 2, 3, 4] },
      { type: "events", seqs: [5, 6, 7, 8] },
      { type: "events", seqs: [9, 10] },
    ]);
    expect(framed(framesOf(all, 1e9))).toEqual([{ type: "events", seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }]);
    expect(framed(framesOf(all.slice(0, 3), 1))).toEqual([
      { type: "events", seqs: [1] },
      { type: "events", seqs: [2] },
      { type: "events", seqs: [3] },
    ]);
    expect(framesOf([], 100)).toEqual([]);
  });
});

describe("EventBatcher", () => {
  /** A batcher whose turn ends when the test says (`endTurn`), recording the frames it sends. */
  const make = (maxBytes = 1e9) => {
    const sent: string[] = [];
    const turns: (() => void)[] = [];
    const b = new EventBatcher((f) => sent.push(f), maxBytes, (fn) => turns.push(fn));
    const endTurn = () => {
      for (const fn of turns.splice(0)) fn();
    };
    return { b, sent, turns, endTurn };
  };
  const o = new Outbox(1e9);
  const next = () => o.push(line(o.lastSeq + 1));

  it("sends the events of one turn as one frame when the turn ends, with one scheduled flush", () => {
    const { b, sent, turns, endTurn } = make();
    const e1 = next();
    const first = e1.seq;
    b.add(e1);
    b.add(next());
    b.add(next());
    expect(sent).toEqual([]);
    expect(turns).toHaveLength(1);
    endTurn();
    expect(framed(sent)).toEqual([{ type: "events", seqs: [first, first + 1, first + 2] }]);
    // A lone event in the next turn: its own frame at that turn's end.
    b.add(next());
    expect(b.size).toBe(1);
    endTurn();
    expect(framed(sent)[1]).toEqual({ type: "events", seqs: [first + 3] });
    // Nothing waiting: the end of a turn sends nothing.
    endTurn();
    expect(sent).toHaveLength(2);
  });

  it("sends at once when the events reach the byte cap, and before anything flushed ahead of its turn", () => {
    const one = next();
    const { b, sent, endTurn } = make(one.json.length * 3);
    b.add(one);
    b.add(next());
    expect(sent).toHaveLength(0);
    b.add(next()); // reaches the cap
    expect(framed(sent)).toEqual([{ type: "events", seqs: [one.seq, one.seq + 1, one.seq + 2] }]);
    b.add(next());
    b.flush(); // e.g. a response is about to go out
    b.add(next());
    endTurn();
    expect(framed(sent).slice(1)).toEqual([
      { type: "events", seqs: [one.seq + 3] },
      { type: "events", seqs: [one.seq + 4] },
    ]);
  });

  it("sends an event bigger than the cap alone, after those waiting", () => {
    const small = next();
    const { b, sent, endTurn } = make(small.json.length * 2);
    b.add(small);
    const big = o.push({ type: "proc.line", procId: "p", line: "x".repeat(small.json.length * 3) });
    b.add(big);
    b.add(next());
    endTurn();
    expect(framed(sent)).toEqual([
      { type: "events", seqs: [small.seq] },
      { type: "events", seqs: [big.seq] },
      { type: "events", seqs: [big.seq + 1] },
    ]);
  });

  it("forgets what waits when the connection is gone (the outbox replays it)", () => {
    const { b, sent, endTurn } = make();
    b.add(next());
    b.clear();
    endTurn();
    expect(sent).toEqual([]);
  });
});

describe("reconnect back-off", () => {
  it("doubles from the minimum to the maximum, with 50-100% jitter", () => {
    expect(backoffMs(0, 1)).toBe(RECONNECT_MIN_MS);
    expect(backoffMs(0, 0)).toBe(RECONNECT_MIN_MS / 2);
    expect(backoffMs(2, 1)).toBe(RECONNECT_MIN_MS * 4);
    expect(backoffMs(50, 1)).toBe(RECONNECT_MAX_MS);
    expect(backoffMs(50, 0)).toBe(RECONNECT_MAX_MS / 2);
  });
});

describe("armoryd connect (ssh's ProxyCommand through the egress proxy)", () => {
  let echo: net.Server;
  let proxy: http.Server;
  const seen: { target: string; auth: string | undefined }[] = [];
  let proxyPort = 0;
  let echoPort = 0;

  beforeAll(async () => {
    echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    echoPort = (echo.address() as net.AddressInfo).port;
    // A CONNECT proxy like Armory's: the token in Proxy-Authorization, one allowed host name.
    proxy = http.createServer();
    proxy.on("connect", (req: http.IncomingMessage, socket: net.Socket) => {
      seen.push({ target: req.url ?? "", auth: req.headers["proxy-authorization"] });
      const [host, port] = (req.url ?? "").split(":");
      if (req.headers["proxy-authorization"] !== `Basic ${Buffer.from("agent:tok-3n").toString("base64")}`) {
        socket.end("HTTP/1.1 407 Proxy Authentication Required\r\n\r\nthe agent token is missing\n");
        return;
      }
      if (host !== "git.allowed.test") {
        socket.end(`HTTP/1.1 403 Forbidden\r\n\r\n${host} is not on the egress allowlist\n`);
        return;
      }
      const up = net.connect(Number(port), "127.0.0.1", () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        up.pipe(socket);
        socket.pipe(up);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    proxyPort = (proxy.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
    await new Promise((r) => echo.close(r));
  });

  const run = async (host: string, port: number, env: Record<string, string>, send: string) => {
    const input = new PassThrough();
    const output = new PassThrough();
    const error = new PassThrough();
    let out = "";
    let err = "";
    output.on("data", (d: Buffer) => {
      out += d.toString();
      if (out === send) input.end();
    });
    error.on("data", (d: Buffer) => (err += d.toString()));
    input.write(send);
    const code = await connectMain([host, String(port)], { input, output, error, env });
    return { code, out, err };
  };

  it("tunnels through HTTPS_PROXY with the token as Proxy-Authorization and pipes both ways", async () => {
    const r = await run("git.allowed.test", echoPort, { HTTPS_PROXY: `http://agent:tok-3n@127.0.0.1:${proxyPort}` }, "SSH-2.0-test\r\n");
    expect(r).toEqual({ code: 0, out: "SSH-2.0-test\r\n", err: "" });
    expect(seen.at(-1)).toEqual({ target: `git.allowed.test:${echoPort}`, auth: `Basic ${Buffer.from("agent:tok-3n").toString("base64")}` });
  });

  it("says why the proxy refused (allowlist, token) and exits 1", async () => {
    const denied = await run("elsewhere.test", 22, { HTTPS_PROXY: `http://agent:tok-3n@127.0.0.1:${proxyPort}` }, "x");
    expect(denied.code).toBe(1);
    expect(denied.err).toBe("armoryd connect: the egress proxy refused elsewhere.test:22: HTTP/1.1 403 Forbidden (elsewhere.test is not on the egress allowlist)\n");
    const noToken = await run("git.allowed.test", echoPort, { HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` }, "x");
    expect(noToken.code).toBe(1);
    expect(noToken.err).toContain("407 Proxy Authentication Required");
  });

  it("connects directly without a proxy or for a NO_PROXY host; refuses bad arguments", async () => {
    expect((await run("127.0.0.1", echoPort, {}, "hi")).out).toBe("hi");
    expect(proxyFor("git.internal", { HTTPS_PROXY: "http://p:1", NO_PROXY: "relay,.internal" })).toBeNull();
    expect(proxyFor("git.example.com", { https_proxy: "http://p:1", NO_PROXY: ".internal" })?.host).toBe("p:1");
    expect((await run("-oProxyCommand=x", 22, {}, "")).code).toBe(2);
  });
});
