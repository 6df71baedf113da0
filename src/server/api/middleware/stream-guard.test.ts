// The stream guard on its own: re-checks on concerning access changes only, at expiry, and when a
// change arrived between the call's authorization and the start of its stream; ends the stream
// with the check's error and returns the wrapped generator.
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { publishAccessChange } from "../../trust/access-events";
import { StreamGuard, type StreamCheck } from "./stream-guard";

/** A generator that yields `first`, then waits until returned; `state.finished` tells when its finally ran. */
function source(state: { finished: boolean }) {
  return (async function* () {
    try {
      yield "first";
      await new Promise(() => {}); // never resolves: only return() (queued) or the consumer ends it
    } finally {
      state.finished = true;
    }
  })();
}

function checkOf(userId: string, allowed: { now: boolean }, extra: Partial<StreamCheck> = {}): StreamCheck & { runs: number } {
  const c = {
    name: "test",
    runs: 0,
    concerns: (ch: Parameters<StreamCheck["concerns"]>[0]) => ch.kind === "user" && ch.userId === userId,
    check: async () => {
      c.runs++;
      if (!allowed.now) throw new TRPCError({ code: "FORBIDDEN", message: "no longer" });
      return null;
    },
    ...extra,
  };
  return c;
}

describe("StreamGuard", () => {
  it("re-checks on a concerning change only, and ends the stream with the check's error", async () => {
    const guard = new StreamGuard();
    const allowed = { now: true };
    const check = checkOf("u1", allowed);
    guard.add(check);
    const it = guard.wrap(source({ finished: false }))[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: "first", done: false });
    const pending = it.next();
    publishAccessChange({ kind: "user", userId: "someone-else" });
    expect(check.runs).toBe(0);
    publishAccessChange({ kind: "user", userId: "u1" }); // still allowed
    await expect.poll(() => check.runs).toBe(1);
    allowed.now = false;
    publishAccessChange({ kind: "user", userId: "u1" });
    await expect(pending).rejects.toMatchObject({ code: "FORBIDDEN", message: "no longer" });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("does not miss a change published after the authorization but before the stream started", async () => {
    const guard = new StreamGuard();
    const allowed = { now: true };
    guard.add(checkOf("u2", allowed));
    allowed.now = false;
    publishAccessChange({ kind: "user", userId: "u2" }); // before wrap
    const it = guard.wrap(source({ finished: false }))[Symbol.asyncIterator]();
    await expect(
      (async () => {
        for (;;) if ((await it.next()).done) return;
      })(),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("re-checks at the expiry it was given, with a timer", async () => {
    const guard = new StreamGuard();
    const allowed = { now: false };
    const expiresAt = new Date(Date.now() + 150);
    const check = checkOf("u3", allowed, { expiresAt });
    guard.add(check);
    const it = guard.wrap(source({ finished: false }))[Symbol.asyncIterator]();
    await it.next();
    const started = Date.now();
    await expect(it.next()).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect(Date.now() - started).toBeLessThan(1000);
    expect(check.runs).toBe(1);
  });

  it("returns the wrapped generator when the consumer stops, and stops listening", async () => {
    const guard = new StreamGuard();
    const check = checkOf("u4", { now: true });
    guard.add(check);
    const state = { finished: false };
    const it = guard.wrap(source(state))[Symbol.asyncIterator]();
    await it.next();
    await it.return?.(undefined);
    expect(state.finished).toBe(true);
    publishAccessChange({ kind: "user", userId: "u4" });
    expect(check.runs).toBe(0);
  });

  it("turns an unexpected failure of a re-check into a retryable 503, not a 500", async () => {
    const guard = new StreamGuard();
    guard.add({ name: "db", concerns: () => true, check: async () => Promise.reject(new Error("connection lost")) });
    const it = guard.wrap(source({ finished: false }))[Symbol.asyncIterator]();
    await it.next();
    const pending = it.next();
    publishAccessChange({ kind: "grant", projectId: "p" });
    await expect(pending).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  });
});
