// Schedules (issue 18): a cron expression in an IANA time zone that sends a message to an agent.
// The rules here (what cron and zone are accepted, when a schedule fires next) are shared by the
// service, the router and the browser (the create dialog previews the next fire times with them).
import { Cron } from "croner";
import { z } from "zod";

export const SCHEDULE_SESSION_MODES = ["new", "named"] as const;
export const SCHEDULE_CATCH_UP = ["once", "skip"] as const;
export const SCHEDULE_RUN_STATUSES = ["running", "completed", "failed", "interrupted", "skipped"] as const;
export type ScheduleSessionMode = (typeof SCHEDULE_SESSION_MODES)[number];
export type ScheduleCatchUp = (typeof SCHEDULE_CATCH_UP)[number];
export type ScheduleRunStatus = (typeof SCHEDULE_RUN_STATUSES)[number];

export const SCHEDULE_LIMITS = { name: 100, cron: 100, timeZone: 64, message: 20_000, sessionName: 100, reason: 2000 } as const;

/** The reasons a run is recorded as skipped. */
export const SKIP_REASONS = {
  busy: "previous run still running",
  missed: "missed while Armory was down",
} as const;

/**
 * Why `zone` is not an IANA time zone this runtime knows (e.g. "Europe/Berlin", "UTC"), else
 * null. UTC offsets ("+02:00") are refused: an offset has no daylight-saving rules.
 */
export function timeZoneProblem(zone: string): string | null {
  if (!zone) return "timeZone: choose a time zone (an IANA name such as Europe/Berlin or UTC).";
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return `timeZone: "${zone.slice(0, 64)}" is not an IANA time zone name (such as Europe/Berlin or UTC).`;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return null;
  } catch {
    return `timeZone: "${zone}" is not a known time zone (use an IANA name such as Europe/Berlin or UTC).`;
  }
}

function cronOf(cron: string, timeZone: string): Cron {
  return new Cron(cron, { timezone: timeZone, paused: true });
}

/**
 * Why `cron` is not a usable schedule, else null. Five fields (minute hour day-of-month month
 * day-of-week) or a nickname (@hourly, @daily, @weekly, @monthly, @yearly): at most once a
 * minute, so seconds fields are refused. A cron that never fires (30 February) is refused too.
 */
export function cronProblem(cron: string, timeZone = "UTC"): string | null {
  const text = cron.trim();
  if (!text) return "cron: enter a cron expression, e.g. 0 9 * * 1-5 (09:00 on weekdays).";
  if (text.length > SCHEDULE_LIMITS.cron) return `cron: at most ${SCHEDULE_LIMITS.cron} characters.`;
  const fields = text.split(/\s+/);
  if (!text.startsWith("@") && fields.length !== 5) {
    return fields.length > 5
      ? "cron: use five fields (minute hour day-of-month month day-of-week); schedules fire at most once a minute, so seconds are not supported."
      : "cron: use five fields (minute hour day-of-month month day-of-week), e.g. 0 9 * * 1-5.";
  }
  if (text.startsWith("@") && !/^@(yearly|annually|monthly|weekly|daily|hourly)$/i.test(text)) {
    return "cron: the nicknames are @hourly, @daily, @weekly, @monthly and @yearly.";
  }
  if (timeZoneProblem(timeZone)) return null; // the zone's own problem is reported on its field
  try {
    const next = cronOf(text, timeZone).nextRun();
    if (!next) return "cron: this expression never fires.";
  } catch (err) {
    const message = (err as Error).message.replace(/^CronPattern:\s*/, "");
    return `cron: ${message}`;
  }
  return null;
}

/** The next `count` fire times strictly after `after` (none when the cron or zone is invalid). */
export function nextFireTimes(cron: string, timeZone: string, count: number, after: Date): Date[] {
  if (cronProblem(cron, timeZone) || timeZoneProblem(timeZone)) return [];
  return cronOf(cron.trim(), timeZone).nextRuns(count, after);
}

/** The next fire time strictly after `after`, or null when there is none. */
export function nextFireTime(cron: string, timeZone: string, after: Date): Date | null {
  return nextFireTimes(cron, timeZone, 1, after)[0] ?? null;
}

export const scheduleView = z.object({
  id: z.string().max(64),
  projectId: z.string().max(64),
  agentId: z.string().max(64),
  agentName: z.string().max(200),
  name: z.string().max(SCHEDULE_LIMITS.name),
  cron: z.string().max(SCHEDULE_LIMITS.cron),
  timeZone: z.string().max(SCHEDULE_LIMITS.timeZone),
  message: z.string().max(SCHEDULE_LIMITS.message),
  session: z.enum(SCHEDULE_SESSION_MODES),
  sessionName: z.string().max(SCHEDULE_LIMITS.sessionName).nullable(),
  /** The named session's id once its first run created it. */
  sessionId: z.string().max(64).nullable(),
  catchUp: z.enum(SCHEDULE_CATCH_UP),
  enabled: z.boolean(),
  nextRunAt: z.date().nullable(),
  createdBy: z.object({ id: z.string().max(64), name: z.string().max(200) }).nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  lastRun: z.object({ status: z.enum(SCHEDULE_RUN_STATUSES), scheduledFor: z.date(), endedAt: z.date().nullable() }).nullable(),
});
export type ScheduleView = z.infer<typeof scheduleView>;

export const scheduleRunView = z.object({
  id: z.string().max(64),
  scheduleId: z.string().max(64),
  scheduleName: z.string().max(SCHEDULE_LIMITS.name),
  agentId: z.string().max(64),
  scheduledFor: z.date(),
  startedAt: z.date(),
  endedAt: z.date().nullable(),
  status: z.enum(SCHEDULE_RUN_STATUSES),
  reason: z.string().max(SCHEDULE_LIMITS.reason).nullable(),
  sessionId: z.string().max(64).nullable(),
  runId: z.string().max(64).nullable(),
  durationMs: z.number().int().nullable(),
  costUsd: z.number(),
  manual: z.boolean(),
});
export type ScheduleRunView = z.infer<typeof scheduleRunView>;

/** What changed, as the schedule.onChange subscription tells the page (it then re-reads). */
export const scheduleChange = z.object({
  kind: z.enum(["schedule", "run"]),
  scheduleId: z.string().max(64),
  agentId: z.string().max(64),
});
export type ScheduleChange = z.infer<typeof scheduleChange>;
