// One Claude Code CLI process in an agent's container, run by the agent's daemon (armoryd) and
// speaking stream-json both ways: `claude -p --input-format stream-json --output-format
// stream-json --verbose --include-partial-messages`. A warm process keeps stdin open and takes one
// turn after another; a one-shot process gets one message, and its stdin is closed when the turn
// ends (stdin stays open meanwhile: answers to the CLI's permission prompts go over it, see
// src/server/approvals/control.ts). armoryd runs it as
// the agent user in its own process group (so kill() stops it and every child it started, Bash
// tool commands included), appends the memory notes to the system prompt, and relays its stdout
// lines as sequenced events (src/contracts/armoryd.ts): no engine call on a turn's path.
import { randomUUID } from "node:crypto";
import { MEMORY_FILE, WORKSPACE_DIR } from "../../contracts/armoryd";
import type { ToolPolicy } from "../../contracts/approvals";
import type { DaemonHub, ProcEvent } from "../agentd/hub";
import { parseControlLine, type ControlLine } from "../approvals/control";
import { parseStreamJsonEvent, type StreamJsonEvent } from "../streams/stream-json";

export type ProcessLine =
  | { kind: "cli"; event: StreamJsonEvent }
  /** A control line of the permission prompt protocol (not a conversation event). */
  | { kind: "control"; control: ControlLine }
  | { kind: "invalid_line"; line: string; error: string }
  | { kind: "overflow"; length: number }
  | { kind: "stderr"; text: string };

export interface ProcessExit {
  exitCode: number | null;
  /** The kernel's OOM killer ended it. */
  oomKilled: boolean;
  /** The daemon that ran it restarted (or was killed), so the process is gone with it. */
  daemonLost: boolean;
  /** The daemon said it was going away (its container is stopping). */
  daemonStopping?: boolean;
}

export interface ClaudeProcessOptions {
  agentId: string;
  warm: boolean;
  permissionMode: string;
  allowedTools: string[];
  /** Claude Code permission rules (passed as --settings); `ask` rules and unlisted tools raise approvals. */
  toolPolicy: ToolPolicy;
  model: string;
  resume: string | null;
  /** A new conversation's pre-assigned Claude session id (`--session-id`; a pre-warmed process, src/server/chat/warm-pool.ts). */
  sessionId?: string;
  systemPrompt: string;
  env: Record<string, string>;
  /** The working directory (the session's git worktree), default /workspace. */
  cwd?: string;
  /** The CLI binary in the container (the benchmark substitutes a fake NDJSON emitter). */
  cli?: string;
}

/** The --settings JSON carrying a tool policy (null: nothing to pass). */
export function policySettings(policy: ToolPolicy | undefined): string | null {
  if (!policy || (!policy.allow.length && !policy.ask.length && !policy.deny.length)) return null;
  return JSON.stringify({ permissions: { allow: policy.allow, ask: policy.ask, deny: policy.deny } });
}

export function claudeArgs(o: Pick<ClaudeProcessOptions, "permissionMode" | "allowedTools" | "model" | "resume" | "sessionId"> & { toolPolicy?: ToolPolicy }): string[] {
  const settings = policySettings(o.toolPolicy);
  return [
    "-p",
    "--input-format",
    "stream-json",
    "--output-format",
    "stream-json",
    "--verbose",
    "--include-partial-messages",
    "--permission-mode",
    o.permissionMode,
    // Permission prompts come to Armory as control requests (approvals) instead of failing the call.
    "--permission-prompt-tool",
    "stdio",
    ...(o.allowedTools.length ? ["--allowedTools", o.allowedTools.join(",")] : []),
    ...(settings ? ["--settings", settings] : []),
    ...(o.model ? ["--model", o.model] : []),
    ...(o.resume ? ["--resume", o.resume] : []),
    ...(o.sessionId && !o.resume ? ["--session-id", o.sessionId] : []),
  ];
}

/** A user message as one stream-json input line. */
export function userMessageLine(text: string): string {
  return JSON.stringify({ type: "user", message: { role: "user", content: [{ type: "text", text }] }, parent_tool_use_id: null, session_id: "" }) + "\n";
}

/** How long a process's daemon may stay disconnected (a network cut) before the process counts as lost. */
export const LOST_AFTER_MS = 10_000;

export class ClaudeProcess {
  readonly procId = `chat-${randomUUID()}`;
  private started = false;
  private exitInfo: ProcessExit | null = null;
  private resolveExit!: (e: ProcessExit) => void;
  private offEvents: (() => void) | null = null;
  private offDaemon: (() => void) | null = null;
  private offState: (() => void) | null = null;
  private lostTimer: NodeJS.Timeout | null = null;
  /** The process's pid in the container (its process group's id too). */
  pid: number | null = null;
  /** Receives every line of the current turn; null between turns. */
  onLine: ((line: ProcessLine) => void) | null = null;
  /** Cumulative total_cost_usd of this process (a warm process reports running totals). */
  costSoFar = 0;
  turns = 0;
  readonly exited: Promise<ProcessExit> = new Promise((r) => (this.resolveExit = r));

  constructor(
    private readonly hub: DaemonHub,
    readonly opts: ClaudeProcessOptions,
  ) {}

  get alive(): boolean {
    return this.started && !this.exitInfo;
  }

  private exit(e: ProcessExit): void {
    if (this.exitInfo) return;
    this.exitInfo = e;
    this.offEvents?.();
    this.offDaemon?.();
    this.offState?.();
    if (this.lostTimer) clearTimeout(this.lostTimer);
    this.resolveExit(e);
  }

  private onEvent(e: ProcEvent): void {
    switch (e.type) {
      case "proc.line": {
        let value: unknown;
        try {
          value = JSON.parse(e.line);
        } catch (err) {
          this.onLine?.({ kind: "invalid_line", line: e.line.slice(0, 4096), error: (err as Error).message });
          return;
        }
        const control = parseControlLine(value);
        this.onLine?.(control ? { kind: "control", control } : { kind: "cli", event: parseStreamJsonEvent(value) });
        return;
      }
      case "proc.overflow":
        this.onLine?.({ kind: "overflow", length: e.length });
        return;
      case "proc.stderr":
        if (e.text.trim()) this.onLine?.({ kind: "stderr", text: e.text });
        return;
      case "proc.exit":
        this.exit({ exitCode: e.exitCode, oomKilled: e.oomKilled, daemonLost: false });
        return;
    }
  }

  /** Starts the process through the agent's daemon (throws when the daemon is not connected or refuses). */
  async start(): Promise<void> {
    const o = this.opts;
    const daemon = this.hub.info(o.agentId);
    this.offEvents = this.hub.onProcEvent(o.agentId, this.procId, (e) => this.onEvent(e));
    // A different daemon connecting means the one running this process restarted: it is gone.
    this.offDaemon = this.hub.onDaemon((info) => {
      if (info.agentId === o.agentId && info.daemonId !== daemon?.daemonId) this.exit({ exitCode: null, oomKilled: false, daemonLost: true });
    });
    // A daemon that goes away (1001: the container stops) takes the process with it; one whose
    // connection broke has LOST_AFTER_MS to come back (then it replays what the process wrote).
    this.offState = this.hub.onState((info) => {
      if (info.agentId !== o.agentId || info.daemonId !== daemon?.daemonId) return;
      if (info.state === "connected") {
        if (this.lostTimer) clearTimeout(this.lostTimer);
        this.lostTimer = null;
        return;
      }
      const lost = () => this.exit({ exitCode: null, oomKilled: false, daemonLost: true, daemonStopping: info.closeCode === 1001 });
      if (info.closeCode === 1001) lost();
      else this.lostTimer ??= setTimeout(lost, LOST_AFTER_MS);
    });
    try {
      const { pid } = await this.hub.request(o.agentId, "proc.spawn", {
        procId: this.procId,
        argv: [o.cli ?? "claude", ...claudeArgs(o)],
        env: {
          ...o.env,
          ANTHROPIC_MODEL: o.model,
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
          DISABLE_TELEMETRY: "1",
          DISABLE_AUTOUPDATER: "1",
          DISABLE_ERROR_REPORTING: "1",
        },
        cwd: this.opts.cwd ?? WORKSPACE_DIR,
        systemPrompt: o.systemPrompt,
        memoryFile: MEMORY_FILE,
        // stdin stays open for the turn: permission answers go over it; closeInput() ends a one-shot process's input.
        oneShot: false,
      });
      this.pid = pid;
    } catch (err) {
      this.offEvents();
      this.offDaemon();
      this.offState();
      throw err;
    }
    this.started = true;
  }

  /** Sends one user message (a one-shot process's stdin is closed by closeInput() when its turn ends). */
  send(message: string): void {
    if (!this.started) throw new Error("process not started");
    this.turns++;
    this.hub.request(this.opts.agentId, "proc.write", { procId: this.procId, data: userMessageLine(message) }).catch(() => {
      // The daemon is gone or the process ended: the turn learns it from the exit.
    });
  }

  /** Writes one line to the CLI's stdin (a control_response). */
  write(line: string): void {
    if (!this.alive) return;
    this.hub.request(this.opts.agentId, "proc.write", { procId: this.procId, data: line }).catch(() => {
      // The daemon is gone or the process ended: the turn learns it from the exit.
    });
  }

  closeInput(): void {
    if (!this.alive) return;
    this.hub.request(this.opts.agentId, "proc.closeInput", { procId: this.procId }).catch(() => {});
  }

  /** Stops the process and all its children; resolves when it has ended (or the daemon cannot be asked). */
  async kill(): Promise<void> {
    if (!this.alive) return;
    try {
      await this.hub.request(this.opts.agentId, "proc.kill", { procId: this.procId, graceMs: 500 }, { timeoutMs: 5000 });
    } catch {
      // Not connected: the process cannot be asked; the daemon kills what Armory no longer knows when it reconnects.
    }
    // The exit event follows the kill's answer; do not wait forever if it never comes.
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
    this.exit({ exitCode: null, oomKilled: false, daemonLost: false });
  }
}
