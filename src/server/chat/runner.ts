// One Claude Code CLI process in an agent's container, speaking stream-json both ways:
// `claude -p --input-format stream-json --output-format stream-json --verbose
// --include-partial-messages`. A warm process keeps stdin open and takes one turn after another;
// a one-shot process gets one message and its stdin closed. The process runs as the agent user
// in its own session (setsid) and records the session id in a pid file, so kill() stops it and
// every child it started (Bash tool commands included).
import { randomUUID } from "node:crypto";
import type Docker from "dockerode";
import { AGENT_UID, WORKSPACE_DIR } from "../runtime/docker/containers";
import { killSession, sessionLeaderCmd, startExec, type ExecProcess } from "../runtime/docker/exec";
import { jsonLines } from "../streams/ndjson";
import { parseStreamJsonEvent, type StreamJsonEvent } from "../streams/stream-json";
import { LineSplitter } from "../streams/ndjson";

export const PID_GLOB = "/tmp/armory-chat-*.pid";
export const MEMORY_FILE = "/home/agent/.claude/memory.md";

export type ProcessLine =
  | { kind: "cli"; event: StreamJsonEvent }
  | { kind: "invalid_line"; line: string; error: string }
  | { kind: "overflow"; length: number }
  | { kind: "stderr"; text: string };

export interface ClaudeProcessOptions {
  containerId: string;
  warm: boolean;
  permissionMode: string;
  allowedTools: string[];
  model: string;
  resume: string | null;
  systemPrompt: string;
  env: Record<string, string>;
  /** The CLI binary in the container (the benchmark substitutes a fake NDJSON emitter). */
  cli?: string;
}

const SCRIPT = `p="$ARMORY_SYSTEM_PROMPT"
if [ -s "$ARMORY_MEMORY_FILE" ]; then p="$p

## Your memory notes ($ARMORY_MEMORY_FILE)
$(head -c 65536 "$ARMORY_MEMORY_FILE")"; fi
exec "$ARMORY_CLI" "$@" --append-system-prompt "$p"`;

export function claudeArgs(o: Pick<ClaudeProcessOptions, "permissionMode" | "allowedTools" | "model" | "resume">): string[] {
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
    ...(o.allowedTools.length ? ["--allowedTools", o.allowedTools.join(",")] : []),
    ...(o.model ? ["--model", o.model] : []),
    ...(o.resume ? ["--resume", o.resume] : []),
  ];
}

/** A user message as one stream-json input line. */
export function userMessageLine(text: string): string {
  return JSON.stringify({ type: "user", message: { role: "user", content: [{ type: "text", text }] }, parent_tool_use_id: null, session_id: "" }) + "\n";
}

export class ClaudeProcess {
  readonly pidFile = `/tmp/armory-chat-${randomUUID()}.pid`;
  private exec: ExecProcess | null = null;
  private exitInfo: { exitCode: number | null } | null = null;
  /** Receives every line of the current turn; null between turns. */
  onLine: ((line: ProcessLine) => void) | null = null;
  /** Cumulative total_cost_usd of this process (a warm process reports running totals). */
  costSoFar = 0;
  turns = 0;
  exited!: Promise<{ exitCode: number | null }>;

  constructor(
    private readonly docker: Docker,
    readonly opts: ClaudeProcessOptions,
  ) {}

  get alive(): boolean {
    return !!this.exec && !this.exitInfo;
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.exec = await startExec(this.docker, o.containerId, {
      cmd: sessionLeaderCmd(this.pidFile, SCRIPT, claudeArgs(o)),
      env: {
        ...o.env,
        ANTHROPIC_MODEL: o.model,
        ARMORY_SYSTEM_PROMPT: o.systemPrompt,
        ARMORY_MEMORY_FILE: MEMORY_FILE,
        ARMORY_CLI: o.cli ?? "claude",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_ERROR_REPORTING: "1",
      },
      user: `${AGENT_UID}:${AGENT_UID}`,
      workingDir: WORKSPACE_DIR,
      stdin: true,
    });
    const emit = (l: ProcessLine) => this.onLine?.(l);
    const parser = jsonLines<unknown>({
      onValue: (v) => emit({ kind: "cli", event: parseStreamJsonEvent(v) }),
      onInvalid: (line, err) => emit({ kind: "invalid_line", line, error: err.message }),
      onOverflow: (length) => emit({ kind: "overflow", length }),
    });
    this.exec.stdout.on("data", (d: Buffer) => parser.push(d));
    this.exec.stdout.on("end", () => parser.end());
    const errLines = new LineSplitter({ maxLineLength: 64 * 1024 });
    this.exec.stderr.on("data", (d: Buffer) => {
      for (const text of errLines.push(d)) if (text.trim()) emit({ kind: "stderr", text });
    });
    this.exec.stderr.on("end", () => {
      for (const text of errLines.end()) if (text.trim()) emit({ kind: "stderr", text });
    });
    this.exited = this.exec.exited.then((info) => {
      this.exitInfo = info;
      return info;
    });
  }

  /** Sends one user message; a one-shot process then gets its stdin closed. */
  send(message: string): void {
    const stdin = this.exec?.stdin;
    if (!stdin) throw new Error("process not started");
    this.turns++;
    stdin.write(userMessageLine(message));
    if (!this.opts.warm) this.closeInput();
  }

  closeInput(): void {
    try {
      this.exec?.stdin?.end();
    } catch {
      // already closed
    }
  }

  /** Stops the process and all its children; resolves when its output has ended. */
  async kill(): Promise<void> {
    if (!this.exec) return;
    if (this.alive) {
      await killSession(this.docker, this.opts.containerId, this.pidFile, `${AGENT_UID}:${AGENT_UID}`).catch(() => {});
      // The exec ends when the process is gone; don't wait forever if the engine says nothing.
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
      this.exec.detach();
    }
  }
}
