// The agent supervisor's output (docker/agent/armory-supervisor): one JSON object per stdout
// line with "type":"armory.supervisor". This turns a container log line into a typed event, or
// null for anything else (Claude Code's own output, garbage, lines from older images).
import { z } from "zod";

export const agentCapabilities = z.object({
  agentVersion: z.string().optional(),
  claudeVersion: z.string().optional(),
  writablePaths: z.array(z.string()).default([]),
  configDir: z.string().optional(),
  instructionsDir: z.string().optional(),
  instructionFiles: z.array(z.string()).default([]),
  configWatcher: z.string().optional(),
  supportedActions: z.array(z.string()).default([]),
});
export type AgentCapabilities = z.infer<typeof agentCapabilities>;

const base = { type: z.literal("armory.supervisor"), pid: z.number().optional(), time: z.iso.datetime() };

export const supervisorEvent = z.discriminatedUnion("event", [
  z.object({ ...base, event: z.literal("ready"), agentVersion: z.string().optional(), claudeVersion: z.string().optional(), capabilities: agentCapabilities }),
  z.object({ ...base, event: z.literal("config-watch"), dirs: z.array(z.string()) }),
  z.object({
    ...base,
    event: z.literal("config-reload"),
    files: z.array(z.string()),
    filesTruncated: z.boolean().default(false),
    changes: z.number().int().nonnegative(),
    firstChangeAt: z.iso.datetime(),
    burstMs: z.number().optional(),
    delayMs: z.number().optional(),
  }),
  z.object({ ...base, event: z.literal("stopping"), signal: z.string().optional() }),
  z.object({ ...base, event: z.literal("job-restarted"), job: z.string(), status: z.number().optional() }),
]);
export type SupervisorEvent = z.infer<typeof supervisorEvent>;

/** The supervisor event on this line, or null when the line is not one (never throws). */
export function parseSupervisorLine(line: string): SupervisorEvent | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{") || !trimmed.includes('"armory.supervisor"')) return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return null;
  }
  const parsed = supervisorEvent.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * A Docker log line with `timestamps: true`: "<RFC3339Nano> <text>". Returns the timestamp as
 * nanoseconds since the epoch (exact, for resuming with `since` without repeats) and the text.
 */
export function splitDockerTimestamp(line: string): { nanos: bigint; text: string } | null {
  const sp = line.indexOf(" ");
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(sp > 0 ? line.slice(0, sp) : line);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  const nanos = BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
  return { nanos, text: sp > 0 ? line.slice(sp + 1) : "" };
}

/** Docker's `since` parameter for a time in nanoseconds: "seconds.nanoseconds". */
export function dockerSince(nanos: bigint): string {
  return `${nanos / 1_000_000_000n}.${String(nanos % 1_000_000_000n).padStart(9, "0")}`;
}
