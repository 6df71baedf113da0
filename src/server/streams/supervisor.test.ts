// The supervisor line parser: real lines become typed events; anything else is null, never a throw.
import { describe, expect, it } from "vitest";
import { dockerSince, parseSupervisorLine, splitDockerTimestamp } from "./supervisor";

const reload =
  '{"type":"armory.supervisor","event":"config-reload","files":["/workspace/CLAUDE.md"],"filesTruncated":false,"changes":19,"firstChangeAt":"2026-11-22T04:22:28.955Z","burstMs":13,"delayMs":214,"pid":7,"time":"2026-11-22T04:22:29.175Z"}';

describe("supervisor lines", () => {
  it("parses the supervisor's events", () => {
    expect(parseSupervisorLine(reload)).toMatchObject({ event: "config-reload", files: ["/workspace/CLAUDE.md"], changes: 19 });
    const ready = parseSupervisorLine(
      '{"type":"armory.supervisor","event":"ready","agentVersion":"2.1.330-r2","claudeVersion":"2.1.330","capabilities":{"writablePaths":["/workspace"],"configDir":"/home/agent/.claude","instructionFiles":[],"supportedActions":["chat"]},"pid":7,"time":"2026-11-22T04:22:27.405Z"}',
    );
    expect(ready).toMatchObject({ event: "ready", capabilities: { writablePaths: ["/workspace"], supportedActions: ["chat"] } });
  });

  it("returns null for other output and for damaged lines, whatever they are", () => {
    for (const line of ["", "hello", "{", "[]", "null", '{"type":"other"}', '{"type":"armory.supervisor","event":"unknown","time":"x"}', reload.slice(0, 60), reload.replace('"changes":19', '"changes":"many"')]) {
      expect(parseSupervisorLine(line)).toBeNull();
    }
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      const chars = [...reload];
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128));
      expect(() => parseSupervisorLine(chars.join(""))).not.toThrow();
    }
  });

  it("splits Docker timestamps exactly and builds `since` values", () => {
    const s = splitDockerTimestamp("2026-11-22T04:22:29.175123456Z {\"a\":1}")!;
    expect(s.text).toBe('{"a":1}');
    expect(dockerSince(s.nanos)).toBe(`${Date.parse("2026-11-22T04:22:29Z") / 1000}.175123456`);
    expect(splitDockerTimestamp("not a timestamp")).toBeNull();
  });
});
