// Turns started without a person at the keyboard (schedules, inbound webhooks, the
// OpenAI-compatible endpoint, teams): send a message through the chat service, exactly as the
// chat page does, and learn how the turn ended (status, duration, cost, the model's final answer).
import type { PrismaClient } from "../db";
import type { ChatEventRecord } from "../chat/store";

/** What automation needs of the chat service (ChatService satisfies it). */
export interface ChatForAutomation {
  send(input: { projectId: string; agentId: string; sessionId?: string; message: string; userId: string | null }): Promise<{ sessionId: string; runId: string }>;
  bus: { tap(listener: (sessionId: string, e: ChatEventRecord) => void): () => void };
}

export type TurnStatus = "completed" | "failed" | "interrupted";

export interface TurnOutcome {
  sessionId: string;
  runId: string;
  status: TurnStatus;
  durationMs: number | null;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  /** The model's final answer (the CLI's result text) when the turn completed, else null. */
  result: string | null;
  /** Why the turn did not complete (the chat's own message), else null. */
  error: string | null;
  /** The chat's machine-readable reason for a failed turn (e.g. "timeout", "budget_reached"). */
  reason: string | null;
}

const TERMINAL = new Set(["run_completed", "run_failed", "run_interrupted"]);

export class AutomationTurns {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly chat: ChatForAutomation,
  ) {}

  /** Sends the message (a new session unless `sessionId` names one) and answers at once. */
  async send(input: { projectId: string; agentId: string; sessionId?: string; message: string; userId: string | null }) {
    return this.chat.send(input);
  }

  /** Sends the message and resolves when its turn has ended (never rejects once sent). */
  async run(input: { projectId: string; agentId: string; sessionId?: string; message: string; userId: string | null }, signal?: AbortSignal) {
    const sent = await this.chat.send(input);
    return { ...sent, outcome: this.outcome(sent.sessionId, sent.runId, signal) };
  }

  /**
   * Resolves when the run has ended, from the chat's terminal event or (when it ended before the
   * wait began) from the database. An aborted wait rejects with the signal's reason.
   */
  outcome(sessionId: string, runId: string, signal?: AbortSignal): Promise<TurnOutcome> {
    return new Promise<TurnOutcome>((resolve, reject) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        stop();
        signal?.removeEventListener("abort", onAbort);
        this.outcomeOf(sessionId, runId).then(resolve, reject);
      };
      const onAbort = () => {
        if (done) return;
        done = true;
        stop();
        reject(signal?.reason instanceof Error ? signal.reason : new Error("The wait for the turn was aborted."));
      };
      const stop = this.chat.bus.tap((_s, e) => {
        if (e.runId === runId && TERMINAL.has(e.type)) finish();
      });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      // Ended before the tap was in place: the run row already says so (the chat writes the row
      // before it emits the terminal event).
      void this.prisma.chatRun
        .findUnique({ where: { id: runId }, select: { status: true } })
        .then((r) => {
          if (r && r.status !== "running") finish();
        })
        .catch(() => {});
    });
  }

  /** The ended run as recorded (the run row and its last result event). */
  async outcomeOf(sessionId: string, runId: string): Promise<TurnOutcome> {
    const [run, result, end] = await Promise.all([
      this.prisma.chatRun.findUnique({ where: { id: runId } }),
      this.prisma.chatEvent.findFirst({ where: { sessionId, runId, type: "result" }, orderBy: { seq: "desc" }, select: { data: true } }),
      this.prisma.chatEvent.findFirst({ where: { sessionId, runId, type: { in: [...TERMINAL] } }, orderBy: { seq: "desc" }, select: { data: true } }),
    ]);
    if (!run) throw new Error(`chat run ${runId} not found`);
    const status: TurnStatus = run.status === "completed" ? "completed" : run.status === "interrupted" ? "interrupted" : "failed";
    const text = (result?.data as { result?: unknown } | null)?.result;
    const reason = (end?.data as { reason?: unknown } | null)?.reason;
    return {
      sessionId,
      runId,
      status,
      durationMs: run.durationMs,
      costUsd: run.costUsd,
      inputTokens: run.inputTokens,
      outputTokens: run.outputTokens,
      result: status === "completed" && typeof text === "string" ? text : null,
      error: status === "completed" ? null : run.error,
      reason: typeof reason === "string" ? reason : null,
    };
  }
}
