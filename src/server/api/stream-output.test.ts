// streamOf / trackedStreamOf: every yielded value is parsed; a bad one ends the stream with an
// INTERNAL_SERVER_ERROR; leaving the stream returns the source even while it waits.
import { isTrackedEnvelope, tracked, TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { streamOf, trackedStreamOf } from "./stream-output";

const event = z.object({ n: z.number(), at: z.date() });

async function* source<T>(values: T[]): AsyncGenerator<T> {
  yield* values;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe("streamOf", () => {
  it("parses every yielded value (unknown keys stripped)", async () => {
    const at = new Date();
    expect(await collect(streamOf(event)(source([{ n: 1, at, secret: "x" }, { n: 2, at }])))).toEqual([
      { n: 1, at },
      { n: 2, at },
    ]);
  });

  it("ends the stream with INTERNAL_SERVER_ERROR on a value that does not match, and returns the source", async () => {
    let returned = false;
    async function* bad() {
      try {
        yield { n: 1, at: new Date() };
        yield { n: "two", at: new Date() };
        yield { n: 3, at: new Date() };
      } finally {
        returned = true;
      }
    }
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const v of streamOf(event)(bad())) seen.push(v);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect(err).toMatchObject({ code: "INTERNAL_SERVER_ERROR", message: "Output validation failed" });
    expect(seen).toHaveLength(1);
    expect(returned).toBe(true);
  });

  it("refuses a resolver that returns no iterable", () => {
    expect(() => streamOf(event)({ n: 1 })).toThrow(TRPCError);
  });

  it("return() reaches a source that is waiting for its next value", async () => {
    let release!: () => void;
    const src: AsyncIterable<unknown> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<unknown>>((resolve) => (release = () => resolve({ done: true, value: undefined }))),
        return: async () => {
          release();
          return { done: true, value: undefined };
        },
      }),
    };
    const it = streamOf(event)(src)[Symbol.asyncIterator]();
    const pending = it.next();
    await it.return!();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
  });

  it("keeps the schema for the procedure enumeration", () => {
    expect(streamOf(event).yields).toBe(event);
  });
});

describe("trackedStreamOf", () => {
  it("parses the value and keeps the id", async () => {
    const at = new Date();
    const [first] = await collect(trackedStreamOf(event)(source([tracked("7", { n: 7, at, extra: true })])));
    expect(isTrackedEnvelope(first)).toBe(true);
    expect(first![0]).toBe("7");
    expect(first![1]).toEqual({ n: 7, at });
  });

  it("refuses a value that is not tracked", async () => {
    await expect(collect(trackedStreamOf(event)(source([{ n: 1, at: new Date() }])))).rejects.toMatchObject({ code: "INTERNAL_SERVER_ERROR" });
  });
});
