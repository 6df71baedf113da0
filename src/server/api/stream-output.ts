// Output schemas for subscriptions. tRPC 11's output middleware parses whatever the resolver
// returns; for a subscription that is the async iterable itself, so a plain `.output(schema)`
// would validate the iterable, not what it yields (and fail). `.output(streamOf(schema))` instead
// hands tRPC an iterable that parses every yielded value with `schema` on its way out; a value
// that does not match ends the stream with INTERNAL_SERVER_ERROR ("Output validation failed"),
// as a query's output would. The schema stays on the parser (`yields`), so the procedure
// enumeration can check every procedure has one (tests/integration/input-bounds.test.ts).
import { isTrackedEnvelope, tracked, TRPCError, type TrackedEnvelope } from "@trpc/server";
import type { z } from "zod";

export interface StreamOutputParser<T> {
  (value: unknown): AsyncIterable<T>;
  /** The schema each yielded value is parsed with. */
  readonly yields: z.ZodType;
}

function mapped<T>(source: AsyncIterable<unknown>, parse: (value: unknown) => T): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      // One `then` per value (every event of every subscription passes here).
      const invalid = async (cause: unknown): Promise<never> => {
        await it.return?.();
        throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Output validation failed", cause });
      };
      const step = (r: IteratorResult<unknown>): IteratorResult<T> | Promise<never> => {
        if (r.done) return { done: true, value: undefined };
        try {
          return { done: false, value: parse(r.value) };
        } catch (cause) {
          return invalid(cause);
        }
      };
      return {
        next(): Promise<IteratorResult<T>> {
          return it.next().then(step);
        },
        // Forwarded at once (not queued behind a pending next()), so a stream blocked on its
        // source still ends when the client leaves.
        async return(): Promise<IteratorResult<T>> {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

function asIterable(value: unknown): AsyncIterable<unknown> {
  if (value && typeof value === "object" && Symbol.asyncIterator in value) return value as AsyncIterable<unknown>;
  throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Output validation failed", cause: new Error("a subscription must return an async iterable") });
}

/** A subscription's output: every yielded value is parsed with `schema`. */
export function streamOf<S extends z.ZodType>(schema: S): StreamOutputParser<z.output<S>> {
  const parser = (value: unknown) => mapped(asIterable(value), (v) => schema.parse(v));
  return Object.assign(parser, { yields: schema as z.ZodType });
}

/** The same for a stream of `tracked(id, value)` envelopes (resumable with lastEventId): the value is parsed, the id kept. */
export function trackedStreamOf<S extends z.ZodType>(schema: S): StreamOutputParser<TrackedEnvelope<z.output<S>>> {
  const parser = (value: unknown) =>
    mapped(asIterable(value), (v) => {
      if (!isTrackedEnvelope(v)) throw new Error("expected a tracked(id, value) envelope");
      return tracked(v[0], schema.parse(v[1]) as z.output<S>);
    });
  return Object.assign(parser, { yields: schema as z.ZodType });
}
