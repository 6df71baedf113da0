// Pre-warmed Claude Code processes: at most one per agent, started (through the agent's daemon,
// like every chat process) when its daemon connects and again after one was used, for the agent's
// NEXT NEW conversation. It runs with the flags a new conversation's process gets plus a
// pre-assigned `--session-id`, and waits on stdin: the first message of a new conversation is
// written to it, so the CLI's start-up (seconds on a loaded machine) is off the turn's path.
// A process is only taken when the settings it was started with (model, permission mode, tool
// policy, allowed tools, system prompt, environment, working directory, container) are still the
// ones a new process would get — compared by a hash of those options — and the agent's memory
// notes (which armoryd appends to the system prompt when it starts the process, and which the
// agent itself may rewrite at any time) are still what they were when it started: read back from
// the container when it is taken (one daemon round trip). Otherwise it is discarded and a fresh
// one started. It dies with its agent: a stop ends the daemon (and the process with
// it), a config reload discards it, Armory's shut-down kills it.
import { createHash, randomUUID } from "node:crypto";
import type { DaemonHub } from "../agentd/hub";
import type { Logger } from "../logger";
import { CLAUDE_CONFIG_DIR, MEMORY_FILE } from "../../contracts/armoryd";
import { ClaudeProcess, type ClaudeProcessOptions } from "./runner";

/** What a pre-warmed process for an agent would be started with (null: the agent cannot have one now). */
/**
 * The smallest memory limit (MB) an agent is pre-warmed at: an idle process takes about 150 MB, and
 * a follow-up turn of another conversation starts its own beside it, so below this the idle one
 * would push the agent into the out-of-memory killer instead of saving it a start-up.
 */
export const PREWARM_MIN_MEMORY_MB = 512;

/** Whether an agent with this memory limit gets a pre-warmed process. */
export function prewarmFits(memoryMb: number): boolean {
  return memoryMb >= PREWARM_MIN_MEMORY_MB;
}

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
  /** The memory notes as they were just before the process started (memoryStamp). */
  memory: string;
}

/** Memory notes up to this size are compared by content; bigger ones by the error that names their size. */
const MEMORY_STAMP_MAX_BYTES = 1024 * 1024;

export class PrewarmPool {
  private entries = new Map<string, Entry>();
  private filling = new Map<string, Promise<void>>();
  /** Bumped by drop(): a process whose start began before is stale when it arrives. */
  private generation = new Map<string, number>();
  private closed = false;

  /** The agent's memory notes as a hash of their content (or of why they cannot be read: missing, too large). */
  private async memoryStamp(agentId: string): Promise<string> {
    try {
      const r = await this.o.hub.request(agentId, "fs.read", { root: CLAUDE_CONFIG_DIR, path: MEMORY_FILE, maxBytes: MEMORY_STAMP_MAX_BYTES });
      return createHash("sha256").update(r.content).digest("hex");
    } catch (err) {
      return `unreadable: ${(err as Error).message}`;
    }
  }

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
    // Read before the start: a change in between makes the process newer than its stamp (discarded when taken), never older.
    const memory = await this.memoryStamp(agentId);
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
    const entry: Entry = { proc, claudeSessionId, key: prewarmKey(plan.options, plan.containerId), memory };
    this.entries.set(agentId, entry);
    // Its daemon went away (the agent stopped or restarted) or the CLI ended: forget it.
    void proc.exited.then(() => {
      if (this.entries.get(agentId) === entry) this.entries.delete(agentId);
    });
  }

  /**
   * The agent's pre-warmed process for a new conversation whose process would have `key`; null when
   * it has none ready. One started with other settings or memory notes is discarded (and a fresh one started).
   * The caller owns the returned process; the pool starts the next one on fill().
   */
  async take(agentId: string, key: string): Promise<{ proc: ClaudeProcess; claudeSessionId: string } | null> {
    const e = this.entries.get(agentId);
    if (!e) return null;
    this.entries.delete(agentId);
    if (e.proc.alive && e.key === key && (await this.memoryStamp(agentId)) === e.memory && e.proc.alive) return { proc: e.proc, claudeSessionId: e.claudeSessionId };
    if (e.proc.alive) this.o.log.info({ agentId }, "pre-warmed Claude Code process discarded: the agent's settings or memory notes changed since it started");
    void e.proc.kill().then(() => this.fill(agentId));
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
