// agent.onStatus for tests. A tRPC subscription only starts listening when it is first read, so a
// test that acts (kills a container) before reading can lose the event it then waits for. This
// reads the first event (the engine state, pushed as the listener is registered) before returning.
import type { AgentStatusEvent, EngineState } from "@/server/api/routers/agent/schemas";
import type { callerFor } from "./armory";

type Caller = Awaited<ReturnType<typeof callerFor>>;

export type AgentOfEvent = Extract<AgentStatusEvent, { type: "agent" }>["agent"];

/** The status events of a project (or one agent), already listening; `engine` is the first event. */
export async function followStatus(
  caller: Caller,
  projectId: string,
  agentId?: string,
): Promise<{ engine: EngineState; events: AsyncIterator<AgentStatusEvent> & { return?(): Promise<IteratorResult<AgentStatusEvent>> } }> {
  const iterable = (await caller.agent.onStatus({ projectId, agentId })) as AsyncIterable<AgentStatusEvent>;
  const events = iterable[Symbol.asyncIterator]();
  const first = await events.next();
  if (first.done || first.value.type !== "engine") throw new Error(`agent.onStatus did not start with the engine state: ${JSON.stringify(first)}`);
  return { engine: first.value.engine, events };
}

/** A predicate for nextMatching: an agent event whose agent satisfies `pred` (and is `agentId`, when given). */
export const agentEvent =
  (pred: (a: AgentOfEvent) => boolean, agentId?: string) =>
  (e: AgentStatusEvent): e is Extract<AgentStatusEvent, { type: "agent" }> =>
    e.type === "agent" && (!agentId || e.agent.id === agentId) && pred(e.agent);
