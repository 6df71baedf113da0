// In-process fan-out of agent status changes to tRPC subscriptions. Each subscriber gets its
// own bounded queue so a slow client cannot hold up the others.
import type { AgentStatusEvent, AgentView, EngineState } from "../api/routers/agent/schemas";
import { listenerStream } from "../streams/listener-stream";

type Listener = (event: AgentStatusEvent) => void;

export class AgentStatusBus {
  private listeners = new Set<Listener>();
  private watchers = new Set<Listener>();
  private engine: EngineState = { state: "down", message: "not checked yet", since: new Date() };

  get engineState(): EngineState {
    return this.engine;
  }

  publishAgent(agent: AgentView): void {
    this.emit({ type: "agent", agent });
  }

  publishRemoved(projectId: string, agentId: string): void {
    this.emit({ type: "removed", projectId, agentId });
  }

  publishEngine(state: "up" | "down", message: string | null): void {
    if (this.engine.state === state && this.engine.message === message) return;
    this.engine = { state, message, since: new Date() };
    this.emit({ type: "engine", engine: this.engine });
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  private emit(event: AgentStatusEvent): void {
    for (const l of this.listeners) l(event);
    for (const w of this.watchers) w(event);
  }

  /**
   * An event another Armory instance published (src/server/cluster/bridge.ts): to subscriptions
   * only, not to in-process watchers (those act on their own instance's events). An engine state
   * from the leader (which follows the engine) becomes this instance's.
   */
  deliverRemote(event: AgentStatusEvent): void {
    if (event.type === "engine") {
      if (this.engine.state === event.engine.state && this.engine.message === event.engine.message) return;
      this.engine = event.engine;
    }
    for (const l of this.listeners) l(event);
  }

  /** Every event of every project, for in-process consumers (stats collector, self-heal). Returns the unsubscribe. */
  watch(listener: Listener): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /**
   * Events for one project (and optionally one agent), starting with the current engine state.
   * Ends when `signal` aborts.
   */
  subscribe(filter: { projectId: string; agentId?: string }, signal?: AbortSignal): AsyncGenerator<AgentStatusEvent> {
    const matches = (e: AgentStatusEvent) => {
      if (e.type === "engine") return true;
      const projectId = e.type === "agent" ? e.agent.projectId : e.projectId;
      const agentId = e.type === "agent" ? e.agent.id : e.agentId;
      return projectId === filter.projectId && (!filter.agentId || agentId === filter.agentId);
    };
    return listenerStream<AgentStatusEvent>((sink) => {
      sink.push({ type: "engine", engine: this.engine });
      const listener: Listener = (e) => {
        if (matches(e)) sink.push(e);
      };
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }, signal);
  }
}
