// The server's transformer writes exactly what superjson writes (byte for byte on the wire), and
// superjson on the client reads every value back equal, for plain data and for everything it
// hands to superjson (undefined, NaN, Map, class instances, shared references...).
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { serialize, wireTransformer } from "./wire";

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}

const shared = { z: 1 };
const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { at: new Date(5), n: 1 });

const CASES: [string, unknown][] = [
  ["string", "hello"],
  ["number", 42.5],
  ["null", null],
  ["boolean", false],
  ["a Date at the root", new Date(1_700_000_000_000)],
  ["empty object", {}],
  ["empty array", []],
  ["plain data without dates", { a: [1, "x", true, null, { b: [[]] }], c: "d" }],
  [
    "a health summary's shape",
    {
      agents: [
        { id: "a1", startedAt: new Date(1), labels: { "armory.agent": "a1" }, resources: null, lastActivity: { createdAt: new Date(2) } },
        { id: "a2", startedAt: null, labels: {}, resources: { time: new Date(3), cpuPercent: 1.5 }, lastActivity: null },
      ],
      totals: { agents: 2 },
      generatedAt: new Date(4),
    },
  ],
  ["keys with dots and backslashes", { "x.y": new Date(1), "a\\b": { "c.d\\": new Date(2) }, "": new Date(3) }],
  ["numeric keys and nested arrays", { 1: new Date(0), list: [new Date(1), [new Date(2), { t: new Date(3) }]] }],
  ["a null-prototype object", { o: nullProto }],
  ["undefined in an object", { u: undefined, k: 1, at: new Date(0) }],
  ["undefined in an array", [undefined, 1]],
  ["NaN", { n: Number.NaN }],
  ["Infinity", { n: Number.POSITIVE_INFINITY }],
  ["-0", { n: -0 }],
  ["BigInt", { n: 10n }],
  ["Map and Set", { m: new Map([["k", new Date(0)]]), s: new Set([1]) }],
  ["an invalid Date", { d: new Date(Number.NaN) }],
  ["a class instance", { p: new Point(1, 2) }],
  ["an object reached twice", { a: shared, b: shared, at: new Date(0) }],
  ["a RegExp", { r: /x/g }],
];

describe("wire transformer", () => {
  it.each(CASES)("%s: the same JSON as superjson, read back equal", (_name, value) => {
    const ours = serialize(value);
    expect(JSON.stringify(ours)).toBe(JSON.stringify(superjson.serialize(value)));
    const back = superjson.deserialize(JSON.parse(JSON.stringify(ours)));
    expect(back).toEqual(superjson.deserialize(JSON.parse(JSON.stringify(superjson.serialize(value)))));
  });

  it("reads back Dates as Dates and keeps the rest as it was", () => {
    const value = { at: new Date(1_700_000_000_123), list: [{ when: new Date(7) }], text: "t" };
    const back = superjson.deserialize<typeof value>(JSON.parse(JSON.stringify(serialize(value))));
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.getTime()).toBe(1_700_000_000_123);
    expect(back.list[0]!.when.getTime()).toBe(7);
    expect(back).toEqual(value);
  });

  it("does not copy plain data (the value itself is written)", () => {
    const value = { list: [{ at: new Date(0) }] };
    expect(serialize(value).json).toBe(value);
  });

  it("reads what clients send with superjson", () => {
    const sent = superjson.serialize({ at: new Date(9), n: Number.NaN });
    expect(wireTransformer.deserialize(JSON.parse(JSON.stringify(sent)))).toEqual({ at: new Date(9), n: Number.NaN });
  });
});
