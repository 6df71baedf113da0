// schedule.* schemas. Cron and time zone are checked by the service (src/contracts/schedules.ts:
// cronProblem, timeZoneProblem), which answers 400 naming the field.
import { z } from "zod";
import {
  SCHEDULE_CATCH_UP,
  SCHEDULE_LIMITS,
  SCHEDULE_SESSION_MODES,
  scheduleChange,
  scheduleRunView,
  scheduleView,
} from "../../../../contracts/schedules";
import { agentIdSchema } from "../../schemas/ids";

const scheduleId = z.uuid({ error: "scheduleId must be a schedule id (a UUID)" });
const runId = z.uuid({ error: "cursor must be a schedule run id (a UUID)" });

const fields = {
  name: z.string({ error: "A schedule needs a name" }).trim().min(1, "A schedule needs a name").max(SCHEDULE_LIMITS.name, `Schedule names are at most ${SCHEDULE_LIMITS.name} characters`),
  cron: z.string({ error: "cron: enter a cron expression" }).trim().min(1, "cron: enter a cron expression").max(SCHEDULE_LIMITS.cron, `cron: at most ${SCHEDULE_LIMITS.cron} characters`),
  timeZone: z.string().trim().min(1, "timeZone: choose a time zone").max(SCHEDULE_LIMITS.timeZone, `timeZone: at most ${SCHEDULE_LIMITS.timeZone} characters`),
  message: z.string({ error: "message: a schedule needs a message" }).max(SCHEDULE_LIMITS.message, `message: at most ${SCHEDULE_LIMITS.message} characters`).refine((m) => m.trim().length > 0, "message: a schedule needs a message"),
  session: z.enum(SCHEDULE_SESSION_MODES, { error: `session must be one of ${SCHEDULE_SESSION_MODES.join(", ")}` }),
  sessionName: z.string().trim().max(SCHEDULE_LIMITS.sessionName, `sessionName: at most ${SCHEDULE_LIMITS.sessionName} characters`).nullable(),
  catchUp: z.enum(SCHEDULE_CATCH_UP, { error: `catchUp must be one of ${SCHEDULE_CATCH_UP.join(", ")}` }),
  enabled: z.boolean(),
};

export const scheduleCreateInput = z.object({
  name: fields.name,
  cron: fields.cron,
  timeZone: fields.timeZone.optional(),
  message: fields.message,
  session: fields.session.optional(),
  sessionName: fields.sessionName.optional(),
  catchUp: fields.catchUp.optional(),
  enabled: fields.enabled.optional(),
});
export const scheduleUpdateInput = z.object({
  scheduleId,
  name: fields.name.optional(),
  cron: fields.cron.optional(),
  timeZone: fields.timeZone.optional(),
  message: fields.message.optional(),
  session: fields.session.optional(),
  sessionName: fields.sessionName.optional(),
  catchUp: fields.catchUp.optional(),
  enabled: fields.enabled.optional(),
});
export const scheduleRefInput = z.object({ scheduleId });
export const scheduleListInput = z.object({ agentId: agentIdSchema.optional() });
export const scheduleRunsInput = z.object({
  agentId: agentIdSchema.optional(),
  scheduleId: scheduleId.optional(),
  cursor: runId.nullable().optional(),
  limit: z.number().int().min(1).max(100).default(25),
});

export const scheduleOutput = scheduleView;
export const scheduleListOutput = z.array(scheduleView).max(10_000);
export const scheduleRunOutput = scheduleRunView;
export const scheduleRunsOutput = z.object({ items: z.array(scheduleRunView).max(100), nextCursor: z.string().max(64).nullable() });
export const scheduleDeleteOutput = z.object({ id: z.string().max(64), deleted: z.literal(true) });
export const scheduleChangeOutput = scheduleChange;
