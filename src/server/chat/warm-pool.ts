// Pre-warmed Claude Code processes: at most one per agent, started (through the agent's daemon,
// like every chat process) when its daemon connects and again after one was used, for the agent's
// NEXT NEW conversation. It runs with the flags a new conversation's process gets plus a
// pre-assigned `--session-id`, and waits on stdin: the first message of a new conversation is
// written to it, so the CLI's start-up (seconds on a loaded machine) is off the turn's path.
// A process is only taken when the settings it was started with (model, permission mode, tool
// policy, allowed tools, system prompt, environment, working directory, container) are still the
// ones a new process would get — compared by a hash of those options; otherwise it is discarded
// and a fresh one started. It dies with its agent: a stop ends the daemon (and the process with
// it), a config reload discards it, Armory's shut-down kills it.
import { createHash, randomUUID } from "node:crypto";
import type { DaemonHub } from "../agentd/hub";
import type { Logger } from "../logger";
import { ClaudeProcess, type ClaudeProcessOptions } from "./runner";

/** What a pre-warmed process for an agent would be started with (null: the agent cannot have one now). */
export interface PrewarmPlan {
  options: Omit<ClaudeProcessOptions, "sessionId" | "resume">;
  containerId: string;
}

/** The hash of everything a process is started with (agent token included: so it is hashed, never kept). */
export function prewarmKey(options: Omit<ClaudeProcessOptions, "sessionId" | "resume">, containerId: string): string {
  const { agentId, warm, permissionMode, allowedTools, toolPolicy, model, systemPrompt, env, cwd, cli } = options;
  const env_ = Object.keys(env)
    .sort()
    .map((k) => [k, env[k]]);
  return createHash("sha256")
    .update(JSON.stringify([containerId, agentId, warm, permissionMode, allowedTools, toolPolicy, model, systemPrompt, env_, cwd ?? null, cli ?? null]))
    .digest("hex");
}

interface Entry {
  proc: ClaudeProcess;
  claudeSessionId: string;
  key: string;
}

export class PrewarmPool {
  private entries = new Map<string, Entry>();
  private filling = new Map<string, Promise<void>>();
  /** Bumped by drop(): a process whose start began before is stale when it arrives. */
  private generation = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly o: {
      hub: DaemonHub;
      log: Logger;
      plan: (agentId: string) => Promise<PrewarmPlan | null>;
    },
  ) {}

  /** Starts the agent's pre-warmed process unless it has one (or one is starting). */
  fill(agentId: string): Promise<void> {
    if (this.closed || this.entries.has(agentId)) return Promise.resolve();
    const running = this.filling.get(agentId);
    if (running) return running;
    const gen = this.generation.get(agentId) ?? 0;
    const p = this.start(agentId, gen).finally(() => {
      if (this.filling.get(agentId) === p) this.filling.delete(agentId);
    });
    this.filling.set(agentId, p);
    return p;
  }

  private async start(agentId: string, gen: number): Promise<void> {
    const plan = await this.o.plan(agentId).catch((err: unknown) => {
      this.o.log.debug({ err, agentId }, "no pre-warmed Claude Code process: its settings could not be read");
      return null;
    });
    if (!plan || this.closed) return;
    const claudeSessionId = randomUUID();
    const proc = new ClaudeProcess(this.o.hub, { ...plan.options, resume: null, sessionId: claudeSessionId });
    try {
      await proc.start();
    } catch (err) {
      this.o.log.debug({ err, agentId }, "could not pre-warm a Claude Code process");
      return;
    }
    if (this.closed || (this.generation.get(agentId) ?? 0) !== gen || this.entries.has(agentId)) {
      // Dropped (config reload, shut-down) while it started: it has stale settings.
      await proc.kill();
      if (!this.closed && !this.entries.has(agentId)) {
        this.filling.delete(agentId);
        await this.fill(agentId);
      }
      return;
    }
    const entry: Entry = { proc, claudeSessionId, key: prewarmKey(plan.options, plan.containerId) };
    this.entries.set(agentId, entry);
    // Its daemon went away (the agent stopped or restarted) or the CLI ended: forget it.
    void proc.exited.then(() => {
      if (this.entries.get(agentId) === entry) this.entries.delete(agentId);
    });
  }

  /**
   * The agent's pre-warmed process for a new conversation whose process would have `key`; null when
   * it has none ready. One started with other settings is discarded (and a fresh one started).
   * The caller owns the returned process; the pool starts the next one on fill().
   */
  take(agentId: string, key: string): { proc: ClaudeProcess; claudeSessionId: string } | null {
    const e = this.entries.get(agentId);
    if (!e) return null;
    this.entries.delete(agentId);
    if (e.proc.alive && e.key === key) return { proc: e.proc, claudeSessionId: e.claudeSessionId };
    void e.proc.kill().then(() => this.fill(agentId));
    if (e.proc.alive) this.o.log.info({ agentId }, "pre-warmed Claude Code process discarded: the agent's settings changed since it started");
    return null;
  }

  /** Ends the agent's pre-warmed process (and one still starting). */
  async drop(agentId: string): Promise<void> {
    this.generation.set(agentId, (this.generation.get(agentId) ?? 0) + 1);
    const e = this.entries.get(agentId);
    this.entries.delete(agentId);
    if (e) await e.proc.kill();
  }

  /** The process ids the agent's daemon must keep (proc.killOthers). */
  procIds(agentId: string): string[] {
    const e = this.entries.get(agentId);
    return e ? [e.proc.procId] : [];
  }

  /** The agent's pre-warmed process (tests and diagnostics: read-only). */
  of(agentId: string): { readonly pid: number | null; readonly alive: boolean; readonly claudeSessionId: string; readonly exited: Promise<unknown> } | null {
    const e = this.entries.get(agentId);
    if (!e) return null;
    const proc = e.proc;
    return {
      pid: proc.pid,
      get alive() {
        return proc.alive;
      },
      claudeSessionId: e.claudeSessionId,
      exited: proc.exited,
    };
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.filling.values()]);
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(all.map((e) => e.proc.kill()));
  }
}
