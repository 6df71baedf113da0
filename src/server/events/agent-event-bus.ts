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
  /** The subscriptions (subscribe()): they also get events of other Armory instances (deliverRemote). */
  private streams = new Set<(event: E) => void>();

  publish(event: E): void {
    this.deliverRemote(event);
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // one failing listener must not keep the event from the others
      }
    }
  }

  /** An event another Armory instance published (src/server/cluster/bridge.ts): to subscriptions only. */
  deliverRemote(event: E): void {
    for (const l of [...this.streams]) {
      try {
        l(event);
      } catch {
        // as above
      }
    }
  }

  /** Calls `listener` for every event of this instance; returns the function that stops it. */
  on(listener: (event: E) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size + this.streams.size;
  }

  /** Events of one project (and optionally one agent) until `signal` aborts. */
  subscribe(filter: { projectId: string; agentId?: string }, signal?: AbortSignal): AsyncGenerator<E> {
    return listenerStream<E>(
      (sink) => {
        const l = (e: E) => {
          if (e.projectId === filter.projectId && (!filter.agentId || e.agentId === filter.agentId)) sink.push(e);
        };
        this.streams.add(l);
        return () => void this.streams.delete(l);
      },
      signal,
    );
  }
}

/** The project events notifications subscribe to (src/contracts/project-events.ts). */
export type ProjectEventBus = AgentEventBus<import("../../contracts/project-events").ProjectEvent>;
