// In-process fan-out of per-agent events (file changes, config reloads) to tRPC subscriptions
// and to other server code. Each subscriber has its own bounded queue, so a slow client cannot
// hold up the others; in-process listeners (`on`) are called synchronously.
import { listenerStream } from "../streams/listener-stream";

export interface AgentScopedEvent {
  projectId: string;
  agentId: string;
}

export class AgentEventBus<E extends AgentScopedEvent> {
  private listeners = new Set<(event: E) => void>();

  publish(event: E): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // one failing listener must not keep the event from the others
      }
    }
  }

  /** Calls `listener` for every event; returns the function that stops it. */
  on(listener: (event: E) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Events of one project (and optionally one agent) until `signal` aborts. */
  subscribe(filter: { projectId: string; agentId?: string }, signal?: AbortSignal): AsyncGenerator<E> {
    return listenerStream<E>(
      (sink) =>
        this.on((e) => {
          if (e.projectId === filter.projectId && (!filter.agentId || e.agentId === filter.agentId)) sink.push(e);
        }),
      signal,
    );
  }
}

/** The project events notifications subscribe to (src/contracts/project-events.ts). */
export type ProjectEventBus = AgentEventBus<import("../../contracts/project-events").ProjectEvent>;
