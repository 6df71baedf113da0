// Reading chat.stream in tests exactly as a client would: an iterator of events (unwrapping the
// tracked envelopes that carry the seq as the SSE id), reading until a run's terminal event, and
// the text the deltas spelled.
import { expect } from "vitest";
import type { ChatStreamEvent } from "../../src/server/api/routers/chat/schemas";
import type { callerFor } from "./armory";

type Caller = Awaited<ReturnType<typeof callerFor>>;
export type StreamIterator = AsyncIterator<{ id: string; data: ChatStreamEvent }>;

/** `ctx` is read at each call (tests assign their caller and ids in beforeAll, and again after a restart). */
export function chatStreams(ctx: () => { caller: Caller; projectId: string; agentId: string }) {
  async function stream(sessionId: string, afterSeq = 0): Promise<StreamIterator> {
    const { caller, projectId, agentId } = ctx();
    const iterable = (await caller.chat.stream({ projectId, agentId, sessionId, afterSeq })) as AsyncIterable<unknown>;
    const inner = iterable[Symbol.asyncIterator]();
    return {
      next: async () => {
        const r = await inner.next();
        if (r.done) return { done: true, value: undefined };
        const v = r.value as [string, ChatStreamEvent] | { id: string; data: ChatStreamEvent };
        const value = Array.isArray(v) ? { id: v[0], data: v[1] } : v;
        expect(value.id).toBe(String(value.data.seq));
        return { done: false, value };
      },
      return: async () => {
        await inner.return?.();
        return { done: true, value: undefined };
      },
    };
  }

  const lastSeq = async (sessionId: string) => {
    const { caller, projectId, agentId } = ctx();
    return (await caller.chat.sessions({ projectId, agentId })).sessions.find((s) => s.id === sessionId)!.lastSeq;
  };

  /** Reads events until the run's terminal event; returns them all (in order). */
  async function untilEnd(it: StreamIterator, runId: string, limitMs = 60_000): Promise<ChatStreamEvent[]> {
    const seen: ChatStreamEvent[] = [];
    const guard = setTimeout(() => void it.return?.(), limitMs);
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) throw new Error(`stream ended early; last: ${JSON.stringify(seen.slice(-3)).slice(0, 2000)}`);
        seen.push(r.value.data);
        if (r.value.data.runId === runId && ["run_completed", "run_failed", "run_interrupted"].includes(r.value.data.type)) return seen;
      }
    } finally {
      clearTimeout(guard);
    }
  }

  /** Reads until the first text delta of the turn (tokens are flowing). */
  async function untilTokens(it: StreamIterator): Promise<void> {
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error("stream ended");
      if (r.value.data.type === "stream_event" && JSON.stringify(r.value.data.data).includes("text_delta")) return;
    }
  }

  return { stream, lastSeq, untilEnd, untilTokens };
}

/** The text the turn's deltas spelled. */
export const streamedText = (events: ChatStreamEvent[]) =>
  events
    .filter((e) => e.type === "stream_event")
    .map((e) => {
      const d = e.data as { event?: { type?: string; delta?: { type?: string; text?: string } } };
      return d.event?.type === "content_block_delta" && d.event.delta?.type === "text_delta" ? d.event.delta.text ?? "" : "";
    })
    .join("");

export const contiguous = (seqs: number[]) => seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);
