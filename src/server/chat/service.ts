// Chat turns: send() stores the message, starts the turn in the background and answers at once
// with { sessionId, runId }; the turn runs the Claude Code CLI in the agent's container (a warm
// process per active session when enabled, else one process per turn), persists every line as a
// numbered event and fans it out. Every way a turn can end — result, interrupt, container stopped
// or OOM-killed, CLI crash, unknown resumed session, timeout, Armory stopping — ends it with one
// persisted terminal event, and the session stays usable for the next message.
import type { ProjectEventBus } from "../events/agent-event-bus";
import type { Config } from "../config";
import type { PrismaClient } from "../db";
import type { AgentRuntime } from "../runtime";
import { DomainError, notFound } from "../domain/errors";
import type { ModelGateway } from "../gateway/gateway";
import type { Logger } from "../logger";
import { metrics } from "../metrics";
import { summarizeResult, textDelta, type ResultSummary } from "../streams/stream-json";
import { ChatEventBus, PendingWrites } from "./bus";
import { composeSystemPrompt, loadSoul } from "./prompt";
import { ClaudeProcess, type ClaudeProcessOptions, type ProcessLine } from "./runner";
import { PrewarmPool, prewarmFits, prewarmKey, type PrewarmPlan } from "./warm-pool";
import type { DaemonHub } from "../agentd/hub";
import { isPreDaemonVersion } from "../../contracts/armoryd";
import { ChatStore, titleFor, type ChatEventRecord } from "./store";
import { classifyLostTurn } from "./turn-end";
import type { ChatSession, Prisma } from "../db/generated/client";
import type { ApprovalService, ApprovalTurn } from "../approvals/service";
import { effectivePolicy } from "../approvals/policy";
import { controlErrorLine, controlResponseLine } from "../approvals/control";
import { TurnClock } from "./turn-clock";
import type { Cluster } from "../cluster";

/** The agent fields a turn uses (its container, CLI flags and system prompt). */
const turnAgentInclude = { template: { select: { personality: true, allowedTools: true, toolPolicy: true } } } satisfies Prisma.AgentInclude;
type TurnAgent = Prisma.AgentGetPayload<{ include: typeof turnAgentInclude }>;

export const MAX_MESSAGE_CHARS = 1024 * 1024;
/** How long a turn waits for a just-started container's daemon to connect. */
const DAEMON_WAIT_MS = 20_000;
/** How long a send or interrupt routed to the instance holding the agent's daemon may take there. */
const ROUTE_TIMEOUT_MS = 30_000;

/** Armory's own event types (the CLI's are system, assistant, user, stream_event, result, unknown). */
export const TERMINAL_EVENTS = ["run_completed", "run_failed", "run_interrupted"] as const;

export interface ChatServiceOptions {
  prisma: PrismaClient;
  /** The engine: only asked why a turn's process ended (and whether a container runs when its daemon is not connected). */
  runtime: AgentRuntime;
  /** The agent daemons: every Claude Code process runs in the agent's armoryd. */
  hub: DaemonHub;
  log: Logger;
  config: Config;
  gateway: ModelGateway;
  /** Where approvals waiting for a decision are announced (notifications subscribe there). */
  events?: ProjectEventBus;
  /** Tool approvals: the CLI's permission prompts during a turn (without it, every prompt is denied). */
  approvals?: ApprovalService;
  /** Told when a message reached an agent's Claude Code (off the turn's path; shown on the agent's card). */
  onMessageSent?: (agentId: string, at: Date) => Promise<void>;
  /** Before a session is deleted: removes its git worktree (the git service; its branch stays). */
  beforeSessionDelete?: (projectId: string, agentId: string, sessionId: string) => Promise<void>;
}

interface Warm {
  proc: ClaudeProcess;
  agentId: string;
  containerId: string;
  idleTimer: NodeJS.Timeout | null;
  /** The agent's instructions changed during a turn: end the process when the turn ends. */
  stale: boolean;
  /** The tool policy the process was started with (a changed policy starts a new process). */
  policyKey: string;
}

interface ActiveTurn {
  /** Empty for the moment between claiming the session and creating the run. */
  runId: string;
  sessionId: string;
  proc: ClaudeProcess | null;
  stopReason: { kind: "interrupt"; by: string } | { kind: "timeout" } | { kind: "shutdown" } | null;
  done: Promise<void>;
}

/** Tries at recording a turn's end (250 ms, 500 ms, 1 s, 2 s apart). */
const END_RUN_ATTEMPTS = 5;

export class ChatService {
  readonly store: ChatStore;
  readonly bus: ChatEventBus;
  private warm = new Map<string, Warm>();
  /** One pre-started process per agent for its next new conversation (src/server/chat/warm-pool.ts). */
  private readonly prewarm: PrewarmPool;
  private active = new Map<string, ActiveTurn>(); // by sessionId
  private closing = false;
  /** The CLI binary run in agent containers; the benchmark swaps in a fake NDJSON emitter. */
  cli = "claude";

  constructor(private readonly opts: ChatServiceOptions) {
    this.store = new ChatStore(opts.prisma);
    this.bus = new ChatEventBus(this.store, opts.log);
    this.prewarm = new PrewarmPool({ hub: opts.hub, log: opts.log, plan: (agentId) => this.prewarmPlan(agentId) });
    // A daemon that (re)connects may still run processes this Armory does not know (it restarted,
    // or a kill did not reach the daemon): end them, keep the ones turns and warm sessions use.
    this.offDaemonState = opts.hub.onState((info) => {
      if (info.state !== "connected") return;
      const keep = [...this.warm.values()].filter((w) => w.agentId === info.agentId).map((w) => w.proc.procId);
      for (const t of this.active.values()) if (t.proc && t.proc.opts.agentId === info.agentId) keep.push(t.proc.procId);
      keep.push(...this.prewarm.procIds(info.agentId));
      opts.hub
        .request(info.agentId, "proc.killOthers", { keep })
        .then((r) => r.killed.length && this.log.warn({ agentId: info.agentId, killed: r.killed.length }, "ended chat processes no turn of this Armory owns"))
        .catch(() => {})
        // After the sweep (so it cannot take the new process): the agent's next new conversation starts warm.
        .then(() => (opts.config.chat.prewarm ? this.prewarm.fill(info.agentId) : undefined));
    });
  }
  private readonly offDaemonState: () => void;

  private get log() {
    return this.opts.log;
  }

  // ------------------------------------------------------------------ queries

  sessions(agentId: string, search?: string) {
    return this.store.sessions(agentId, { search });
  }

  // ------------------------------------------------------------------ session management

  async renameSession(projectId: string, agentId: string, sessionId: string, title: string) {
    const session = await this.store.session(projectId, agentId, sessionId);
    const clean = title.trim().replace(/\s+/g, " ");
    if (!clean) throw new DomainError("BAD_REQUEST", "title: the title is empty.");
    return this.store.renameSession(session.id, clean, session.updatedAt);
  }

  /**
   * Deletes a session, its turns and events. Refused (409) while a turn runs in it: stop the turn
   * first. The session is claimed while it is deleted, so a message sent meanwhile is refused too.
   */
  async deleteSession(projectId: string, agentId: string, sessionId: string): Promise<{ deleted: true; sessionId: string }> {
    await this.store.session(projectId, agentId, sessionId);
    const busy = () => new DomainError("CONFLICT", "A turn is running in this conversation: stop it or wait for it to finish, then delete the conversation.");
    if (this.active.has(sessionId)) throw busy();
    const claim: ActiveTurn = { runId: "", sessionId, proc: null, stopReason: null, done: Promise.resolve() };
    this.active.set(sessionId, claim);
    try {
      // A run an earlier Armory process left running counts as running until recover() ends it.
      if (await this.store.runningRun(sessionId)) throw busy();
      await this.dropWarm(sessionId);
      await this.opts.beforeSessionDelete?.(projectId, agentId, sessionId);
      await this.store.deleteSession(sessionId);
    } finally {
      if (this.active.get(sessionId) === claim) this.active.delete(sessionId);
    }
    this.log.info({ sessionId, agentId }, "chat session deleted");
    return { deleted: true, sessionId };
  }

  async history(projectId: string, agentId: string, sessionId: string, afterSeq = 0, limit = 5000) {
    const session = await this.store.session(projectId, agentId, sessionId);
    const [runs, events] = await Promise.all([this.store.runs(sessionId), this.store.eventsAfter(sessionId, afterSeq, limit)]);
    return { session, runs, events };
  }

  async stream(projectId: string, agentId: string, sessionId: string, afterSeq: number, signal?: AbortSignal): Promise<AsyncGenerator<ChatEventRecord>> {
    await this.store.session(projectId, agentId, sessionId); // 404 for unknown sessions
    return this.bus.stream(sessionId, afterSeq, signal);
  }

  /** True when this agent's turns are answered by the built-in demo model (no template provider, no Armory key). */
  isDemo(agentId: string): Promise<boolean> {
    return this.opts.gateway.demoFor(agentId);
  }

  // ------------------------------------------------------------------ send

  /** Several instances (src/server/cluster/): a turn runs on the instance holding the agent's daemon. */
  useCluster(cluster: Pick<Cluster, "route" | "serve">): void {
    this.cluster = cluster;
    cluster.serve("chat.send", (p) => this.send(p as Parameters<ChatService["send"]>[0], true));
    cluster.serve("chat.interrupt", (p) => {
      const a = p as { projectId: string; agentId: string; sessionId: string; by: string };
      return this.interrupt(a.projectId, a.agentId, a.sessionId, a.by, true);
    });
  }
  private cluster: Pick<Cluster, "route" | "serve"> | null = null;

  /** `here`: run it on this instance (a request another instance routed here). */
  async send(input: { projectId: string; agentId: string; sessionId?: string; message: string; userId: string | null }, here = false): Promise<{ sessionId: string; runId: string }> {
    if (!here && this.cluster) {
      const r = await this.cluster.route("chat.send", input.agentId, input, ROUTE_TIMEOUT_MS);
      if (r.routed) return r.result as { sessionId: string; runId: string };
    }
    const started = performance.now();
    if (this.closing) throw new DomainError("PRECONDITION_FAILED", "Armory is shutting down; send the message again in a moment.");
    if (!input.message.trim()) throw new DomainError("BAD_REQUEST", "message: the message is empty.");
    if (input.message.length > MAX_MESSAGE_CHARS) throw new DomainError("BAD_REQUEST", `message: at most ${MAX_MESSAGE_CHARS} characters.`);
    // Everything the turn needs, read once and in parallel: a warm follow-up's message reaches
    // the CLI after this, one insert (the run) and nothing else.
    const [agent, existing, stale, demoModel] = await Promise.all([
      this.opts.prisma.agent.findFirst({ where: { id: input.agentId, projectId: input.projectId }, include: turnAgentInclude }),
      input.sessionId ? this.store.session(input.projectId, input.agentId, input.sessionId) : null,
      input.sessionId && !this.active.has(input.sessionId) ? this.store.runningRun(input.sessionId) : null,
      this.opts.gateway.demoFor(input.agentId),
    ]);
    if (!agent) throw notFound("Agent");
    const session =
      existing ?? (await this.store.createSession({ projectId: input.projectId, agentId: input.agentId, title: titleFor(input.message), userId: input.userId }));
    if (this.active.has(session.id) || stale) {
      throw new DomainError("CONFLICT", "A turn is still running in this session: wait for it to finish or stop it first.");
    }
    const mode = this.opts.config.chat.warm ? "warm" : "oneshot";
    // Claim the session before the next await, so two sends cannot both start a turn.
    const turn: ActiveTurn = { runId: "", sessionId: session.id, proc: null, stopReason: null, done: Promise.resolve() };
    this.active.set(session.id, turn);
    let run: { id: string };
    try {
      run = await this.store.createRun({ sessionId: session.id, agentId: input.agentId, projectId: input.projectId, userId: input.userId, message: input.message, mode });
    } catch (err) {
      this.active.delete(session.id);
      throw err;
    }
    turn.runId = run.id;
    // The turn's events are numbered here and reach subscribers before their write (src/server/chat/bus.ts).
    this.bus.claim(session.id);
    // Queued first, so it is numbered before everything the turn emits.
    void this.bus.emit(session.id, { runId: run.id, type: "user_message", data: { text: input.message, userId: input.userId } }).catch(() => {});
    turn.done = this.runTurn(turn, { agent, session, demoModel, message: input.message, started })
      .catch((err: unknown) => this.log.error({ err, runId: run.id }, "chat turn crashed"))
      .finally(() => {
        this.bus.release(session.id);
        if (this.active.get(session.id) === turn) this.active.delete(session.id);
        // A used (or discarded) pre-warmed process is replaced once the turn is over, off its path.
        if (this.opts.config.chat.prewarm && !this.closing) void this.prewarm.fill(input.agentId);
      });
    return { sessionId: session.id, runId: run.id };
  }

  // ------------------------------------------------------------------ interrupt

  async interrupt(projectId: string, agentId: string, sessionId: string, by: string, here = false): Promise<{ interrupted: boolean; runId: string | null }> {
    await this.store.session(projectId, agentId, sessionId);
    if (!here && this.cluster && !this.active.has(sessionId)) {
      const r = await this.cluster.route("chat.interrupt", agentId, { projectId, agentId, sessionId, by }, ROUTE_TIMEOUT_MS);
      if (r.routed) return r.result as { interrupted: boolean; runId: string | null };
    }
    const turn = this.active.get(sessionId);
    if (turn) {
      turn.stopReason ??= { kind: "interrupt", by };
      void this.dropWarm(sessionId);
      await turn.proc?.kill();
      await turn.done;
      return { interrupted: true, runId: turn.runId };
    }
    // A run some earlier Armory process left running: just end it.
    const stale = await this.store.runningRun(sessionId);
    if (stale) {
      await this.endRun(sessionId, stale.id, 0, { status: "interrupted", message: `Stopped by ${by}.` });
      return { interrupted: true, runId: stale.id };
    }
    return { interrupted: false, runId: null };
  }

  // ------------------------------------------------------------------ the turn

  private async runTurn(turn: ActiveTurn, t: { agent: TurnAgent; session: ChatSession; demoModel: boolean; message: string; started: number }) {
    const { config } = this.opts;
    const { agent, session, demoModel } = t;
    const elapsed = () => performance.now() - t.started;
    const fail = (message: string, reason: string) => this.endRun(turn.sessionId, turn.runId, elapsed(), { status: "failed", message, reason });
    // A live warm process, or the agent's daemon connected from its current container, proves the
    // container runs: no engine call. Otherwise ask the engine, and give a just-started container's
    // daemon a moment to dial home.
    const warmNow = this.warm.get(turn.sessionId);
    const warmUsable = !!warmNow && warmNow.proc.alive && warmNow.containerId === agent.containerId && config.chat.warm;
    const daemon = this.opts.hub.info(agent.id);
    const daemonHere = !!agent.containerId && daemon?.state === "connected" && (!daemon.containerId || daemon.containerId === agent.containerId);
    if (!warmUsable && !daemonHere) {
      const observed = agent.containerId ? await this.opts.runtime.inspectContainer(agent.containerId).catch(() => null) : null;
      if (!agent.containerId || !observed || observed.state !== "running") {
        const state = observed ? observed.detail ?? observed.state : "no container";
        return fail(`The agent ${agent.name} is not running (${state}). Start it, then send the message again.`, "agent_not_running");
      }
      try {
        // The relay the daemon dials through forwards to this gateway's current address (it moves
        // when the gateway's port had to change): make sure of that first.
        await this.opts.gateway.agentEnv(agent.id).catch(() => {});
        await this.opts.hub.waitFor(agent.id, { timeoutMs: DAEMON_WAIT_MS, containerId: agent.containerId });
      } catch {
        const tag = agent.image.slice(agent.image.lastIndexOf(":") + 1);
        return fail(
          isPreDaemonVersion(tag)
            ? `The agent ${agent.name} runs image ${tag}, which has no daemon (armoryd): update it to the current image on its Versions tab (a safe re-create that keeps its files and conversations), then send the message again.`
            : `The agent ${agent.name} is running but its daemon (armoryd) has not connected to Armory within ${DAEMON_WAIT_MS / 1000} s. Restart the agent; if it persists, update it to the current image.`,
          "daemon_unavailable",
        );
      }
    }
    const containerId = agent.containerId!;

    // A warm process for this session in this container, started with the current tool policy, or a new one.
    const toolPolicy = effectivePolicy(agent, agent.template);
    const policyKey = JSON.stringify(toolPolicy);
    let proc: ClaudeProcess;
    let reused = false;
    let prewarmed = false;
    const warm = this.warm.get(turn.sessionId);
    if (warm && warmUsable && warm.proc.alive && warm.policyKey === policyKey) {
      if (warm.idleTimer) clearTimeout(warm.idleTimer);
      warm.idleTimer = null;
      proc = warm.proc;
      reused = true;
    } else {
      if (warm) void this.dropWarm(turn.sessionId);
      let env: Record<string, string>;
      try {
        env = await this.opts.gateway.agentEnv(agent.id);
      } catch (err) {
        return fail(`The model gateway is not reachable for agents: ${(err as Error).message}`, "gateway_unavailable");
      }
      const options = this.processOptions(agent, env, session.gitWorktree ?? undefined);
      // A new conversation takes the agent's pre-warmed process when it was started with these very settings.
      const taken = !session.claudeSessionId && config.chat.prewarm ? await this.prewarm.take(agent.id, prewarmKey(options, containerId)) : null;
      if (taken) {
        proc = taken.proc;
        prewarmed = true;
      } else {
        proc = new ClaudeProcess(this.opts.hub, { ...options, resume: session.claudeSessionId });
        try {
          await proc.start();
        } catch (err) {
          return fail(`Could not start Claude Code in the agent's container: ${(err as Error).message}`, "spawn_failed");
        }
      }
      if (config.chat.warm) this.warm.set(turn.sessionId, { proc, agentId: agent.id, containerId, idleTimer: null, stale: false, policyKey });
    }
    turn.proc = proc;
    if (turn.stopReason) await proc.kill(); // interrupted while starting

    // Queued (numbered before any CLI event); not awaited, so the message reaches the CLI at once.
    const started = this.bus
      .emit(turn.sessionId, {
        runId: turn.runId,
        type: "run_started",
        data: { mode: config.chat.warm ? "warm" : "oneshot", reusedProcess: reused, prewarmed, demoModel, resumed: !!session.claudeSessionId },
      })
      .catch(() => {});

    let result: ResultSummary | null = null;
    let firstTokenMs: number | null = null;
    const stderr: string[] = [];
    const writes = new PendingWrites();
    writes.track(started);
    const emit = (type: string, data: unknown) => this.bus.emitCounted(turn.sessionId, { runId: turn.runId, type, data }, writes);
    let resolveResult!: () => void;
    const gotResult = new Promise<void>((r) => (resolveResult = r));
    const approvals = this.opts.approvals;
    let asked = false;
    const approvalTurn: ApprovalTurn = {
      projectId: agent.projectId,
      agentId: agent.id,
      agentName: agent.name,
      sessionId: turn.sessionId,
      runId: turn.runId,
      timeoutSec: agent.approvalTimeoutSec,
      respond: (requestId, answer) => proc.write(controlResponseLine(requestId, answer)),
      emit,
      onWaiting: (waiting) => clock.waitingChanged(waiting),
    };
    proc.onLine = (line: ProcessLine) => {
      switch (line.kind) {
        case "control": {
          const c = line.control;
          if (c.kind === "can_use_tool") {
            asked = true;
            if (!approvals) {
              approvalTurn.respond(c.request.requestId, { behavior: "deny", message: "This Armory cannot ask anyone for approval, so the tool call was denied." });
              break;
            }
            void approvals.handleRequest(approvalTurn, c.request).catch((err: unknown) => {
              this.log.error({ err, runId: turn.runId }, "could not handle an approval request");
              approvalTurn.respond(c.request.requestId, { behavior: "deny", message: "Armory could not record the approval request, so the tool call was denied." });
            });
          } else if (c.kind === "cancel") {
            void approvals?.cancelRequest(turn.runId, c.requestId).catch(() => {});
          } else {
            proc.write(controlErrorLine(c.requestId, `Armory does not handle ${c.subtype} control requests.`));
          }
          break;
        }
        case "cli": {
          const e = line.event;
          emit(e.kind, e.event);
          if (e.kind === "stream_event" && firstTokenMs === null && textDelta(e.event) !== null) firstTokenMs = elapsed();
          if (e.kind === "system" && e.event.subtype === "init" && typeof e.event.session_id === "string" && e.event.session_id !== session.claudeSessionId) {
            session.claudeSessionId = e.event.session_id;
            writes.track(this.store.setClaudeSessionId(turn.sessionId, e.event.session_id));
          }
          if (e.kind === "result") {
            result = summarizeResult(e.event);
            // A one-shot process's stdin stayed open for permission answers: now it may end.
            if (!config.chat.warm) proc.closeInput();
            resolveResult();
          }
          break;
        }
        case "invalid_line":
          emit("invalid_line", { line: line.line, error: line.error });
          break;
        case "overflow":
          emit("overflow", { length: line.length, message: `A line of ${line.length} characters was too long to keep and was dropped.` });
          break;
        case "stderr":
          if (stderr.length < 50) stderr.push(line.text);
          emit("stderr", { text: line.text });
          break;
      }
    };

    // Time spent waiting for approvals does not count against the turn timeout.
    const clock = new TurnClock(config.chat.turnTimeoutSeconds * 1000, () => {
      turn.stopReason ??= { kind: "timeout" };
      void proc.kill();
    });
    try {
      if (!turn.stopReason) {
        try {
          proc.send(t.message);
        } catch (err) {
          await proc.kill();
          return fail(`Could not send the message to Claude Code: ${(err as Error).message}`, "spawn_failed");
        }
        // After the message is on its way: the turn never waits for this.
        void this.opts.onMessageSent?.(agent.id, new Date()).catch((err: unknown) => this.log.warn({ err, agentId: agent.id }, "could not note the message time"));
      }
      const ended = await Promise.race([gotResult.then(() => "result" as const), proc.exited.then(() => "exited" as const)]);
      if (ended === "exited" && !result) {
        // The output may still hold the result line: give the parser a moment to drain.
        await Promise.race([gotResult, new Promise((r) => setTimeout(r, 50))]);
      }
    } finally {
      clock.stop();
      proc.onLine = null;
      if (!config.chat.warm) proc.closeInput();
    }
    // Whatever still waits for a decision has no turn to answer any more.
    if (asked && approvals) {
      const why = turn.stopReason ? (turn.stopReason.kind === "interrupt" ? `The turn was stopped by ${turn.stopReason.by}.` : turn.stopReason.kind === "timeout" ? "The turn timed out." : "Armory was stopped.") : "The turn ended.";
      await approvals.cancelRun(turn.runId, why).catch((err: unknown) => this.log.warn({ err, runId: turn.runId }, "could not cancel the turn's approvals"));
    }
    await writes.settled();

    const stop = turn.stopReason as ActiveTurn["stopReason"];
    if (stop) {
      void this.dropWarm(turn.sessionId);
      await proc.kill();
      if (stop.kind === "interrupt") return this.endRun(turn.sessionId, turn.runId, elapsed(), { status: "interrupted", message: `Stopped by ${stop.by}. The process and everything it started were killed.`, firstTokenMs });
      if (stop.kind === "shutdown") return this.endRun(turn.sessionId, turn.runId, elapsed(), { status: "interrupted", message: "Armory was stopped during this turn; the process was killed.", firstTokenMs });
      return this.endRun(turn.sessionId, turn.runId, elapsed(), { status: "failed", reason: "timeout", message: `The turn ran longer than ${config.chat.turnTimeoutSeconds} s (not counting time spent waiting for approvals) and was stopped.`, firstTokenMs });
    }

    const r = result as ResultSummary | null;
    if (r) {
      // A warm process reports running cost totals; a turn's cost is the difference. The demo
      // model costs nothing (the CLI prices its tokens as if a real model had answered).
      const costUsd = demoModel ? 0 : Math.max(0, r.totalCostUsd - proc.costSoFar);
      proc.costSoFar = r.totalCostUsd;
      const usage = { inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheReadTokens: r.cacheReadTokens, cacheCreationTokens: r.cacheCreationTokens, costUsd };
      if (config.chat.warm && proc.alive) this.parkWarm(turn.sessionId);
      else void this.dropWarm(turn.sessionId);
      if (!r.isError) {
        return this.endRun(turn.sessionId, turn.runId, elapsed(), { status: "completed", usage, firstTokenMs, numTurns: r.numTurns });
      }
      const missing = r.errors.find((e) => /no conversation found/i.test(e));
      if (missing) {
        await this.store.setClaudeSessionId(turn.sessionId, null);
        void this.dropWarm(turn.sessionId);
        return this.endRun(turn.sessionId, turn.runId, elapsed(), {
          status: "failed",
          reason: "session_missing",
          message: "The agent's container no longer has this conversation (its session store was reset). Send the message again to continue in a fresh Claude session.",
          usage,
        });
      }
      // The model gateway refused a request of this turn: the agent's or its project's budget is reached.
      const refusal = this.opts.gateway.budgetRefusal(agent.id, new Date(Date.now() - elapsed()));
      if (refusal) return this.endRun(turn.sessionId, turn.runId, elapsed(), { status: "failed", reason: "budget_reached", message: refusal.message, usage, firstTokenMs });
      const detail = r.errors.length ? r.errors.join("; ") : r.text ?? r.subtype ?? "unknown error";
      return this.endRun(turn.sessionId, turn.runId, elapsed(), { status: "failed", reason: "model_error", message: `The model failed: ${detail}`, usage, firstTokenMs });
    }

    // The process ended without a result: find out why.
    void this.dropWarm(turn.sessionId);
    const { exitCode, oomKilled, daemonLost, daemonStopping } = await proc.exited;
    let inspectError: unknown;
    const inspect = () =>
      this.opts.runtime.inspectContainer(containerId).catch((err: unknown) => {
        inspectError = err ?? new Error("inspect failed");
        return null;
      });
    let after = await inspect();
    // A daemon that said it is going away is shutting down with its container: let the engine
    // catch up (at most 5 s) so the turn says why the container stopped.
    for (let waited = 0; daemonStopping && after?.state === "running" && waited < 5000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      after = await inspect();
    }
    // An engine that went away mid-turn is reported as such, not as a removed container.
    const { reason, message } = classifyLostTurn({ after, inspectError, exitCode, oomKilled, daemonLost, memoryMb: agent.memoryMb, stderrTail: stderr.slice(-3) });
    return this.endRun(turn.sessionId, turn.runId, elapsed(), { status: "failed", reason, message, firstTokenMs });
  }

  /** The options a process of this agent gets (a conversation's own adds `resume`; a pre-warmed one `sessionId`). */
  private processOptions(agent: TurnAgent, env: Record<string, string>, cwd: string | undefined): Omit<ClaudeProcessOptions, "sessionId" | "resume"> {
    const { config } = this.opts;
    return {
      agentId: agent.id,
      warm: config.chat.warm,
      permissionMode: agent.permissionMode,
      allowedTools: agent.template.allowedTools,
      toolPolicy: effectivePolicy(agent, agent.template),
      model: agent.model,
      systemPrompt: composeSystemPrompt({ soul: loadSoul(config.dataDir), personality: agent.template.personality, agentName: agent.name }),
      env,
      cwd,
      cli: this.cli,
    };
  }

  /** What the agent's pre-warmed process would be started with: null unless its daemon is connected from its current container. */
  private async prewarmPlan(agentId: string): Promise<PrewarmPlan | null> {
    const agent = await this.opts.prisma.agent.findUnique({ where: { id: agentId }, include: turnAgentInclude });
    const daemon = this.opts.hub.info(agentId);
    if (!agent?.containerId || daemon?.state !== "connected" || (daemon.containerId && daemon.containerId !== agent.containerId)) return null;
    if (!prewarmFits(agent.memoryMb)) return null;
    const env = await this.opts.gateway.agentEnv(agent.id);
    return { options: this.processOptions(agent, env, undefined), containerId: agent.containerId };
  }

  /** Records the run's end, then publishes its terminal event. */
  private async endRun(
    sessionId: string,
    runId: string,
    durationMs: number,
    end: {
      status: "completed" | "failed" | "interrupted";
      message?: string;
      reason?: string;
      firstTokenMs?: number | null;
      numTurns?: number | null;
      usage?: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number; costUsd: number };
    },
  ): Promise<void> {
    // A turn whose end is not recorded stays "running" for every viewer: try again a few times
    // (the database may be briefly out of connections) before giving up to the next start's sweep.
    const finish = () => this.store.finishRun(runId, { status: end.status, error: end.message ?? null, durationMs, firstTokenMs: end.firstTokenMs, usage: end.usage });
    let ended = false;
    for (let attempt = 1; ; attempt++) {
      try {
        ended = await finish();
        break;
      } catch (err) {
        if (attempt >= END_RUN_ATTEMPTS) throw err;
        this.log.warn({ err, runId, attempt }, "could not record the end of a chat turn; trying again");
        await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
      }
    }
    if (!ended) return; // someone else ended it already
    const m = metrics();
    m.chatTurnDuration.observe({ outcome: end.status }, durationMs / 1000);
    if (end.usage) {
      m.chatTokens.inc({ type: "input" }, end.usage.inputTokens);
      m.chatTokens.inc({ type: "output" }, end.usage.outputTokens);
      m.chatTokens.inc({ type: "cache_read" }, end.usage.cacheReadTokens);
      m.chatTokens.inc({ type: "cache_creation" }, end.usage.cacheCreationTokens);
    }
    const type = end.status === "completed" ? "run_completed" : end.status === "failed" ? "run_failed" : "run_interrupted";
    // The run's end is delivered once it and everything before it are stored: a client that saw
    // it finds the whole run in history.
    this.bus.release(sessionId);
    await this.bus.emit(sessionId, {
      runId,
      type,
      data: {
        durationMs: Math.round(durationMs),
        firstTokenMs: end.firstTokenMs == null ? null : Math.round(end.firstTokenMs),
        message: end.message ?? null,
        reason: end.reason ?? null,
        costUsd: end.usage?.costUsd ?? 0,
        inputTokens: end.usage?.inputTokens ?? 0,
        outputTokens: end.usage?.outputTokens ?? 0,
        numTurns: end.numTurns ?? null,
      },
    });
    if (end.status !== "completed") this.log.info({ runId, sessionId, status: end.status, reason: end.reason }, "chat turn ended without completing");
  }

  // ------------------------------------------------------------------ warm processes

  /**
   * The agent's instructions (CLAUDE.md, settings...) changed: its warm processes read them at
   * start, so end them; the next turn starts a fresh process (same Claude session, --resume).
   * A process in the middle of a turn finishes the turn first.
   */
  recycleAgent(agentId: string): void {
    void this.prewarm.drop(agentId).then(() => (this.opts.config.chat.prewarm && !this.closing ? this.prewarm.fill(agentId) : undefined));
    for (const [sessionId, w] of this.warm) {
      if (w.agentId !== agentId) continue;
      if (this.active.has(sessionId)) w.stale = true;
      else void this.dropWarm(sessionId);
    }
  }

  private parkWarm(sessionId: string): void {
    const w = this.warm.get(sessionId);
    if (!w) return;
    if (w.stale) {
      void this.dropWarm(sessionId);
      return;
    }
    if (w.idleTimer) clearTimeout(w.idleTimer);
    w.idleTimer = setTimeout(() => {
      if (this.warm.get(sessionId) === w && !this.active.has(sessionId)) void this.dropWarm(sessionId);
    }, this.opts.config.chat.idleSeconds * 1000);
    w.idleTimer.unref();
    // A warm process that dies while idle is simply forgotten; the next turn starts a new one.
    void w.proc.exited.then(() => {
      if (this.warm.get(sessionId) === w && !this.active.has(sessionId)) void this.dropWarm(sessionId);
    });
  }

  private dropWarm(sessionId: string): Promise<void> {
    const w = this.warm.get(sessionId);
    if (!w) return Promise.resolve();
    this.warm.delete(sessionId);
    if (w.idleTimer) clearTimeout(w.idleTimer);
    if (!w.proc.alive) return Promise.resolve();
    w.proc.closeInput();
    return w.proc.kill();
  }

  /**
   * The Claude Code process a conversation uses now: its running turn's, else its warm one; null
   * when it has none. `pid` is the process's (and its process group's) id in the container;
   * `alive` reads the process's state when asked. For tests and diagnostics: read-only.
   */
  processOf(sessionId: string): { readonly pid: number | null; readonly alive: boolean; readonly warm: boolean } | null {
    const w = this.warm.get(sessionId);
    const proc = this.active.get(sessionId)?.proc ?? w?.proc;
    if (!proc) return null;
    return {
      pid: proc.pid,
      get alive() {
        return proc.alive;
      },
      warm: w?.proc === proc,
    };
  }

  /** Ends a conversation's warm process, if it has one (its next turn starts a new one, resuming the Claude session). */
  endWarm(sessionId: string): Promise<void> {
    return this.dropWarm(sessionId);
  }

  /** The agent's pre-warmed process for its next new conversation, if it has one ready (tests and diagnostics: read-only). */
  prewarmedOf(agentId: string) {
    return this.prewarm.of(agentId);
  }

  /** Number of warm processes kept (tests and metrics). */
  get warmCount(): number {
    return this.warm.size;
  }

  // ------------------------------------------------------------------ start-up and shut-down

  /**
   * Runs an earlier Armory process left running (it crashed, was killed or restarted): end them
   * as interrupted with a persisted event (every event stored before stays). Their processes are
   * ended by the agents' daemons when they reconnect (proc.killOthers, above).
   */
  async recover(agentIds?: string[]): Promise<number> {
    // With several instances: only the agents whose turns died with another instance (agentIds).
    const stale = (await this.store.staleRuns()).filter((r) => !agentIds || agentIds.includes(r.agentId));
    for (const r of stale) {
      if (this.active.has(r.sessionId)) continue;
      await this.endRun(r.sessionId, r.id, Date.now() - r.startedAt.getTime(), {
        status: "interrupted",
        reason: "armory_restarted",
        message: agentIds
          ? "The Armory instance running this turn stopped; the turn was stopped. Events up to then are kept; send the message again to continue."
          : "Armory restarted during this turn; the turn was stopped. Events up to the restart are kept; send the message again to continue.",
      });
    }
    if (stale.length) this.log.warn({ runs: stale.length }, "chat turns left running by a previous start were ended");
    // Their approvals have nobody waiting for them any more.
    await this.opts.approvals?.recover(agentIds);
    return stale.length;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.offDaemonState();
    const turns = [...this.active.values()];
    for (const t of turns) t.stopReason ??= { kind: "shutdown" };
    await Promise.allSettled(turns.map((t) => t.proc?.kill()));
    await Promise.allSettled(turns.map((t) => t.done));
    await Promise.allSettled([...this.warm.keys()].map((id) => this.dropWarm(id)));
    await this.prewarm.close();
    await this.bus.flush();
  }
}
