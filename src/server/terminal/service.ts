// Terminals: a shell on a PTY in an agent's container (armoryd's term.* requests), streamed to
// the browser's Terminal tab. A terminal lives exactly as long as the subscription that opened
// it: `open` asks the daemon for the PTY and returns the stream; when the stream ends (the
// browser closes it, the shell exits, the agent stops, its daemon goes away), the PTY is closed
// and one audit entry records the session (duration, bytes typed and shown; never the bytes).
// Only the caller who opened a terminal may type into it or resize it; for anyone else it does
// not exist (404). With several instances the agent's daemon may be connected to another one:
// the term.* requests are routed there like any daemon request, and the output is relayed back
// (TerminalRemote: src/server/cluster/terminal-relay.ts).
import { randomUUID } from "node:crypto";
import type { AgentStatusEvent } from "../api/routers/agent/schemas";
import type { PrismaClient } from "../db";
import { DomainError, notFound } from "../domain/errors";
import type { Logger } from "../logger";
import { writeAuditEvent, type AuditEntryInput } from "../trust/audit";
import { WORKSPACE_DIR, type DaemonEvent, type RequestMethod, type RequestParams, type RequestResult } from "../../contracts/armoryd";

/** A daemon's connection as the hub reports it (DaemonInfo in src/server/agentd/hub.ts). */
export interface TerminalDaemonInfo {
  agentId: string;
  state: "connected" | "disconnected";
  daemonId: string;
  /** What the daemon said when it connected: among others, the terminals it still runs. */
  hello: { terminals: string[] };
}

/** What the service needs of the daemon hub (src/server/agentd/hub.ts implements it). */
export interface TerminalHub {
  request<M extends RequestMethod>(agentId: string, method: M, params: RequestParams<M>, opts?: { timeoutMs?: number }): Promise<RequestResult<M>>;
  onEvent(agentId: string, listener: (event: DaemonEvent, meta: { seq: number; at: number; daemonId: string }) => void): () => void;
  state(agentId: string): "connected" | "disconnected";
  /** True when this Armory instance holds the daemon's connection (several instances: src/server/cluster/). */
  holds(agentId: string): boolean;
  info(agentId: string): TerminalDaemonInfo | null;
  /** Connected / disconnected changes of every agent's daemon. */
  onState(listener: (info: TerminalDaemonInfo) => void): () => void;
}

/** A terminal's output relayed from the instance holding the agent's daemon (the cluster), or its end. */
export type RemoteTerminalEvent = Extract<DaemonEvent, { type: "term.data" | "term.exit" }> | { type: "ended"; reason: string };

/** Relays a terminal of an agent whose daemon another instance holds (src/server/cluster/index.ts implements it). */
export interface TerminalRemote {
  /** Starts relaying `termId`'s output, in order, to `listener` (call before term.open); resolves to the undo. */
  watchTerminal(agentId: string, termId: string, listener: (event: RemoteTerminalEvent, meta: { daemonId: string }) => void): Promise<() => void>;
}

/** Agent status changes (AgentManager.bus): a terminal ends when its agent stops or goes. */
export interface TerminalStatusSource {
  watch(listener: (event: AgentStatusEvent) => void): () => void;
}

export interface TerminalLimits {
  /** Open terminals of one caller on one agent. */
  perCallerPerAgent: number;
  /** Open terminals on one agent, all callers together. */
  perAgent: number;
  /** Bytes (UTF-8) of one input call. */
  inputMaxBytes: number;
  /** Output waiting for a browser that does not read it; beyond this the terminal ends. */
  maxQueuedBytes: number;
}

/** The limits in effect (tests/docker/terminal.test.ts checks the per-caller and input limits). */
export const TERMINAL_LIMITS: TerminalLimits = {
  perCallerPerAgent: 4,
  perAgent: 16,
  inputMaxBytes: 64 * 1024,
  maxQueuedBytes: 8 * 1024 * 1024,
};

/** Who opens and types: the user, and the machine token when the call carries one. */
export interface TerminalCaller {
  userId: string;
  tokenId: string | null;
  /** The caller as its audit entries name it (auditCaller(ctx) of the call that opened it). */
  audit: Pick<AuditEntryInput, "userId" | "userEmail" | "tokenId" | "tokenPrefix" | "requestId" | "ip" | "userAgent">;
}

export interface TerminalRef {
  projectId: string;
  agentId: string;
}

export type TerminalEvent =
  | { type: "opened"; termId: string }
  /** Output bytes, base64. */
  | { type: "data"; data: string }
  /** The shell exited (exitCode null: killed by a signal). */
  | { type: "exit"; exitCode: number | null }
  /** The terminal ended for another reason (agent stopped, daemon gone, browser too slow). */
  | { type: "ended"; reason: string };

interface OpenTerminal {
  termId: string;
  projectId: string;
  agentId: string;
  agentName: string;
  caller: TerminalCaller;
  /** The daemon that runs the PTY (another daemonId later means armoryd restarted: the PTY is gone). */
  daemonId: string | null;
  openedAt: number;
  bytesIn: number;
  bytesOut: number;
  /** Ends the terminal's stream with this reason (the agent stopped, the daemon went away). */
  end(reason: string): void;
}

const callerKey = (agentId: string, c: Pick<TerminalCaller, "userId" | "tokenId">) => `${agentId}:${c.userId}:${c.tokenId ?? ""}`;

/** Decoded length of a base64 string. */
function base64Bytes(b64: string): number {
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((b64.length * 3) / 4) - pad);
}

/** "the shell exited" -> "The shell exited." */
function sentence(text: string): string {
  const t = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function describeBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export class TerminalService {
  private readonly terminals = new Map<string, OpenTerminal>();
  private readonly unlisten: (() => void)[] = [];

  constructor(
    private readonly opts: {
      prisma: PrismaClient;
      hub: TerminalHub;
      status: TerminalStatusSource;
      /** Several instances: the relay of terminals whose daemon another instance holds. */
      remote?: TerminalRemote;
      log: Logger;
    },
  ) {
    const { hub } = opts;
    this.unlisten.push(
      hub.onState((info) => {
        const mine = [...this.terminals.values()].filter((t) => t.agentId === info.agentId);
        if (info.state === "disconnected") {
          for (const t of mine) t.end(`Lost the connection to agent ${t.agentName}'s daemon.`);
          return;
        }
        for (const t of mine) if (t.daemonId && t.daemonId !== info.daemonId) t.end(`Agent ${t.agentName}'s daemon restarted: this terminal's shell is gone.`);
        // Shells the daemon still runs that no stream here holds (their stream ended while the
        // daemon was away, or Armory restarted): nobody can reach them any more, so they go.
        for (const termId of info.hello.terminals) {
          if (this.terminals.has(termId)) continue;
          hub.request(info.agentId, "term.close", { termId }, { timeoutMs: 5_000 }).catch((err: unknown) => {
            opts.log.debug({ err: (err as Error).message, agentId: info.agentId, termId }, "could not close an orphaned terminal");
          });
        }
      }),
      opts.status.watch((e) => {
        if (e.type !== "agent" && e.type !== "removed") return;
        const agentId = e.type === "agent" ? e.agent.id : e.agentId;
        for (const t of this.terminals.values()) {
          if (t.agentId !== agentId) continue;
          if (e.type === "removed") t.end(`Agent ${t.agentName} was removed.`);
          else if (e.agent.observedState !== "running") t.end(`Agent ${t.agentName} stopped (it is ${e.agent.observedState}).`);
        }
      }),
    );
  }

  /** Stops listening to the hub and the agents (Armory shuts down; open streams end with their connections). */
  close(): void {
    for (const off of this.unlisten.splice(0)) off();
  }

  /** Open terminals (all agents). */
  get openCount(): number {
    return this.terminals.size;
  }

  /**
   * Opens a shell on a PTY as the agent user (in /workspace) and returns its stream: "opened"
   * first, then output, then "exit" or "ended". Refusals (agent not running, daemon not
   * connected, too many terminals) are thrown here, before the stream exists. Ending the stream
   * (return, or `signal`) closes the PTY.
   */
  async open(ref: TerminalRef, size: { cols: number; rows: number }, caller: TerminalCaller, signal?: AbortSignal): Promise<AsyncIterable<TerminalEvent>> {
    const { prisma, hub, log } = this.opts;
    const agent = await prisma.agent.findFirst({
      where: { id: ref.agentId, projectId: ref.projectId },
      select: { id: true, name: true, observedState: true },
    });
    if (!agent) throw notFound("Agent");
    if (agent.observedState !== "running") {
      throw new DomainError("PRECONDITION_FAILED", `Agent ${agent.name} is not running (it is ${agent.observedState}): start it to open a terminal.`);
    }
    if (hub.state(agent.id) !== "connected") {
      throw new DomainError("PRECONDITION_FAILED", `Agent ${agent.name}'s daemon is not connected: wait until it connects, or restart the agent.`);
    }
    const relayed = !hub.holds(agent.id);
    const remote = this.opts.remote;
    if (relayed && !remote) {
      throw new DomainError("PRECONDITION_FAILED", `Agent ${agent.name}'s daemon is not connected: wait until it connects, or restart the agent.`);
    }
    const mine = [...this.terminals.values()].filter((t) => callerKey(t.agentId, t.caller) === callerKey(agent.id, caller)).length;
    if (mine >= TERMINAL_LIMITS.perCallerPerAgent) {
      throw new DomainError("CONFLICT", `You already have ${mine} terminals open on agent ${agent.name} (at most ${TERMINAL_LIMITS.perCallerPerAgent}): close one first.`);
    }
    const onAgent = [...this.terminals.values()].filter((t) => t.agentId === agent.id).length;
    if (onAgent >= TERMINAL_LIMITS.perAgent) {
      throw new DomainError("CONFLICT", `Agent ${agent.name} already has ${onAgent} terminals open (at most ${TERMINAL_LIMITS.perAgent}): close one first.`);
    }

    const termId = randomUUID();
    // The queue between the daemon's events and the subscriber.
    const queue: TerminalEvent[] = [{ type: "opened", termId }];
    let queuedBytes = 0;
    let finished: { reason: string; exitCode?: number | null } | null = null;
    let wake: (() => void) | null = null;
    /** term.open succeeded (before that, a failure to open cleans up instead). */
    let opened = false;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    // The last event: queued for the subscriber (who still gets everything before it), and the
    // terminal closed at once, whether or not the subscriber reads on.
    const finish = (event: TerminalEvent & { type: "exit" | "ended" }) => {
      if (finished) return;
      finished = event.type === "exit" ? { reason: `the shell exited with ${event.exitCode ?? "a signal"}`, exitCode: event.exitCode } : { reason: event.reason };
      queue.push(event);
      notify();
      if (opened) close(finished.reason);
    };

    const term: OpenTerminal = {
      termId,
      projectId: ref.projectId,
      agentId: agent.id,
      agentName: agent.name,
      caller,
      daemonId: hub.info(agent.id)?.daemonId ?? null,
      openedAt: Date.now(),
      bytesIn: 0,
      bytesOut: 0,
      end: (reason) => finish({ type: "ended", reason }),
    };
    // Reserved before the first await below, so concurrent opens count it.
    this.terminals.set(term.termId, term);

    const onEvent = (event: DaemonEvent, meta: { daemonId: string }) => {
      if (finished) return;
      if (term.daemonId && meta.daemonId !== term.daemonId) {
        finish({ type: "ended", reason: `Agent ${agent.name}'s daemon restarted: this terminal's shell is gone.` });
        return;
      }
      if ((event.type !== "term.data" && event.type !== "term.exit") || event.termId !== term.termId) return;
      if (event.type === "term.exit") {
        finish({ type: "exit", exitCode: event.exitCode });
        return;
      }
      const n = base64Bytes(event.data);
      term.bytesOut += n;
      queuedBytes += n;
      if (queuedBytes > TERMINAL_LIMITS.maxQueuedBytes) {
        finish({ type: "ended", reason: `The browser did not keep up with the output (more than ${describeBytes(TERMINAL_LIMITS.maxQueuedBytes)} waiting).` });
        return;
      }
      queue.push({ type: "data", data: event.data });
      notify();
    };
    // Here, the daemon's events; from another instance, the relay (started before term.open, so
    // no output is missed).
    let offEvents: () => void = () => {};
    if (!relayed) offEvents = hub.onEvent(agent.id, onEvent);
    else {
      try {
        offEvents = await remote!.watchTerminal(agent.id, termId, (event, meta) => {
          if (event.type === "ended") finish({ type: "ended", reason: event.reason });
          else onEvent(event, meta);
        });
      } catch (err) {
        this.terminals.delete(termId);
        throw daemonRefusal(err, agent.name);
      }
    }

    let closed = false;
    const close = (endedBy: string) => {
      if (closed) return;
      closed = true;
      offEvents();
      signal?.removeEventListener("abort", onAbort);
      this.terminals.delete(term.termId);
      notify();
      const why = finished?.reason ?? endedBy;
      // The PTY is closed unless the shell already ended it (a gone daemon answers nothing).
      if (finished?.exitCode === undefined && hub.state(agent.id) === "connected") {
        hub.request(agent.id, "term.close", { termId: term.termId }, { timeoutMs: 5_000 }).catch((err: unknown) => {
          log.debug({ err: (err as Error).message, agentId: agent.id, termId: term.termId }, "term.close failed (the PTY may already be gone)");
        });
      }
      void this.auditClose(term, why, finished?.exitCode);
    };
    const onAbort = () => close("the browser closed it");
    signal?.addEventListener("abort", onAbort);

    try {
      if (signal?.aborted) throw new DomainError("BAD_REQUEST", "The request was cancelled.");
      await hub.request(agent.id, "term.open", { termId: term.termId, cols: size.cols, rows: size.rows, cwd: WORKSPACE_DIR });
    } catch (err) {
      finished = { reason: "it could not be opened" };
      closed = true;
      offEvents();
      signal?.removeEventListener("abort", onAbort);
      this.terminals.delete(term.termId);
      throw daemonRefusal(err, agent.name);
    }
    opened = true;
    // Ended while it opened (the agent stopped, the daemon went away): close it now.
    if (finished) close("it ended while it opened");
    log.info({ agentId: agent.id, termId: term.termId, userId: caller.userId }, "terminal opened");

    async function* stream(): AsyncGenerator<TerminalEvent> {
      try {
        while (true) {
          const next = queue.shift();
          if (next) {
            if (next.type === "data") queuedBytes -= base64Bytes(next.data);
            yield next;
            if (next.type === "exit" || next.type === "ended") return;
            continue;
          }
          if (closed) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        close("the browser closed it");
      }
    }
    // The generator's finally runs only once it started: a stream abandoned before its first
    // step is closed by this wrapper (and by the signal).
    return closing(stream(), () => close("the browser closed it"));
  }

  /** Keystrokes (UTF-8 text) into the caller's own terminal. */
  async input(ref: TerminalRef, termId: string, data: string, caller: Pick<TerminalCaller, "userId" | "tokenId">): Promise<void> {
    const bytes = Buffer.byteLength(data, "utf8");
    if (bytes > TERMINAL_LIMITS.inputMaxBytes) {
      throw new DomainError("PAYLOAD_TOO_LARGE", `Terminal input is at most ${describeBytes(TERMINAL_LIMITS.inputMaxBytes)} per call (this was ${describeBytes(bytes)}): send it in parts.`);
    }
    const term = this.own(ref, termId, caller);
    try {
      await this.opts.hub.request(term.agentId, "term.input", { termId, data });
    } catch (err) {
      throw daemonRefusal(err, term.agentName);
    }
    term.bytesIn += bytes;
  }

  async resize(ref: TerminalRef, termId: string, size: { cols: number; rows: number }, caller: Pick<TerminalCaller, "userId" | "tokenId">): Promise<void> {
    const term = this.own(ref, termId, caller);
    try {
      await this.opts.hub.request(term.agentId, "term.resize", { termId, cols: size.cols, rows: size.rows });
    } catch (err) {
      throw daemonRefusal(err, term.agentName);
    }
  }

  /** The caller's open terminal on this agent; anyone else's (or a closed one) is 404. */
  private own(ref: TerminalRef, termId: string, caller: Pick<TerminalCaller, "userId" | "tokenId">): OpenTerminal {
    const term = this.terminals.get(termId);
    if (!term || term.agentId !== ref.agentId || term.projectId !== ref.projectId || callerKey(term.agentId, term.caller) !== callerKey(ref.agentId, caller)) {
      throw notFound("Terminal");
    }
    return term;
  }

  private async auditClose(term: OpenTerminal, reason: string, exitCode: number | null | undefined): Promise<void> {
    const durationMs = Date.now() - term.openedAt;
    this.opts.log.info({ agentId: term.agentId, termId: term.termId, durationMs, bytesIn: term.bytesIn, bytesOut: term.bytesOut, reason }, "terminal closed");
    try {
      await writeAuditEvent(this.opts.prisma, {
        ...term.caller.audit,
        action: "terminal.close",
        type: "subscription",
        permission: "exec",
        projectId: term.projectId,
        agentId: term.agentId,
        agentName: term.agentName,
        allowed: true,
        reason: `Terminal closed after ${(durationMs / 1000).toFixed(1)} s (${describeBytes(term.bytesIn)} typed, ${describeBytes(term.bytesOut)} shown): ${sentence(reason)}`,
        outcome: "ok",
        input: { termId: term.termId, durationMs, bytesIn: term.bytesIn, bytesOut: term.bytesOut, exitCode: exitCode ?? null },
      });
    } catch (err) {
      this.opts.log.error({ err, agentId: term.agentId, termId: term.termId }, "could not write the audit entry of a closed terminal");
    }
  }
}

/** A hub failure as a clear 4xx: daemon not connected stays 412; a refused request becomes 409/404/400. */
function daemonRefusal(err: unknown, agentName: string): unknown {
  if (err instanceof DomainError) return err;
  const daemonErr = (err as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (daemonErr && typeof daemonErr.code === "string") {
    const message = `Agent ${agentName}'s daemon refused: ${String(daemonErr.message ?? daemonErr.code)}`;
    if (daemonErr.code === "not_found") return new DomainError("NOT_FOUND", message);
    if (daemonErr.code === "bad_request" || daemonErr.code === "invalid") return new DomainError("BAD_REQUEST", message);
    if (daemonErr.code === "conflict") return new DomainError("CONFLICT", message);
    return new DomainError("ENGINE_ERROR", message);
  }
  return err;
}

/** Wraps a generator so `onClose` runs once however iteration ends, also when it never started. */
function closing<T>(source: AsyncGenerator<T>, onClose: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      return {
        next: () => source.next(),
        async return(value?: unknown) {
          onClose();
          return (await source.return(value as never)) ?? { done: true as const, value: undefined };
        },
        async throw(err?: unknown) {
          onClose();
          return source.throw(err);
        },
      };
    },
  };
}
