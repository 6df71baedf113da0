// Why a turn ended without a result, from what Armory could find out afterwards: the container's
// state, the process's exit code, or that the Docker engine itself could not be asked (it went
// away during the turn: that is not a removed container).
import { isEngineUnreachable, type ObservedContainer } from "../runtime";
import { DomainError } from "../domain/errors";

export interface LostTurn {
  reason: "engine_unreachable" | "container_oom" | "container_stopped" | "process_killed" | "process_oom" | "daemon_lost" | "cli_exit";
  message: string;
}

/** Did asking the engine fail because the engine is gone (not because of the container)? */
export function engineWentAway(err: unknown): boolean {
  if (isEngineUnreachable(err)) return true;
  // inspectContainer wraps engine failures: unreachable ones become engineUnavailable's PRECONDITION_FAILED.
  return err instanceof DomainError && err.code === "PRECONDITION_FAILED" && /Docker engine is not reachable/.test(err.message);
}

export function classifyLostTurn(opts: {
  /** The container as inspected after the process ended (null: the engine says it does not exist). */
  after: ObservedContainer | null;
  /** Set when inspecting failed. */
  inspectError?: unknown;
  exitCode: number | null;
  /** armoryd saw the kernel's OOM killer end the process. */
  oomKilled?: boolean;
  /** The daemon running the process restarted or was killed (the process went with it). */
  daemonLost?: boolean;
  memoryMb: number;
  stderrTail: string[];
}): LostTurn {
  const { after, inspectError, exitCode, memoryMb } = opts;
  if (inspectError !== undefined) {
    const why = inspectError instanceof Error ? inspectError.message : String(inspectError);
    return {
      reason: "engine_unreachable",
      message: engineWentAway(inspectError)
        ? "Armory lost the connection to the Docker engine during the turn, so the turn's end is unknown. The agent's container may still be running: send the message again once the engine is back."
        : `The turn's process ended and the Docker engine could not say why: ${why}`,
    };
  }
  if (!after || after.state !== "running") {
    return after?.oomKilled
      ? { reason: "container_oom", message: `The agent's container was killed for running out of memory (limit ${memoryMb} MB) during the turn.` }
      : { reason: "container_stopped", message: `The agent's container stopped during the turn (${after ? after.detail ?? after.state : "it was removed"}).` };
  }
  if (opts.oomKilled) {
    return { reason: "process_oom", message: `Claude Code was killed by the kernel for running out of memory (the agent's limit is ${memoryMb} MB).` };
  }
  if (opts.daemonLost) {
    return {
      reason: "daemon_lost",
      message: "The agent's daemon (armoryd) restarted during the turn, and Claude Code with it. The conversation is kept: send the message again to continue.",
    };
  }
  if (exitCode === 137) {
    return { reason: "process_killed", message: `Claude Code was killed (exit code 137), most likely for running out of memory (the agent's limit is ${memoryMb} MB).` };
  }
  const tail = opts.stderrTail.join(" | ");
  return { reason: "cli_exit", message: `Claude Code exited with code ${exitCode ?? "unknown"} without finishing the turn${tail ? `: ${tail}` : "."}` };
}
