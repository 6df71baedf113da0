// The daemon's pure parts: line splitting (stdout/stderr of chat processes), the outbox
// (sequencing, replay after a reconnect, trimming on ack, the size cap), the reconnect back-off.
import { describe, expect, it } from "vitest";
import { RECONNECT_MAX_MS, RECONNECT_MIN_MS, type DaemonEvent } from "../contracts/armoryd";
import { backoffMs } from "./connection";
import { LineSplitter, type SplitLine } from "./lines";
import { Outbox } from "./outbox";

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
    expect(JSON.parse(o.after(4)[0]!.frame)).toMatchObject({ type: "event", seq: 5, event: { line: "line 5" } });
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
    const frameBytes = new Outbox(1e9).push(line(1)).frame.length;
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

describe("reconnect back-off", () => {
  it("doubles from the minimum to the maximum, with 50-100% jitter", () => {
    expect(backoffMs(0, 1)).toBe(RECONNECT_MIN_MS);
    expect(backoffMs(0, 0)).toBe(RECONNECT_MIN_MS / 2);
    expect(backoffMs(2, 1)).toBe(RECONNECT_MIN_MS * 4);
    expect(backoffMs(50, 1)).toBe(RECONNECT_MAX_MS);
    expect(backoffMs(50, 0)).toBe(RECONNECT_MAX_MS / 2);
  });
});
