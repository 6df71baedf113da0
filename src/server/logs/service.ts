// Agent logs: the last N lines, and a follow stream that keeps going across container restarts
// and re-creations (it re-opens the new container's log after the last line it delivered).
import type Docker from "dockerode";
import type { AgentStatusBus } from "../agents/status-bus";
import type { PrismaClient } from "../db";
import { compareRawTime, followContainerLogs, sinceAfter, tailContainerLogs, type LogLine } from "../docker/logs";
import { notFound } from "../domain/errors";

export type { LogLine };

export class LogService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly docker: Docker,
    private readonly bus: AgentStatusBus,
    /** How long a follower waits for news about a stopped agent before looking again. */
    private readonly idleRecheckMs = 3000,
  ) {}

  private async container(agentId: string) {
    return this.prisma.agent.findUnique({ where: { id: agentId }, select: { containerId: true, observedState: true } });
  }

  async tail(agentId: string, lines: number): Promise<LogLine[]> {
    const row = await this.container(agentId);
    if (!row) throw notFound("Agent");
    if (!row.containerId) return [];
    return tailContainerLogs(this.docker, row.containerId, lines);
  }

  /** `tail` lines of history, then every new line, across restarts, until `signal` aborts or the agent is removed. */
  async *follow(agentId: string, tail: number, signal?: AbortSignal): AsyncGenerator<LogLine> {
    let last: string | null = null;
    // Lines after this point count as new when nothing was delivered yet (a restart before the first line).
    const startedSince = `${Math.floor(Date.now() / 1000)}.000000000`;
    let firstPass = true;
    let changed = false;
    let removed = false;
    let wake: (() => void) | null = null;
    const unwatch = this.bus.watch((e) => {
      const id = e.type === "agent" ? e.agent.id : e.type === "removed" ? e.agentId : null;
      if (id !== agentId) return;
      if (e.type === "removed") removed = true;
      changed = true;
      wake?.();
    });
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      while (!signal?.aborted && !removed) {
        changed = false;
        const row = await this.container(agentId);
        if (!row) return;
        if (row.containerId) {
          const opts: { tail?: number; since?: string } = last ? { since: sinceAfter(last) } : firstPass ? { tail } : { since: startedSince };
          firstPass = false;
          const lines: AsyncGenerator<LogLine> = followContainerLogs(this.docker, row.containerId, opts, signal);
          for await (const line of lines) {
            if (last && line.rawTime && compareRawTime(line.rawTime, last) <= 0) continue; // already delivered
            if (line.rawTime) last = line.rawTime;
            yield line;
          }
        }
        if (signal?.aborted || removed) return;
        // The container stopped (or is being re-created): wait for news about the agent.
        if (!changed) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.idleRecheckMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = null;
        }
      }
    } finally {
      unwatch();
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
