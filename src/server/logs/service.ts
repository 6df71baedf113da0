// Agent logs: the container's output (stdout, stderr) and Armory's own lines about the agent
// ("armory": each chat turn's start and end, with its outcome), merged by time. `tail` reads the
// last N lines of both; `follow` sends that history, then every new line of either as it comes,
// across container restarts and re-creations (it re-opens the new container's log after the last
// line it delivered).
import { EventEmitter } from "node:events";
import type { AgentStatusBus } from "../agents/status-bus";
import type { PrismaClient } from "../db";
import { compareRawTime, type AgentRuntime, type LogLine as ContainerLogLine } from "../runtime";
import { notFound } from "../domain/errors";
import type { Logger } from "../logger";

export interface LogLine {
  timestamp: Date;
  /** The engine's nanosecond time for container lines (for resuming without duplicates); "" for Armory's. */
  rawTime: string;
  stream: "stdout" | "stderr" | "armory";
  message: string;
  /** Armory lines only: which line this is (`<runId>:start` / `<runId>:end`), to deliver it once. */
  key?: string;
}

/** What LogService needs of the chat event bus: every event of every session. */
export interface ChatEventTap {
  tap(listener: (sessionId: string, e: { runId: string; type: string }) => void): () => void;
}

const RUN_ENDS = new Set(["run_completed", "run_failed", "run_interrupted"]);

interface RunRow {
  id: string;
  agentId: string;
  sessionId: string;
  userId: string | null;
  mode: string;
  status: string;
  error: string | null;
  inputTokens: number;
  outputTokens: number;
  durationMs: number | null;
  startedAt: Date;
  endedAt: Date | null;
}

const RUN_SELECT = {
  id: true,
  agentId: true,
  sessionId: true,
  userId: true,
  mode: true,
  status: true,
  error: true,
  inputTokens: true,
  outputTokens: true,
  durationMs: true,
  startedAt: true,
  endedAt: true,
} as const;

function seconds(ms: number | null): string {
  if (ms === null) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The line a chat turn leaves when it starts. */
export function runStartLine(run: RunRow, by: string | null): LogLine {
  const who = by ? ` by ${by}` : "";
  return {
    timestamp: run.startedAt,
    rawTime: "",
    stream: "armory",
    key: `${run.id}:start`,
    message: `chat turn started${who} (session ${run.sessionId.slice(0, 8)}, ${run.mode === "warm" ? "warm process" : "one process per turn"})`,
  };
}

/** The line a chat turn leaves when it ends: its outcome, time and tokens (and the error). */
export function runEndLine(run: RunRow): LogLine | null {
  if (!run.endedAt || run.status === "running") return null;
  const took = run.durationMs !== null ? ` in ${seconds(run.durationMs)}` : "";
  let message: string;
  if (run.status === "completed") {
    // No cost here: with the demo model the CLI still reports one (see the chat's usage for costs).
    message = `chat turn completed${took} (${run.inputTokens} tokens in, ${run.outputTokens} out)`;
  } else {
    message = `chat turn ${run.status}${took}${run.error ? `: ${oneLine(run.error)}` : ""}`;
  }
  return { timestamp: run.endedAt, rawTime: "", stream: "armory", key: `${run.id}:end`, message };
}

function byTime(a: LogLine, b: LogLine): number {
  const d = a.timestamp.getTime() - b.timestamp.getTime();
  if (d) return d;
  if (a.rawTime && b.rawTime) return compareRawTime(a.rawTime, b.rawTime);
  return 0;
}

export class LogService {
  /** Armory lines as they happen, per agent id. */
  private readonly armory = new EventEmitter();
  private untap: (() => void) | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly runtime: AgentRuntime,
    private readonly bus: AgentStatusBus,
    /** How long a follower waits for news about a stopped agent before looking again. */
    private readonly idleRecheckMs = 3000,
    private readonly log?: Logger,
  ) {
    this.armory.setMaxListeners(0);
  }

  /** Turns chat turn events into Armory log lines of their agent (call once, after the chat service exists). */
  watchChat(chat: ChatEventTap): void {
    this.untap?.();
    this.untap = chat.tap((_sessionId, e) => {
      const start = e.type === "user_message";
      if (!start && !RUN_ENDS.has(e.type)) return;
      void this.armoryLineOf(e.runId, start ? "start" : "end")
        .then((line) => {
          if (line) this.armory.emit(line.agentId, line.line);
        })
        .catch((err: unknown) => this.log?.warn({ err, runId: e.runId }, "could not write a chat turn's log line"));
    });
  }

  close(): void {
    this.untap?.();
    this.untap = null;
  }

  private async armoryLineOf(runId: string, which: "start" | "end"): Promise<{ agentId: string; line: LogLine } | null> {
    const run = await this.prisma.chatRun.findUnique({ where: { id: runId }, select: RUN_SELECT });
    if (!run) return null;
    if (which === "end") {
      const line = runEndLine(run);
      return line ? { agentId: run.agentId, line } : null;
    }
    const names = await this.userNames([run.userId]);
    return { agentId: run.agentId, line: runStartLine(run, run.userId ? (names.get(run.userId) ?? null) : null) };
  }

  private async userNames(ids: (string | null)[]): Promise<Map<string, string>> {
    const wanted = [...new Set(ids.filter((id): id is string => !!id))];
    if (!wanted.length) return new Map();
    const users = await this.prisma.user.findMany({ where: { id: { in: wanted } }, select: { id: true, name: true, email: true } });
    return new Map(users.map((u) => [u.id, u.name || u.email]));
  }

  /** The agent's last `lines` Armory lines (chat turns' starts and ends), oldest first. */
  private async armoryTail(agentId: string, lines: number): Promise<LogLine[]> {
    // Each run gives at most two lines: the last `lines` runs hold the last `lines` lines.
    const runs = await this.prisma.chatRun.findMany({ where: { agentId }, orderBy: { startedAt: "desc" }, take: lines, select: RUN_SELECT });
    const names = await this.userNames(runs.map((r) => r.userId));
    const out: LogLine[] = [];
    for (const r of runs) {
      out.push(runStartLine(r, r.userId ? (names.get(r.userId) ?? null) : null));
      const end = runEndLine(r);
      if (end) out.push(end);
    }
    return out.sort(byTime).slice(-lines);
  }

  private async container(agentId: string) {
    return this.prisma.agent.findUnique({ where: { id: agentId }, select: { containerId: true, observedState: true } });
  }

  /** The last `lines` lines of the container's output and of Armory's lines about the agent, merged by time. */
  async tail(agentId: string, lines: number): Promise<LogLine[]> {
    const row = await this.container(agentId);
    if (!row) throw notFound("Agent");
    const [output, armory] = await Promise.all([
      row.containerId ? this.runtime.tailLogs(row.containerId, lines) : Promise.resolve<ContainerLogLine[]>([]),
      this.armoryTail(agentId, lines),
    ]);
    return [...output, ...armory].sort(byTime).slice(-lines);
  }

  /** `tail` lines of history, then every new line, across restarts, until `signal` aborts or the agent is removed. */
  async *follow(agentId: string, tail: number, signal?: AbortSignal): AsyncGenerator<LogLine> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (signal?.aborted) return;
    signal?.addEventListener("abort", onAbort);

    const queue: LogLine[] = [];
    let wakeConsumer: (() => void) | null = null;
    const push = (l: LogLine) => {
      queue.push(l);
      wakeConsumer?.();
    };
    let pumpDone = false;
    let pumpError: unknown = null;
    // Listening before the history is read: a turn ending meanwhile is not missed (keys dedupe).
    const onArmory = (l: LogLine) => push(l);
    const onStop = () => wakeConsumer?.();
    stop.signal.addEventListener("abort", onStop);
    this.armory.on(agentId, onArmory);
    const delivered = new Set<string>();
    try {
      // Lines after this point count as new when the history had no container line.
      const startedSince = `${Math.floor(Date.now() / 1000)}.000000000`;
      let last: string | null = null;
      if (tail > 0) {
        for (const line of await this.tail(agentId, tail)) {
          if (line.key) delivered.add(line.key);
          if (line.rawTime) last = line.rawTime;
          yield line;
        }
      } else if (!(await this.container(agentId))) {
        throw notFound("Agent");
      }

      // The container's output, across restarts, into the same queue.
      void this.pumpContainer(agentId, { last, startedSince }, push, stop.signal)
        .catch((err: unknown) => {
          pumpError = err;
        })
        .finally(() => {
          pumpDone = true;
          wakeConsumer?.();
        });

      while (!stop.signal.aborted) {
        const next = queue.shift();
        if (next) {
          if (next.key) {
            if (delivered.has(next.key)) continue;
            delivered.add(next.key);
            if (delivered.size > 10_000) delivered.clear();
          }
          yield next;
          continue;
        }
        if (pumpDone) {
          if (pumpError) throw pumpError;
          return; // the agent was removed
        }
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
        wakeConsumer = null;
      }
    } finally {
      this.armory.off(agentId, onArmory);
      signal?.removeEventListener("abort", onAbort);
      stop.signal.removeEventListener("abort", onStop);
      stop.abort();
    }
  }

  /** Follows the agent's current container, then the next one after a restart or re-create, until aborted or removed. */
  private async pumpContainer(
    agentId: string,
    from: { last: string | null; startedSince: string },
    push: (l: LogLine) => void,
    signal: AbortSignal,
  ): Promise<void> {
    let last = from.last;
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
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted && !removed) {
        changed = false;
        const row = await this.container(agentId);
        if (!row) return;
        if (row.containerId) {
          const lines = this.runtime.followLogs(row.containerId, { since: last ? this.runtime.logSinceAfter(last) : from.startedSince }, signal);
          for await (const line of lines) {
            if (last && line.rawTime && compareRawTime(line.rawTime, last) <= 0) continue; // already delivered
            if (line.rawTime) last = line.rawTime;
            push(line);
          }
        }
        if (signal.aborted || removed) return;
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
      signal.removeEventListener("abort", onAbort);
    }
  }
}
