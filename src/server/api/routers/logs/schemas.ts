// logs.* input and output schemas.
import { z } from "zod";
import { agentRef } from "../agent/schemas";

export const LOG_LINES_MAX = 10_000;

export const logLine = z.object({
  timestamp: z.date(),
  /** The container's stdout or stderr, or "armory": Armory's own lines about the agent (chat turns). */
  stream: z.enum(["stdout", "stderr", "armory"]),
  message: z.string(),
});
export type LogLineView = z.infer<typeof logLine>;

export const logsTailInput = agentRef.extend({
  lines: z
    .number({ error: "lines must be a number" })
    .int("lines must be a whole number")
    .min(1, "lines must be at least 1")
    .max(LOG_LINES_MAX, `lines must be at most ${LOG_LINES_MAX}`)
    .default(100),
});
export const logsTailOutput = z.object({ lines: z.array(logLine) });

export const logsFollowInput = agentRef.extend({
  /** Lines of history to send first. */
  tail: z.number().int().min(0).max(LOG_LINES_MAX).default(0),
});
