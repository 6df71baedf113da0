// Config hot-reload, Armory's side. Each running agent's supervisor watches the agent's
// instruction files from inside the container and prints one "config-reload" JSON line per burst
// of changes (docker/agent/armory-supervisor); this follows every running agent's stdout
// (Docker logs, resuming exactly across reconnects and restarts), stores the capabilities the
// supervisor reports on start, and announces each reload:
//
//   - `reloads` (AgentEventBus): `agent-config-reloaded` events, streamed by agentConfig.onReload;
//   - `onReload(listener)`: the in-process hook for other server code — e.g. the chat layer
//     recycles a warm Claude Code process so the next turn starts with the new instructions:
//       services.agentConfig.onReload(({ agentId }) => chatSessions.recycle(agentId));
//   - `agent-file-changed` events (source "container") on the files bus for each changed file.
import type { AgentStatusEvent } from "../api/routers/agent/schemas";
import type { AgentManager } from "../agents/manager";
import type { PrismaClient } from "../db";
import type { Prisma } from "../db/generated/client";
import { engineMessage } from "../runtime/docker/client";
import { containerRun, followContainerStdout, type OutputLine } from "../runtime/docker/supervisor-output";
import { AgentEventBus } from "../events/agent-event-bus";
import type { AgentFiles } from "../files/service";
import type { Logger } from "../logger";
import { agentCapabilities, parseSupervisorLine, type AgentCapabilities } from "../streams/supervisor";

export interface AgentConfigReloadedEvent {
  type: "agent-config-reloaded";
  projectId: string;
  agentId: string;
  /** The instruction files that changed in this burst (at most 40; see filesTruncated). */
  files: string[];
  filesTruncated: boolean;
  /** How many file events the burst had. */
  changes: number;
  /** First change of the burst, by the container's clock. */
  changedAt: Date;
  /** When the supervisor reported it (end of the debounce). */
  reportedAt: Date;
  /** When Armory received it. */
  receivedAt: Date;
}

export interface AgentWatchStatus {
  projectId: string;
  agentId: string;
  /** The directories the supervisor's watcher covers, and since when. */
  dirs: string[];
  since: Date;
}

export interface AgentConfigWatchOptions {
  prisma: PrismaClient;
  docker: import("dockerode");
  log: Logger;
  agents: AgentManager;
  files: AgentFiles;
}

interface Follower {
  projectId: string;
  agentId: string;
  containerId: string;
  abort: AbortController;
  /** Set when asked to follow while running: look at the container again before giving up. */
  recheck: boolean;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

export class AgentConfigWatch {
  readonly reloads = new AgentEventBus<AgentConfigReloadedEvent>();
  /** A supervisor (re)established its watches: the agent's reloads are seen from then on. */
  readonly watchStatus = new AgentEventBus<AgentWatchStatus & { type: "watching" }>();
  private readonly followers = new Map<string, Follower>();
  /** Last log timestamp seen per container, to resume without repeats. */
  private readonly lastNanos = new Map<string, bigint>();
  private readonly watching = new Map<string, AgentWatchStatus>();
  /** Reload lines older than this are history (written before this process watched). */
  private liveFromNanos = 0n;
  private unlisten: (() => void) | null = null;

  constructor(private readonly opts: AgentConfigWatchOptions) {}

  /** The hook for other server code: called for every reload of every agent. Returns the unsubscribe function. */
  onReload(listener: (event: AgentConfigReloadedEvent) => void): () => void {
    return this.reloads.on(listener);
  }

  /** The watcher state of an agent, when its supervisor reported one since it started. */
  watchingOf(agentId: string): AgentWatchStatus | null {
    return this.watching.get(agentId) ?? null;
  }

  /** Resolves once the agent's watcher is established (at once when it already is). */
  whenWatching(agentId: string, signal?: AbortSignal): Promise<AgentWatchStatus> {
    const now = this.watching.get(agentId);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const off = this.watchStatus.on((s) => {
        if (s.agentId !== agentId) return;
        off();
        resolve(s);
      });
      signal?.addEventListener("abort", () => (off(), reject(signal.reason)), { once: true });
    });
  }

  /** Follows every running agent, and each agent that starts later; once per process. */
  start(): void {
    if (this.unlisten) return;
    this.liveFromNanos = BigInt(Date.now()) * 1_000_000n;
    this.unlisten = this.opts.agents.bus.watch((e) => this.onStatus(e));
    void this.opts.prisma.agent
      .findMany({ where: { containerId: { not: null }, observedState: "running" }, select: { id: true, projectId: true, containerId: true } })
      .then((rows) => {
        for (const r of rows) this.follow(r.projectId, r.id, r.containerId!);
      })
      .catch((err: unknown) => this.opts.log.warn({ err: engineMessage(err) }, "config watch: could not list running agents"));
  }

  async stop(): Promise<void> {
    this.unlisten?.();
    this.unlisten = null;
    for (const f of this.followers.values()) f.abort.abort();
    this.followers.clear();
  }

  private onStatus(e: AgentStatusEvent): void {
    if (e.type === "removed") {
      this.followers.get(e.agentId)?.abort.abort();
      this.followers.delete(e.agentId);
      this.watching.delete(e.agentId);
      return;
    }
    if (e.type !== "agent" || e.agent.observedState !== "running" || !e.agent.containerId) return;
    this.follow(e.agent.projectId, e.agent.id, e.agent.containerId);
  }

  /** Follows the agent's container (a short or full id); a no-op when it already does. */
  follow(projectId: string, agentId: string, containerId: string): void {
    const current = this.followers.get(agentId);
    if (current && (current.containerId.startsWith(containerId) || containerId.startsWith(current.containerId))) {
      current.recheck = true;
      return;
    }
    current?.abort.abort(); // a re-created container
    this.watching.delete(agentId);
    const f: Follower = { projectId, agentId, containerId, abort: new AbortController(), recheck: false };
    this.followers.set(agentId, f);
    void this.run(f);
  }

  private async run(f: Follower): Promise<void> {
    const { signal } = f.abort;
    let backoff = 100;
    while (!signal.aborted) {
      let running = false;
      let startedAt = 0n;
      try {
        const run = await containerRun(this.opts.docker, f.containerId);
        running = !!run?.running;
        startedAt = run?.startedAtNanos ?? 0n;
        if (!run) break; // the container is gone
      } catch (err) {
        this.opts.log.debug({ agentId: f.agentId, err: engineMessage(err) }, "config watch: cannot inspect the container");
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      if (!running) {
        if (f.recheck) {
          f.recheck = false;
          await sleep(100, signal);
          continue;
        }
        break;
      }
      const last = this.lastNanos.get(f.containerId);
      const since = last !== undefined ? last + 1n : startedAt;
      try {
        await followContainerStdout(this.opts.docker, f.containerId, { sinceNanos: since, signal, onLine: (l) => this.onLine(f, l) });
        backoff = 100;
      } catch (err) {
        this.opts.log.debug({ agentId: f.agentId, err: engineMessage(err) }, "config watch: following the container failed");
        backoff = Math.min(backoff * 2, 5000);
      }
      if (!signal.aborted) await sleep(backoff, signal);
    }
    if (this.followers.get(f.agentId) === f) {
      this.followers.delete(f.agentId);
      this.watching.delete(f.agentId);
    }
  }

  private onLine(f: Follower, line: OutputLine): void {
    const last = this.lastNanos.get(f.containerId);
    if (last !== undefined && line.nanos <= last) return; // already seen (resumed stream)
    this.lastNanos.set(f.containerId, line.nanos);
    const ev = parseSupervisorLine(line.text);
    if (!ev) return;
    const ref = { projectId: f.projectId, agentId: f.agentId };
    switch (ev.event) {
      case "ready": {
        const capabilities: AgentCapabilities = agentCapabilities.parse({
          ...ev.capabilities,
          agentVersion: ev.capabilities.agentVersion ?? ev.agentVersion,
          claudeVersion: ev.capabilities.claudeVersion ?? ev.claudeVersion,
        });
        void this.opts.prisma.agent
          .updateMany({ where: { id: f.agentId }, data: { capabilities: capabilities as Prisma.InputJsonValue, capabilitiesAt: new Date(ev.time) } })
          .catch((err: unknown) => this.opts.log.warn({ err, agentId: f.agentId }, "config watch: could not store capabilities"));
        break;
      }
      case "config-watch": {
        const status = { ...ref, dirs: ev.dirs, since: new Date(ev.time) };
        this.watching.set(f.agentId, status);
        this.watchStatus.publish({ type: "watching", ...status });
        break;
      }
      case "config-reload": {
        if (line.nanos < this.liveFromNanos) return; // history from before this process watched
        const receivedAt = new Date();
        const event: AgentConfigReloadedEvent = {
          type: "agent-config-reloaded",
          ...ref,
          files: ev.files,
          filesTruncated: ev.filesTruncated,
          changes: ev.changes,
          changedAt: new Date(ev.firstChangeAt),
          reportedAt: new Date(ev.time),
          receivedAt,
        };
        this.opts.log.info({ agentId: f.agentId, files: ev.files.slice(0, 5), changes: ev.changes }, "agent config reloaded");
        this.reloads.publish(event);
        for (const path of ev.files) {
          this.opts.files.events.publish({ type: "agent-file-changed", ...ref, path, change: "changed", source: "container", sha256: null, size: null, at: receivedAt });
        }
        void this.opts.prisma.agent
          .updateMany({ where: { id: f.agentId }, data: { configReloadedAt: receivedAt } })
          .catch((err: unknown) => this.opts.log.warn({ err, agentId: f.agentId }, "config watch: could not record the reload"));
        break;
      }
      default:
        break;
    }
  }

  /** What the agent reported on its last start, and when its config last reloaded. */
  async capabilitiesOf(agentId: string): Promise<{ capabilities: AgentCapabilities | null; reportedAt: Date | null; configReloadedAt: Date | null }> {
    const row = await this.opts.prisma.agent.findUnique({ where: { id: agentId }, select: { capabilities: true, capabilitiesAt: true, configReloadedAt: true } });
    const parsed = row?.capabilities ? agentCapabilities.safeParse(row.capabilities) : null;
    return { capabilities: parsed?.success ? parsed.data : null, reportedAt: row?.capabilitiesAt ?? null, configReloadedAt: row?.configReloadedAt ?? null };
  }
}
