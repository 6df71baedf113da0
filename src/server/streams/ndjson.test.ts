// The NDJSON parser under fuzzing: random mixes of events, garbage, blank lines, multi-byte text,
// CRLF and huge lines, cut into random chunks (also inside UTF-8 characters). Whatever the
// chunking, every line comes out exactly once, as a value, an invalid line or an overflow.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseControlLine } from "../approvals/control";
import { jsonLines, LineSplitter } from "./ndjson";
import { parseStreamJsonEvent, summarizeResult, textDelta } from "./stream-json";

const FIXTURES = path.resolve(import.meta.dirname, "../../../tests/fixtures/claude-code-stream-json");

/** A small deterministic PRNG so failures reproduce (seed printed in the assertion message). */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

type Expected = { kind: "value"; value: unknown } | { kind: "invalid"; line: string } | { kind: "overflow"; length: number };

function chunksOf(buf: Buffer, rand: () => number): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const r = rand();
    const size = r < 0.3 ? 1 + Math.floor(rand() * 3) : r < 0.9 ? 1 + Math.floor(rand() * 200) : 1 + Math.floor(rand() * 70_000);
    out.push(buf.subarray(i, i + size));
    i += size;
  }
  return out;
}

function run(buf: Buffer, chunks: Buffer[], maxLineLength?: number) {
  const got: Expected[] = [];
  const p = jsonLines<unknown>(
    {
      onValue: (value) => got.push({ kind: "value", value }),
      onInvalid: (line) => got.push({ kind: "invalid", line }),
      onOverflow: (length) => got.push({ kind: "overflow", length }),
    },
    undefined,
    { maxLineLength },
  );
  for (const c of chunks) p.push(c);
  p.end();
  void buf;
  return got;
}

describe("NDJSON parser", () => {
  it("fuzz: any chunking gives every line exactly once (values, garbage, unicode, CRLF, blanks)", () => {
    const samples = [
      () => ({ type: "stream_event", event: { type: "content_block_delta", delta: { type: "text_delta", text: "héllo 🌍 \u2028 \\n" } } }),
      () => ({ type: "result", usage: { output_tokens: 3 }, total_cost_usd: 0.01 }),
      () => ({ type: "brand_new_event", nested: { a: [1, 2, { b: "ü" }] } }),
      () => [1, 2, 3],
      () => "just a string",
      () => 42,
      () => null,
    ];
    const garbage = ["{not json", "}}}", "undefined", "{\"a\":", "plain text with ümlauts ✓", "[1,2", "\u0000\u0001"];
    for (let seed = 1; seed <= 300; seed++) {
      const rand = rng(seed);
      const expected: Expected[] = [];
      let text = "";
      const n = 1 + Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) {
        const r = rand();
        const eol = rand() < 0.2 ? "\r\n" : "\n";
        if (r < 0.6) {
          const value = samples[Math.floor(rand() * samples.length)]!();
          text += JSON.stringify(value) + eol;
          expected.push({ kind: "value", value });
        } else if (r < 0.85) {
          const g = garbage[Math.floor(rand() * garbage.length)]!;
          text += g + eol;
          expected.push({ kind: "invalid", line: g });
        } else {
          text += rand() < 0.5 ? eol : "   " + eol; // blank lines are skipped
        }
      }
      if (rand() < 0.5) {
        // a last line without a newline
        const value = { type: "tail", seed };
        text += JSON.stringify(value);
        expected.push({ kind: "value", value });
      }
      const buf = Buffer.from(text, "utf8");
      const got = run(buf, chunksOf(buf, rand));
      expect(got, `seed ${seed}`).toEqual(expected);
    }
  });

  it("keeps a 10 MB line, split into 64 KB chunks, in linear time", () => {
    const big = { type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "x".repeat(10 * 1024 * 1024) }] } };
    const line = Buffer.from(JSON.stringify(big) + "\n" + JSON.stringify({ type: "after" }) + "\n");
    const chunks: Buffer[] = [];
    for (let i = 0; i < line.length; i += 64 * 1024) chunks.push(line.subarray(i, i + 64 * 1024));
    const started = performance.now();
    const got = run(line, chunks);
    const ms = performance.now() - started;
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({ kind: "value" });
    expect(((got[0] as { value: typeof big }).value.message.content[0]!.content as string).length).toBe(10 * 1024 * 1024);
    expect(got[1]).toEqual({ kind: "value", value: { type: "after" } });
    expect(ms).toBeLessThan(3000);
  });

  it("reports an over-long line (with its length) and carries on with the next", () => {
    const long = "y".repeat(5000);
    const buf = Buffer.from(`{"a":1}\n${long}\n{"b":2}\n${long}`);
    for (let seed = 1; seed <= 20; seed++) {
      const got = run(buf, chunksOf(buf, rng(seed)), 1000);
      expect(got, `seed ${seed}`).toEqual([
        { kind: "value", value: { a: 1 } },
        { kind: "overflow", length: 5000 },
        { kind: "value", value: { b: 2 } },
        { kind: "overflow", length: 5000 },
      ]);
    }
  });

  it("splits multi-byte characters across chunks correctly", () => {
    const s = new LineSplitter();
    const bytes = Buffer.from("añ🌍b\nz");
    const lines: string[] = [];
    for (const b of bytes) lines.push(...s.push(Buffer.from([b])));
    lines.push(...s.end());
    expect(lines).toEqual(["añ🌍b", "z"]);
  });
});

describe("stream-json event model", () => {
  it("classifies every line of the captured real CLI transcripts", () => {
    const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".ndjson"));
    expect(files.length).toBeGreaterThan(5);
    let results = 0;
    let deltas = "";
    for (const f of files) {
      const p = jsonLines<unknown>({ onValue: (v) => {
        // The permission prompt's control lines are not conversation events (src/server/approvals/control.ts).
        if (parseControlLine(v)) return;
        const e = parseStreamJsonEvent(v);
        expect(e.kind, `${f}: ${JSON.stringify(v).slice(0, 120)}`).not.toBe("unknown");
        if (e.kind === "result") {
          results++;
          const r = summarizeResult(e.event);
          expect(r.sessionId).toMatch(/[0-9a-f-]{36}/);
        }
        if (e.kind === "stream_event" && f.startsWith("13")) deltas += textDelta(e.event) ?? "";
      }, onInvalid: (line) => expect.fail(`invalid line in ${f}: ${line.slice(0, 80)}`) });
      p.push(fs.readFileSync(path.join(FIXTURES, f)));
      p.end();
    }
    expect(results).toBeGreaterThanOrEqual(files.length);
    expect(deltas.length).toBeGreaterThan(0);
    const missing = parseStreamJsonEvent(JSON.parse(fs.readFileSync(path.join(FIXTURES, "19-resume-missing-session.ndjson"), "utf8")));
    expect(missing.kind).toBe("result");
    if (missing.kind === "result") expect(summarizeResult(missing.event)).toMatchObject({ isError: true, subtype: "error_during_execution" });
  });

  it("fuzz: never throws on arbitrary JSON values; unknown shapes stay whole", () => {
    const rand = rng(7);
    const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    const gen = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return pick([null, 0, -1.5, "", "result", "assistant", true, [], {}]);
      if (r < 0.5) return Array.from({ length: Math.floor(rand() * 4) }, () => gen(depth + 1));
      const o: Record<string, unknown> = {};
      for (const k of ["type", "message", "event", "usage", "content", "session_id", "delta"]) if (rand() < 0.5) o[k] = k === "type" ? pick(["system", "assistant", "user", "stream_event", "result", "x", 5]) : gen(depth + 1);
      return o;
    };
    for (let i = 0; i < 5000; i++) {
      const v = gen(0);
      const e = parseStreamJsonEvent(v);
      expect(e.event).toBe(v);
      if (e.kind === "result") summarizeResult(e.event);
      if (e.kind === "stream_event") textDelta(e.event);
    }
  });
});
