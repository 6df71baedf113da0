// The stats collector: one streaming Docker stats request per running agent, started and stopped
// as the status bus reports agents starting and stopping. It keeps a ring buffer of recent
// samples per agent so health.summary, health.stats and the charts answer from memory at once
// (Docker's own stats call samples for about a second).
import type { AgentStatusBus } from "../agents/status-bus";
import type { PrismaClient } from "../db";
import { engineMessage, type AgentRuntime, type ResourceSample, type StatsStreamHandle } from "../runtime";
import type { Logger } from "../logger";
import { listenerStream } from "../streams/listener-stream";

export type { ResourceSample };

export interface StatsCollectorOptions {
  runtime: AgentRuntime;
  prisma: PrismaClient;
  bus: AgentStatusBus;
  log: Logger;
  /** Samples kept per agent (about one a second). Default 300: five minutes. */
  historySize?: number;
  /** How often the set of streams is checked against the database (anything the bus missed). */
  resyncIntervalMs?: number;
  /** First wait before re-opening a stream that ended while the agent still runs (doubles up to 30 s while it keeps failing). */
  retryDelayMs?: number;
}

interface Track {
  agentId: string;
  /** The container the stream reads (a 12-character prefix is enough for Docker). */
  containerId: string | null;
  handle: StatsStreamHandle | null;
  samples: ResourceSample[];
  listeners: Set<(s: ResourceSample) => void>;
  retry: NodeJS.Timeout | null;
  /** Bumped on every (re)open so a late stream end does not affect a newer stream. */
  generation: number;
  /** The next retry's wait: doubles while opening keeps failing (engine down), reset by a sample. */
  retryMs: number;
}

const shortId = (id: string) => id.slice(0, 12);

export class StatsCollector {
  private tracks = new Map<string, Track>();
  private unwatch: (() => void) | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private readonly historySize: number;

  constructor(private readonly opts: StatsCollectorOptions) {
    this.historySize = opts.historySize ?? 300;
  }

  /** Open streams (running agents being sampled). */
  get streamCount(): number {
    let n = 0;
    for (const t of this.tracks.values()) if (t.handle) n++;
    return n;
  }

  start(): void {
    if (this.unwatch) return;
    this.unwatch = this.opts.bus.watch((event) => {
      if (event.type === "agent") {
        const a = event.agent;
        if (a.observedState === "running" && a.containerId) this.follow(a.id, a.containerId);
        else this.pause(a.id);
      } else if (event.type === "removed") {
        this.forget(event.agentId);
      }
    });
    void this.resync();
    this.resyncTimer = setInterval(() => void this.resync(), this.opts.resyncIntervalMs ?? 30_000);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = null;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = null;
    const ended: Promise<string>[] = [];
    for (const t of this.tracks.values()) {
      if (t.retry) clearTimeout(t.retry);
      if (t.handle) {
        ended.push(t.handle.ended);
        t.handle.stop();
      }
      t.handle = null;
    }
    await Promise.allSettled(ended);
  }

  /** Starts sampling every running agent the database knows of and stops streams of agents that are not. */
  async resync(): Promise<void> {
    try {
      const running = await this.opts.prisma.agent.findMany({
        where: { observedState: "running", containerId: { not: null } },
        select: { id: true, containerId: true },
      });
      const ids = new Set(running.map((r) => r.id));
      for (const r of running) this.follow(r.id, r.containerId!);
      for (const t of this.tracks.values()) if (!ids.has(t.agentId) && t.handle) this.pause(t.agentId);
    } catch (err) {
      this.opts.log.warn({ err: engineMessage(err) }, "stats collector could not resync");
    }
  }

  private track(agentId: string): Track {
    let t = this.tracks.get(agentId);
    if (!t) {
      t = { agentId, containerId: null, handle: null, samples: [], listeners: new Set(), retry: null, generation: 0, retryMs: 0 };
      this.tracks.set(agentId, t);
    }
    return t;
  }

  /** Makes sure the agent's container is being sampled. */
  follow(agentId: string, containerId: string): void {
    if (!this.unwatch) return; // not started (or stopped)
    const t = this.track(agentId);
    const same = t.containerId !== null && shortId(t.containerId) === shortId(containerId);
    if (same && (t.handle || t.retry)) return;
    if (!same && t.handle) t.handle.stop();
    t.handle = null;
    t.containerId = containerId;
    void this.open(t);
  }

  private async open(t: Track): Promise<void> {
    if (t.retry) clearTimeout(t.retry);
    t.retry = null;
    const generation = ++t.generation;
    const containerId = t.containerId!;
    try {
      const handle = await this.opts.runtime.streamStats(containerId, (s) => this.add(t, s));
      if (generation !== t.generation || !this.unwatch) {
        handle.stop();
        return;
      }
      t.handle = handle;
      void handle.ended.then((reason) => {
        if (generation !== t.generation) return;
        t.handle = null;
        this.opts.log.debug({ agentId: t.agentId, reason }, "stats stream ended");
        this.scheduleRetry(t, generation);
      });
    } catch (err) {
      if (generation !== t.generation) return;
      this.opts.log.debug({ agentId: t.agentId, err: engineMessage(err) }, "could not open the stats stream");
      this.scheduleRetry(t, generation);
    }
  }

  /** The stream ended but nobody said the agent stopped: look again shortly (the resync decides). */
  private scheduleRetry(t: Track, generation: number): void {
    if (!this.unwatch || t.containerId === null) return;
    const base = this.opts.retryDelayMs ?? 2000;
    t.retryMs = t.retryMs ? Math.min(t.retryMs * 2, 30_000) : base;
    t.retry = setTimeout(() => {
      t.retry = null;
      if (generation === t.generation && t.containerId !== null && !t.handle) void this.open(t);
    }, t.retryMs);
    t.retry.unref();
  }

  private add(t: Track, s: ResourceSample): void {
    t.retryMs = 0;
    t.samples.push(s);
    if (t.samples.length > this.historySize) t.samples.splice(0, t.samples.length - this.historySize);
    for (const l of t.listeners) l(s);
  }

  /** The agent stopped: close its stream (its history stays for the charts). */
  pause(agentId: string): void {
    const t = this.tracks.get(agentId);
    if (!t) return;
    t.generation++;
    if (t.retry) clearTimeout(t.retry);
    t.retry = null;
    t.handle?.stop();
    t.handle = null;
    t.containerId = null;
  }

  forget(agentId: string): void {
    this.pause(agentId);
    this.tracks.delete(agentId);
  }

  /** The newest sample of a running agent, or null (stopped, or no sample yet). */
  latest(agentId: string): ResourceSample | null {
    const t = this.tracks.get(agentId);
    if (!t || t.containerId === null) return null;
    return t.samples.at(-1) ?? null;
  }

  /** Recent samples, oldest first (at most `limit`). */
  history(agentId: string, limit = this.historySize): ResourceSample[] {
    const samples = this.tracks.get(agentId)?.samples ?? [];
    return samples.slice(Math.max(0, samples.length - limit));
  }

  /** Every new sample of one agent until `signal` aborts. */
  subscribe(agentId: string, signal?: AbortSignal): AsyncGenerator<ResourceSample> {
    return listenerStream<ResourceSample>((sink) => {
      const t = this.track(agentId);
      const l = (s: ResourceSample) => sink.push(s);
      t.listeners.add(l);
      return () => t.listeners.delete(l);
    }, signal, 60);
  }
}
