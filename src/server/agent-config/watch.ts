// Config hot-reload, Armory's side. Each running agent's daemon (armoryd) watches the agent's
// instruction files from inside the container and sends one `config.reload` event per burst of
// changes (src/armoryd/watch.ts); its hello reports its capabilities. This listens to every
// daemon through the hub (no engine call, no container log), stores the capabilities, and
// announces each reload:
//
//   - `reloads` (AgentEventBus): `agent-config-reloaded` events, streamed by agentConfig.onReload;
//   - `onReload(listener)`: the in-process hook for other server code — e.g. the chat layer
//     recycles a warm Claude Code process so the next turn starts with the new instructions:
//       services.agentConfig.onReload(({ agentId }) => chatSessions.recycle(agentId));
//   - `agent-file-changed` events (source "container") on the files bus for each changed file.
// Events are sequenced by the daemon and replayed after a reconnect, so a burst is announced once.
import { z } from "zod";
import { capabilities as capabilitiesSchema, type DaemonCapabilities, type DaemonEvent } from "../../contracts/armoryd";
import type { DaemonHub, DaemonInfo } from "../agentd/hub";
import type { PrismaClient } from "../db";
import type { Prisma } from "../db/generated/client";
import { AgentEventBus } from "../events/agent-event-bus";
import type { AgentFiles } from "../files/service";
import type { Logger } from "../logger";

/** What an agent reported about itself (stored; older images reported fewer fields). */
export const agentCapabilities = capabilitiesSchema.partial().extend({
  writablePaths: z.array(z.string()).default([]),
  instructionFiles: z.array(z.string()).default([]),
  supportedActions: z.array(z.string()).default([]),
});
export type AgentCapabilities = z.infer<typeof agentCapabilities>;

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
  /** When the daemon reported it (end of the debounce). */
  reportedAt: Date;
  /** When Armory received it. */
  receivedAt: Date;
}

export interface AgentWatchStatus {
  projectId: string;
  agentId: string;
  /** The directories the daemon's watcher covers, and since when. */
  dirs: string[];
  since: Date;
}

export interface AgentConfigWatchOptions {
  prisma: PrismaClient;
  hub: DaemonHub;
  log: Logger;
  files: AgentFiles;
}

export class AgentConfigWatch {
  readonly reloads = new AgentEventBus<AgentConfigReloadedEvent>();
  /** A daemon (re)established its watches: the agent's reloads are seen from then on. */
  readonly watchStatus = new AgentEventBus<AgentWatchStatus & { type: "watching" }>();
  private readonly watching = new Map<string, AgentWatchStatus>();
  /** agentId -> projectId, for the events' refs. */
  private readonly projects = new Map<string, string>();
  private unlisten: (() => void)[] = [];

  constructor(private readonly opts: AgentConfigWatchOptions) {}

  /** The hook for other server code: called for every reload of every agent. Returns the unsubscribe function. */
  onReload(listener: (event: AgentConfigReloadedEvent) => void): () => void {
    return this.reloads.on(listener);
  }

  /** The watcher state of an agent, when its daemon reported one since it connected. */
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

  /** Listens to every agent's daemon; once per process. */
  start(): void {
    if (this.unlisten.length) return;
    const hub = this.opts.hub;
    this.unlisten.push(
      hub.onDaemon((info) => void this.onHello(info)),
      hub.onState((info) => {
        if (info.state === "disconnected") this.watching.delete(info.agentId);
      }),
      hub.onAnyEvent((agentId, event, meta) => void this.onEvent(agentId, event, meta.at)),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.unlisten) off();
    this.unlisten = [];
  }

  private async projectOf(agentId: string): Promise<string | null> {
    const known = this.projects.get(agentId);
    if (known) return known;
    const row = await this.opts.prisma.agent.findUnique({ where: { id: agentId }, select: { projectId: true } });
    if (row) this.projects.set(agentId, row.projectId);
    return row?.projectId ?? null;
  }

  /** A daemon started (or this Armory saw it for the first time): store what it can do. */
  private async onHello(info: DaemonInfo): Promise<void> {
    const capabilities: DaemonCapabilities = info.hello.capabilities;
    await this.opts.prisma.agent
      .updateMany({ where: { id: info.agentId }, data: { capabilities: capabilities as Prisma.InputJsonValue, capabilitiesAt: new Date(info.hello.startedAt) } })
      .catch((err: unknown) => this.opts.log.warn({ err, agentId: info.agentId }, "config watch: could not store capabilities"));
  }

  private async onEvent(agentId: string, ev: DaemonEvent, at: number): Promise<void> {
    if (ev.type !== "config.watching" && ev.type !== "config.reload") return;
    const projectId = await this.projectOf(agentId);
    if (!projectId) return;
    const ref = { projectId, agentId };
    if (ev.type === "config.watching") {
      const status = { ...ref, dirs: ev.dirs, since: new Date(ev.since) };
      this.watching.set(agentId, status);
      this.watchStatus.publish({ type: "watching", ...status });
      return;
    }
    const receivedAt = new Date();
    const event: AgentConfigReloadedEvent = {
      type: "agent-config-reloaded",
      ...ref,
      files: ev.files,
      filesTruncated: ev.filesTruncated,
      changes: ev.changes,
      changedAt: new Date(ev.changedAt),
      reportedAt: new Date(ev.reportedAt || at),
      receivedAt,
    };
    this.opts.log.info({ agentId, files: ev.files.slice(0, 5), changes: ev.changes }, "agent config reloaded");
    this.reloads.publish(event);
    for (const path of ev.files) {
      this.opts.files.events.publish({ type: "agent-file-changed", ...ref, path, change: "changed", source: "container", sha256: null, size: null, at: receivedAt });
    }
    await this.opts.prisma.agent
      .updateMany({ where: { id: agentId }, data: { configReloadedAt: receivedAt } })
      .catch((err: unknown) => this.opts.log.warn({ err, agentId }, "config watch: could not record the reload"));
  }

  /** What the agent reported on its last start, and when its config last reloaded. */
  async capabilitiesOf(agentId: string): Promise<{ capabilities: AgentCapabilities | null; reportedAt: Date | null; configReloadedAt: Date | null }> {
    const row = await this.opts.prisma.agent.findUnique({ where: { id: agentId }, select: { capabilities: true, capabilitiesAt: true, configReloadedAt: true } });
    const parsed = row?.capabilities ? agentCapabilities.safeParse(row.capabilities) : null;
    return { capabilities: parsed?.success ? parsed.data : null, reportedAt: row?.capabilitiesAt ?? null, configReloadedAt: row?.configReloadedAt ?? null };
  }
}
