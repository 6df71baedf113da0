// Schedules: cron expressions (in their own time zone) that send a message to an agent, and the
// scheduler that fires them.
//
// - One timer, armed for the earliest nextRunAt of the enabled schedules, re-armed on every change.
// - A fire time is CLAIMED by inserting its ScheduleRun row: (scheduleId, scheduledFor) is unique,
//   so with several Armory instances on one PostgreSQL exactly one of them runs it.
// - A schedule never runs twice at once: when its previous run is still running, the fire time is
//   recorded as a skipped run ("previous run still running").
// - The message goes through `turns.run` (the chat service, userId null) and the run records the
//   turn's outcome, duration and cost. The audit log names the schedule as the actor.
// - On start: runs a crashed Armory left "running" are joined to their chat run's outcome (or
//   ended as failed), and schedules whose nextRunAt passed while Armory was down run once
//   (catchUp "once") or get one skipped run recorded (catchUp "skip"); nextRunAt then moves past now.
import {
  cronProblem,
  nextFireTime,
  SCHEDULE_LIMITS,
  SKIP_REASONS,
  timeZoneProblem,
  type ScheduleCatchUp,
  type ScheduleChange,
  type ScheduleRunView,
  type ScheduleSessionMode,
  type ScheduleView,
} from "../../contracts/schedules";
import type { TurnOutcome } from "../automation/turns";
import type { PrismaClient } from "../db";
import type { Prisma, Schedule, ScheduleRun } from "../db/generated/client";
import { DomainError, notFound } from "../domain/errors";
import type { Logger } from "../logger";
import { listenerStream } from "../streams/listener-stream";
import { writeAuditEvent } from "../trust/audit";

/** The clock and the one timer of the scheduler (tests drive time with their own). */
export interface ScheduleClock {
  now(): Date;
  /** Calls `fn` at `at` (at once when it has passed); returns the cancel. */
  setTimer(at: Date, fn: () => void): () => void;
}

const MAX_TIMEOUT = 2 ** 31 - 1;
/** How soon the scheduler tries again when the database did not answer. */
const RETRY_MS = 30_000;

export const systemScheduleClock: ScheduleClock = {
  now: () => new Date(),
  setTimer(at, fn) {
    let t: NodeJS.Timeout;
    const arm = () => {
      const ms = at.getTime() - Date.now();
      // setTimeout holds at most ~24.8 days: wait in steps until then.
      t = ms > MAX_TIMEOUT ? setTimeout(arm, MAX_TIMEOUT) : setTimeout(fn, Math.max(0, ms));
      t.unref();
    };
    arm();
    return () => clearTimeout(t);
  },
};

/** What the scheduler needs of automation turns (AutomationTurns satisfies it). */
export interface ScheduleTurns {
  run(
    input: { projectId: string; agentId: string; sessionId?: string; message: string; userId: null },
    signal?: AbortSignal,
  ): Promise<{ sessionId: string; runId: string; outcome: Promise<TurnOutcome> }>;
  outcomeOf(sessionId: string, runId: string): Promise<TurnOutcome>;
}

export interface ScheduleServiceOptions {
  prisma: PrismaClient;
  turns: ScheduleTurns;
  /** Titles the named session after its first run created it (the chat's own rename). */
  renameSession(projectId: string, agentId: string, sessionId: string, title: string): Promise<unknown>;
  log: Logger;
  clock?: ScheduleClock;
}

export interface ScheduleInput {
  name: string;
  cron: string;
  timeZone?: string;
  message: string;
  session?: ScheduleSessionMode;
  sessionName?: string | null;
  catchUp?: ScheduleCatchUp;
  enabled?: boolean;
}

type ScheduleRow = Schedule & {
  agent: { name: string };
  createdBy: { id: string; name: string } | null;
  runs: Pick<ScheduleRun, "status" | "scheduledFor" | "endedAt">[];
};

const scheduleInclude = {
  agent: { select: { name: true } },
  createdBy: { select: { id: true, name: true } },
  runs: { orderBy: { startedAt: "desc" }, take: 1, select: { status: true, scheduledFor: true, endedAt: true } },
} satisfies Prisma.ScheduleInclude;

function view(s: ScheduleRow): ScheduleView {
  const last = s.runs[0];
  return {
    id: s.id,
    projectId: s.projectId,
    agentId: s.agentId,
    agentName: s.agent.name,
    name: s.name,
    cron: s.cron,
    timeZone: s.timeZone,
    message: s.message,
    session: s.session,
    sessionName: s.sessionName,
    sessionId: s.sessionId,
    catchUp: s.catchUp,
    enabled: s.enabled,
    nextRunAt: s.nextRunAt,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    lastRun: last ? { status: last.status, scheduledFor: last.scheduledFor, endedAt: last.endedAt } : null,
  };
}

function runView(r: ScheduleRun & { schedule: { name: string; agentId: string } }): ScheduleRunView {
  return {
    id: r.id,
    scheduleId: r.scheduleId,
    scheduleName: r.schedule.name,
    agentId: r.schedule.agentId,
    scheduledFor: r.scheduledFor,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    status: r.status,
    reason: r.reason,
    sessionId: r.sessionId,
    runId: r.runId,
    durationMs: r.durationMs,
    costUsd: r.costUsd,
    manual: r.manual,
  };
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === "P2002";
}

/** The named session after an update: the kept session stays only while its name does. */
function namedSession(current: Schedule, patch: Partial<ScheduleInput>): { sessionName: string; sessionId: string | null } {
  const sessionName = patch.sessionName?.trim() || current.sessionName || patch.name || current.name;
  const keep = current.session === "named" && sessionName === current.sessionName;
  return { sessionName, sessionId: keep ? current.sessionId : null };
}

const clip = (s: string | null | undefined) => (s == null ? null : s.slice(0, SCHEDULE_LIMITS.reason));

export class ScheduleService {
  private readonly clock: ScheduleClock;
  private cancelTimer: (() => void) | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly listeners = new Set<(projectId: string, c: ScheduleChange) => void>();
  /** Aborts the waits for turn outcomes on close (their runs are joined on the next start). */
  private closing = new AbortController();
  private started = false;

  constructor(private readonly opts: ScheduleServiceOptions) {
    this.clock = opts.clock ?? systemScheduleClock;
  }

  private get prisma() {
    return this.opts.prisma;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p)).catch(() => {});
    return p;
  }

  /** Resolves when nothing the scheduler started is still in flight (ticks, runs and their outcomes). */
  async idle(): Promise<void> {
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }

  private emit(projectId: string, change: ScheduleChange) {
    for (const l of this.listeners) l(projectId, change);
  }

  /** Schedule and run changes of one project until `signal` aborts. */
  onChange(projectId: string, signal?: AbortSignal): AsyncGenerator<ScheduleChange> {
    return listenerStream<ScheduleChange>((sink) => {
      const l = (p: string, c: ScheduleChange) => {
        if (p === projectId) sink.push(c);
      };
      this.listeners.add(l);
      return () => this.listeners.delete(l);
    }, signal);
  }

  // ------------------------------------------------------------------ CRUD

  private validate(cron: string, timeZone: string) {
    const zone = timeZoneProblem(timeZone);
    if (zone) throw new DomainError("BAD_REQUEST", zone);
    const problem = cronProblem(cron, timeZone);
    if (problem) throw new DomainError("BAD_REQUEST", problem);
  }

  private nextAfterNow(s: Pick<Schedule, "cron" | "timeZone" | "enabled">): Date | null {
    return s.enabled ? nextFireTime(s.cron, s.timeZone, this.clock.now()) : null;
  }

  async list(projectId: string, agentId?: string): Promise<ScheduleView[]> {
    const rows = await this.prisma.schedule.findMany({
      where: { projectId, ...(agentId ? { agentId } : {}) },
      include: scheduleInclude,
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    return rows.map(view);
  }

  async get(projectId: string, agentId: string, scheduleId: string): Promise<ScheduleView> {
    const row = await this.prisma.schedule.findFirst({ where: { id: scheduleId, projectId, agentId }, include: scheduleInclude });
    if (!row) throw notFound("Schedule");
    return view(row);
  }

  async create(projectId: string, agentId: string, createdById: string | null, input: ScheduleInput): Promise<ScheduleView> {
    const timeZone = input.timeZone ?? "UTC";
    const cron = input.cron.trim();
    this.validate(cron, timeZone);
    const session = input.session ?? "new";
    const enabled = input.enabled ?? true;
    const row = await this.prisma.schedule.create({
      data: {
        projectId,
        agentId,
        name: input.name,
        cron,
        timeZone,
        message: input.message,
        session,
        sessionName: session === "named" ? input.sessionName?.trim() || input.name : null,
        catchUp: input.catchUp ?? "once",
        enabled,
        nextRunAt: this.nextAfterNow({ cron, timeZone, enabled }),
        createdById,
      },
      include: scheduleInclude,
    });
    this.changed(projectId, { kind: "schedule", scheduleId: row.id, agentId });
    return view(row);
  }

  async update(projectId: string, agentId: string, scheduleId: string, patch: Partial<ScheduleInput>): Promise<ScheduleView> {
    const current = await this.prisma.schedule.findFirst({ where: { id: scheduleId, projectId, agentId } });
    if (!current) throw notFound("Schedule");
    const cron = patch.cron?.trim() ?? current.cron;
    const timeZone = patch.timeZone ?? current.timeZone;
    this.validate(cron, timeZone);
    const enabled = patch.enabled ?? current.enabled;
    const session = patch.session ?? current.session;
    const timing = cron !== current.cron || timeZone !== current.timeZone || enabled !== current.enabled;
    const data: Prisma.ScheduleUpdateInput = {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.message !== undefined ? { message: patch.message } : {}),
      ...(patch.catchUp !== undefined ? { catchUp: patch.catchUp } : {}),
      cron,
      timeZone,
      enabled,
      session,
      // Back to "new", or to a differently named session: the kept session is let go.
      ...(session === "new" ? { sessionName: null, sessionId: null } : namedSession(current, patch)),
      ...(timing ? { nextRunAt: this.nextAfterNow({ cron, timeZone, enabled }) } : {}),
    };
    const row = await this.prisma.schedule.update({ where: { id: scheduleId }, data, include: scheduleInclude });
    this.changed(projectId, { kind: "schedule", scheduleId, agentId });
    return view(row);
  }

  async remove(projectId: string, agentId: string, scheduleId: string): Promise<void> {
    const { count } = await this.prisma.schedule.deleteMany({ where: { id: scheduleId, projectId, agentId } });
    if (!count) throw notFound("Schedule");
    this.changed(projectId, { kind: "schedule", scheduleId, agentId });
  }

  /** Runs newest first: of one schedule, one agent or the whole project; `cursor` (a run id) pages on. */
  async runs(
    projectId: string,
    filter: { agentId?: string; scheduleId?: string; cursor?: string | null; limit: number },
  ): Promise<{ items: ScheduleRunView[]; nextCursor: string | null }> {
    const where: Prisma.ScheduleRunWhereInput = {
      schedule: { projectId, ...(filter.agentId ? { agentId: filter.agentId } : {}) },
      ...(filter.scheduleId ? { scheduleId: filter.scheduleId } : {}),
    };
    if (filter.cursor) {
      const at = await this.prisma.scheduleRun.findFirst({ where: { ...where, id: filter.cursor }, select: { startedAt: true, id: true } });
      if (!at) throw notFound("Schedule run");
      where.OR = [{ startedAt: { lt: at.startedAt } }, { startedAt: at.startedAt, id: { lt: at.id } }];
    }
    const rows = await this.prisma.scheduleRun.findMany({
      where,
      include: { schedule: { select: { name: true, agentId: true } } },
      orderBy: [{ startedAt: "desc" }, { id: "desc" }],
      take: filter.limit + 1,
    });
    const items = rows.slice(0, filter.limit).map(runView);
    return { items, nextCursor: rows.length > filter.limit ? (items.at(-1)?.id ?? null) : null };
  }

  /** Fires the schedule now (its cron times are unchanged); answers once the run is claimed. */
  async runNow(projectId: string, agentId: string, scheduleId: string): Promise<ScheduleRunView> {
    const s = await this.prisma.schedule.findFirst({ where: { id: scheduleId, projectId, agentId } });
    if (!s) throw notFound("Schedule");
    const busy = await this.prisma.scheduleRun.findFirst({ where: { scheduleId, status: "running" }, select: { id: true } });
    if (busy) throw new DomainError("CONFLICT", "The schedule's previous run is still running: wait for it to finish.");
    const run = await this.fire(s, this.clock.now(), true);
    if (!run) throw new DomainError("CONFLICT", "This schedule has just been started: look at its runs.");
    return run;
  }

  private changed(projectId: string, change: ScheduleChange) {
    this.emit(projectId, change);
    if (change.kind === "schedule") this.rearm();
  }

  // ------------------------------------------------------------------ the scheduler

  /** Recovers what the previous start left behind, catches up missed schedules and arms the timer. */
  /** Starts the scheduler (again after close(): the cluster leader's work moves between instances). */
  start(): Promise<void> {
    if (this.started && !this.closing.signal.aborted) return Promise.resolve();
    if (this.closing.signal.aborted) this.closing = new AbortController();
    this.started = true;
    return this.enqueue(async () => {
      await this.recoverRuns();
      await this.tick(true);
    });
  }

  async close(): Promise<void> {
    this.closing.abort(new Error("Armory is shutting down."));
    this.cancelTimer?.();
    this.cancelTimer = null;
    await this.idle();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.chain.then(work).catch((err: unknown) => this.opts.log.error({ err }, "the scheduler failed a step"));
    this.chain = next;
    return this.track(next);
  }

  private rearm() {
    if (!this.started || this.closing.signal.aborted) return;
    void this.enqueue(() => this.arm());
  }

  private async arm() {
    if (this.closing.signal.aborted) return;
    let first: { nextRunAt: Date | null } | null;
    try {
      first = await this.prisma.schedule.findFirst({
        where: { enabled: true, nextRunAt: { not: null } },
        orderBy: { nextRunAt: "asc" },
        select: { nextRunAt: true },
      });
    } catch (err) {
      // The database is away: try again in a while rather than never fire again.
      this.opts.log.warn({ err }, "could not read the next schedule; retrying in 30 s");
      this.setTimer(new Date(this.clock.now().getTime() + RETRY_MS), () => this.arm());
      return;
    }
    if (!first?.nextRunAt) {
      this.cancelTimer?.();
      this.cancelTimer = null;
      return;
    }
    this.setTimer(first.nextRunAt, () => this.tick(false));
  }

  /** The one timer: replaces the armed one; `work` runs in the scheduler's queue. */
  private setTimer(at: Date, work: () => Promise<void>) {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.closing.signal.aborted) return;
    this.cancelTimer = this.clock.setTimer(at, () => {
      this.cancelTimer = null;
      void this.enqueue(work);
    });
  }

  /**
   * Fires every enabled schedule that is due, once each, and moves its nextRunAt past now.
   * At start (`startup`), a nextRunAt already in the past was missed while Armory was down.
   */
  private async tick(startup: boolean) {
    try {
      await this.fireDue(startup);
    } finally {
      await this.arm();
    }
  }

  private async fireDue(startup: boolean) {
    const now = this.clock.now();
    const due = await this.prisma.schedule.findMany({ where: { enabled: true, nextRunAt: { lte: now } }, orderBy: { nextRunAt: "asc" } });
    for (const s of due) {
      const at = s.nextRunAt as Date;
      const next = nextFireTime(s.cron, s.timeZone, now);
      // Only the instance that still sees the old value moves it; the claim below decides who runs.
      await this.prisma.schedule.updateMany({ where: { id: s.id, nextRunAt: at }, data: { nextRunAt: next } });
      const missed = startup && at.getTime() < now.getTime();
      try {
        if (missed && s.catchUp === "skip") await this.record(s, at, SKIP_REASONS.missed);
        else await this.fire(s, at, false);
      } catch (err) {
        this.opts.log.error({ err, scheduleId: s.id }, "could not start a scheduled run");
      }
      this.emit(s.projectId, { kind: "schedule", scheduleId: s.id, agentId: s.agentId });
    }
  }

  /** Records a skipped fire time (claimed like a run: once across instances). */
  private async record(s: Schedule, scheduledFor: Date, reason: string): Promise<ScheduleRunView | null> {
    const now = this.clock.now();
    try {
      const row = await this.prisma.scheduleRun.create({
        data: { scheduleId: s.id, scheduledFor, startedAt: now, endedAt: now, status: "skipped", reason },
        include: { schedule: { select: { name: true, agentId: true } } },
      });
      this.emit(s.projectId, { kind: "run", scheduleId: s.id, agentId: s.agentId });
      return runView(row);
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /**
   * Claims the fire time and starts the run (in the background); null when another instance
   * claimed it first. A schedule whose previous run still runs gets a skipped run instead.
   */
  private async fire(s: Schedule, scheduledFor: Date, manual: boolean): Promise<ScheduleRunView | null> {
    const busy = await this.prisma.scheduleRun.findFirst({ where: { scheduleId: s.id, status: "running" }, select: { id: true } });
    if (busy) return this.record(s, scheduledFor, SKIP_REASONS.busy);
    let run: ScheduleRun & { schedule: { name: string; agentId: string } };
    try {
      run = await this.prisma.scheduleRun.create({
        data: { scheduleId: s.id, scheduledFor, startedAt: this.clock.now(), status: "running", manual },
        include: { schedule: { select: { name: true, agentId: true } } },
      });
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
    this.emit(s.projectId, { kind: "run", scheduleId: s.id, agentId: s.agentId });
    void this.track(this.execute(s, run).catch((err: unknown) => this.opts.log.error({ err, scheduleRunId: run.id }, "a scheduled run failed unexpectedly")));
    return runView(run);
  }

  private async execute(s: Schedule, run: ScheduleRun) {
    const log = this.opts.log;
    // The named session, when its first run created it (and it was not deleted since).
    let sessionId: string | undefined;
    if (s.session === "named" && s.sessionId) {
      const kept = await this.prisma.chatSession.findFirst({ where: { id: s.sessionId, agentId: s.agentId }, select: { id: true } });
      sessionId = kept?.id;
    }
    let sent: Awaited<ReturnType<ScheduleTurns["run"]>>;
    try {
      sent = await this.opts.turns.run({ projectId: s.projectId, agentId: s.agentId, sessionId, message: s.message, userId: null }, this.closing.signal);
    } catch (err) {
      await this.finish(s, run, { status: "failed", reason: (err as Error).message, durationMs: null, costUsd: 0 });
      return;
    }
    await this.prisma.scheduleRun.update({ where: { id: run.id }, data: { sessionId: sent.sessionId, runId: sent.runId } });
    if (s.session === "named" && sent.sessionId !== s.sessionId) {
      await this.prisma.schedule.updateMany({ where: { id: s.id, session: "named" }, data: { sessionId: sent.sessionId } });
      await this.opts
        .renameSession(s.projectId, s.agentId, sent.sessionId, (s.sessionName || s.name).slice(0, 100))
        .catch((err: unknown) => log.warn({ err, scheduleId: s.id }, "could not title the schedule's named session"));
    }
    this.emit(s.projectId, { kind: "run", scheduleId: s.id, agentId: s.agentId });
    await writeAuditEvent(this.prisma, {
      userId: null,
      userEmail: null,
      tokenId: null,
      tokenPrefix: null,
      action: "schedule.fire",
      type: "schedule",
      permission: "chat",
      projectId: s.projectId,
      agentId: s.agentId,
      agentName: null,
      allowed: true,
      reason: `Schedule "${s.name}" (${s.id}) sent its message${run.manual ? " (run now)" : ` for ${run.scheduledFor.toISOString()}`}.`,
      outcome: "ok",
      requestId: `schedule-run-${run.id}`,
      ip: null,
      userAgent: null,
      input: { scheduleId: s.id, sessionId: sent.sessionId, runId: sent.runId },
    }).catch((err: unknown) => log.error({ err, scheduleRunId: run.id }, "could not write a scheduled run to the audit log"));
    let outcome: TurnOutcome;
    try {
      outcome = await sent.outcome;
    } catch {
      // Shutting down: the run stays "running" and the next start joins it to its chat run's outcome.
      return;
    }
    await this.finish(s, run, { status: outcome.status, reason: outcome.error, durationMs: outcome.durationMs, costUsd: outcome.costUsd });
  }

  private async finish(
    s: Pick<Schedule, "id" | "projectId" | "agentId">,
    run: Pick<ScheduleRun, "id" | "startedAt">,
    end: { status: "completed" | "failed" | "interrupted"; reason: string | null; durationMs: number | null; costUsd: number },
  ) {
    const endedAt = this.clock.now();
    await this.prisma.scheduleRun.update({
      where: { id: run.id },
      data: {
        status: end.status,
        reason: clip(end.reason),
        endedAt,
        durationMs: end.durationMs ?? Math.max(0, endedAt.getTime() - run.startedAt.getTime()),
        costUsd: end.costUsd,
      },
    });
    this.emit(s.projectId, { kind: "run", scheduleId: s.id, agentId: s.agentId });
  }

  /**
   * Runs a previous start left "running": joined to their chat run's outcome when that ended
   * (the chat ends its own stale runs when it starts), else ended as failed.
   */
  private async recoverRuns() {
    const stale = await this.prisma.scheduleRun.findMany({ where: { status: "running" }, include: { schedule: { select: { id: true, projectId: true, agentId: true } } } });
    for (const r of stale) {
      const chatRun = r.runId ? await this.prisma.chatRun.findUnique({ where: { id: r.runId }, select: { status: true } }) : null;
      if (r.runId && r.sessionId && chatRun && chatRun.status !== "running") {
        const o = await this.opts.turns.outcomeOf(r.sessionId, r.runId);
        await this.finish(r.schedule, r, { status: o.status, reason: o.error, durationMs: o.durationMs, costUsd: o.costUsd });
      } else {
        await this.finish(r.schedule, r, { status: "failed", reason: "Armory stopped during this run.", durationMs: null, costUsd: 0 });
      }
    }
    if (stale.length) this.opts.log.warn({ runs: stale.length }, "scheduled runs left running by a previous start were ended");
  }
}
