// Chat persistence: sessions, runs (turns) and events. Every event gets the next per-session
// `seq` inside the same transaction that stores it (the counter lives in chat_session.lastSeq),
// so numbering is gap-free and survives restarts. During a turn the bus numbers the turn's events
// itself and delivers each before it is stored (src/server/chat/bus.ts); they are stored with
// those numbers.
import type { PrismaClient } from "../db";
import type { ChatRunStatus, ChatSession, Prisma } from "../db/generated/client";
import { notFound } from "../domain/errors";

/** One persisted event as subscribers and history see it. */
export interface ChatEventRecord {
  seq: number;
  runId: string;
  type: string;
  data: unknown;
  at: Date;
}

export interface NewChatEvent {
  runId: string;
  type: string;
  data: unknown;
}

export interface ChatSessionRecord {
  id: string;
  agentId: string;
  projectId: string;
  title: string;
  claudeSessionId: string | null;
  lastSeq: number;
  turns: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  running: boolean;
  git: { branch: string; base: string; pullRequestUrl: string | null } | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ChatRunRecord {
  id: string;
  sessionId: string;
  message: string;
  status: ChatRunStatus;
  error: string | null;
  mode: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  durationMs: number | null;
  firstTokenMs: number | null;
  startedAt: Date;
  endedAt: Date | null;
}

const runSelect = {
  id: true,
  sessionId: true,
  message: true,
  status: true,
  error: true,
  mode: true,
  inputTokens: true,
  outputTokens: true,
  costUsd: true,
  durationMs: true,
  firstTokenMs: true,
  startedAt: true,
  endedAt: true,
} as const;

/** `s` with LIKE's wildcards and escape character escaped (the default escape is a backslash). */
function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toSessionRecord(r: ChatSession, running: boolean): ChatSessionRecord {
  return {
    id: r.id,
    agentId: r.agentId,
    projectId: r.projectId,
    title: r.title,
    claudeSessionId: r.claudeSessionId,
    lastSeq: r.lastSeq,
    turns: r.turns,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    costUsd: r.costUsd,
    running,
    git: r.gitBranch && r.gitBase ? { branch: r.gitBranch, base: r.gitBase, pullRequestUrl: r.pullRequestUrl } : null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function titleFor(message: string): string {
  const line = message.trim().split("\n")[0]!.replace(/\s+/g, " ");
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || "New conversation";
}

export class ChatStore {
  constructor(private readonly prisma: PrismaClient) {}

  async createSession(input: { projectId: string; agentId: string; title: string; userId: string | null }) {
    return this.prisma.chatSession.create({
      data: { projectId: input.projectId, agentId: input.agentId, title: input.title, createdById: input.userId },
    });
  }

  async session(projectId: string, agentId: string, sessionId: string) {
    const s = await this.prisma.chatSession.findFirst({ where: { id: sessionId, agentId, projectId } });
    if (!s) throw notFound("Chat session");
    return s;
  }

  async sessions(agentId: string, opts: { search?: string; limit?: number } = {}): Promise<ChatSessionRecord[]> {
    const limit = opts.limit ?? 100;
    const q = opts.search?.trim();
    let where: Prisma.ChatSessionWhereInput = { agentId };
    if (q) {
      // Title or one of the user's messages (each run keeps its message), or a reply of the agent.
      const replied = await this.sessionsWithReplyText(agentId, q);
      // Prisma's contains is LIKE '%q%' without escaping: LIKE's wildcards in q must be literal.
      const literal = escapeLike(q);
      where = {
        agentId,
        OR: [
          { title: { contains: literal, mode: "insensitive" } },
          { runs: { some: { message: { contains: literal, mode: "insensitive" } } } },
          ...(replied.length ? [{ id: { in: replied } }] : []),
        ],
      };
    }
    const rows = await this.prisma.chatSession.findMany({
      where,
      orderBy: { updatedAt: "desc" },
      take: limit,
      include: { runs: { where: { status: "running" }, select: { id: true }, take: 1 } },
    });
    return rows.map((r) => toSessionRecord(r, r.runs.length > 0));
  }

  /** Sessions of an agent where one of the agent's full replies (assistant text blocks) contains `q`. */
  private async sessionsWithReplyText(agentId: string, q: string): Promise<string[]> {
    const pattern = `%${escapeLike(q)}%`;
    const rows = await this.prisma.$queryRawUnsafe<{ sessionId: string }[]>(
      `SELECT DISTINCT e."sessionId" FROM chat_event e
         JOIN chat_session s ON s.id = e."sessionId"
        WHERE s."agentId" = $1 AND e.type = 'assistant'
          AND jsonb_typeof(e.data->'message'->'content') = 'array'
          AND EXISTS (
            SELECT 1 FROM jsonb_array_elements(e.data->'message'->'content') b
             WHERE b->>'type' = 'text' AND b->>'text' ILIKE $2
          )
        LIMIT 500`,
      agentId,
      pattern,
    );
    return rows.map((r) => r.sessionId);
  }

  /** Renames a session; its place in the list (updatedAt: its last activity) stays. */
  async renameSession(sessionId: string, title: string, updatedAt: Date): Promise<ChatSessionRecord> {
    const r = await this.prisma.chatSession.update({
      where: { id: sessionId },
      data: { title, updatedAt },
      include: { runs: { where: { status: "running" }, select: { id: true }, take: 1 } },
    });
    return toSessionRecord(r, r.runs.length > 0);
  }

  /** Deletes a session with its runs and events (the foreign keys cascade). */
  async deleteSession(sessionId: string): Promise<void> {
    await this.prisma.chatSession.delete({ where: { id: sessionId } });
  }

  /** Totals of the sessions' usage (from each turn's result event) for one agent or a whole project. */
  async usage(where: { projectId: string; agentId?: string }) {
    const agg = await this.prisma.chatSession.aggregate({
      where,
      _sum: { turns: true, inputTokens: true, outputTokens: true, costUsd: true },
      _count: { _all: true },
    });
    return {
      sessions: agg._count._all,
      turns: agg._sum.turns ?? 0,
      inputTokens: agg._sum.inputTokens ?? 0,
      outputTokens: agg._sum.outputTokens ?? 0,
      costUsd: agg._sum.costUsd ?? 0,
    };
  }

  async setClaudeSessionId(sessionId: string, claudeSessionId: string | null) {
    await this.prisma.chatSession.update({ where: { id: sessionId }, data: { claudeSessionId } });
  }

  async createRun(input: { sessionId: string; agentId: string; projectId: string; userId: string | null; message: string; mode: string }) {
    return this.prisma.chatRun.create({ data: input, select: runSelect });
  }

  async runningRun(sessionId: string) {
    return this.prisma.chatRun.findFirst({ where: { sessionId, status: "running" }, select: { id: true } });
  }

  async runs(sessionId: string, limit = 200): Promise<ChatRunRecord[]> {
    const rows = await this.prisma.chatRun.findMany({ where: { sessionId }, orderBy: { startedAt: "desc" }, take: limit, select: runSelect });
    return rows.reverse();
  }

  /**
   * Ends a run (only if still running) and adds its usage to the session's totals, in one
   * statement: no interactive transaction holds a pooled connection across round trips, so a busy
   * pool delays the end of a turn instead of failing it (a failed end left the run "running").
   */
  async finishRun(
    runId: string,
    result: {
      status: Exclude<ChatRunStatus, "running">;
      error?: string | null;
      durationMs: number;
      firstTokenMs?: number | null;
      usage?: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number; costUsd: number };
    },
  ): Promise<boolean> {
    const u = result.usage;
    const rows = await this.prisma.$queryRawUnsafe<{ n: number }[]>(
      `WITH r AS (
         UPDATE chat_run SET status = $2::"ChatRunStatus", error = $3::text, "durationMs" = $4::int, "firstTokenMs" = $5::int, "endedAt" = $6,
           "inputTokens" = $7::int, "outputTokens" = $8::int, "costUsd" = $9::float8
         WHERE id = $1 AND status = 'running' RETURNING "sessionId"
       ), s AS (
         UPDATE chat_session c SET turns = c.turns + 1, "inputTokens" = c."inputTokens" + $7::int, "outputTokens" = c."outputTokens" + $8::int,
           "cacheReadTokens" = c."cacheReadTokens" + $10::int, "cacheCreationTokens" = c."cacheCreationTokens" + $11::int,
           "costUsd" = c."costUsd" + $9::float8, "updatedAt" = $6
         FROM r WHERE c.id = r."sessionId" RETURNING c.id
       )
       SELECT (SELECT count(*) FROM r)::int AS n, (SELECT count(*) FROM s)::int AS s`,
      runId,
      result.status,
      result.error ?? null,
      Math.round(result.durationMs),
      result.firstTokenMs == null ? null : Math.round(result.firstTokenMs),
      new Date(),
      u?.inputTokens ?? 0,
      u?.outputTokens ?? 0,
      u?.costUsd ?? 0,
      u?.cacheReadTokens ?? 0,
      u?.cacheCreationTokens ?? 0,
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }

  /** Stores one session's events with its next seqs; returns them numbered, in order. */
  async append(sessionId: string, events: NewChatEvent[]): Promise<ChatEventRecord[]> {
    return this.appendMany(events.map((e) => ({ ...e, sessionId })));
  }

  /**
   * Stores events of any number of sessions in one SQL statement (bump each session's counter,
   * insert the rows numbered in the order given): atomic, and one round trip for the whole batch.
   * An event with `seq` (numbered by the bus, already delivered live) is stored with that number
   * and its own `at`; the others are numbered after the session's highest. Returns the events
   * numbered, in the order given.
   */
  async appendMany(events: (NewChatEvent & { sessionId: string; seq?: number; at?: Date })[]): Promise<(ChatEventRecord & { sessionId: string })[]> {
    if (!events.length) return [];
    const at = new Date();
    const payload = JSON.stringify(
      events.map((e) => (e.seq === undefined ? { s: e.sessionId, r: e.runId, t: e.type, d: e.data ?? null } : { s: e.sessionId, r: e.runId, t: e.type, d: e.data ?? null, q: e.seq, a: (e.at ?? at).toISOString() })),
    );
    const rows = await this.prisma.$queryRawUnsafe<{ id: string; lastSeq: number; n: number }[]>(
      `WITH input AS (
         SELECT e.v, e.ord, (e.v->>'q')::int AS q FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, ord)
       ), counts AS (
         SELECT v->>'s' AS sid, (count(*) - count(q))::int AS n, coalesce(max(q), 0) AS q FROM input GROUP BY 1
       ), s AS (
         UPDATE chat_session c SET "lastSeq" = GREATEST(c."lastSeq", counts.q) + counts.n, "updatedAt" = $2
         FROM counts WHERE c.id = counts.sid RETURNING c.id, c."lastSeq", counts.n
       ), numbered AS (
         SELECT input.v, coalesce(input.q, s."lastSeq" - s.n + (row_number() OVER (PARTITION BY input.v->>'s', input.q IS NULL ORDER BY input.ord))::int) AS seq
         FROM input JOIN s ON s.id = input.v->>'s'
       ), ins AS (
         INSERT INTO chat_event ("sessionId", seq, "runId", type, data, "createdAt")
         SELECT v->>'s', seq, v->>'r', v->>'t', v->'d', coalesce((v->>'a')::timestamp, $2) FROM numbered
       )
       SELECT id, "lastSeq", n FROM s`,
      payload,
      at,
    );
    const next = new Map(rows.map((r) => [r.id, Number(r.lastSeq) - Number(r.n) + 1]));
    return events.map((e) => {
      if (e.seq !== undefined) {
        if (!next.has(e.sessionId)) throw notFound("Chat session");
        return { sessionId: e.sessionId, seq: e.seq, runId: e.runId, type: e.type, data: e.data ?? null, at: e.at ?? at };
      }
      const seq = next.get(e.sessionId);
      if (seq === undefined) throw notFound("Chat session");
      next.set(e.sessionId, seq + 1);
      return { sessionId: e.sessionId, seq, runId: e.runId, type: e.type, data: e.data ?? null, at };
    });
  }

  async eventsAfter(sessionId: string, afterSeq: number, limit = 1000, beforeSeq?: number): Promise<ChatEventRecord[]> {
    const rows = await this.prisma.chatEvent.findMany({
      where: { sessionId, seq: { gt: afterSeq, ...(beforeSeq !== undefined ? { lt: beforeSeq } : {}) } },
      orderBy: { seq: "asc" },
      take: limit,
    });
    return rows.map((r) => ({ seq: r.seq, runId: r.runId, type: r.type, data: r.data, at: r.createdAt }));
  }

  /**
   * The events of several sessions in one read: per session those with after < seq <= to
   * (another instance's announced ranges, src/server/cluster/bridge.ts), by session and seq.
   */
  async eventsInRanges(ranges: { sessionId: string; after: number; to: number }[]): Promise<(ChatEventRecord & { sessionId: string })[]> {
    if (!ranges.length) return [];
    const rows = await this.prisma.chatEvent.findMany({
      where: { OR: ranges.map((r) => ({ sessionId: r.sessionId, seq: { gt: r.after, lte: r.to } })) },
      orderBy: [{ sessionId: "asc" }, { seq: "asc" }],
    });
    return rows.map((r) => ({ sessionId: r.sessionId, seq: r.seq, runId: r.runId, type: r.type, data: r.data, at: r.createdAt }));
  }

  /** Runs a previous process left "running" (it crashed or was killed): the stale runs, to be ended. */
  async staleRuns() {
    return this.prisma.chatRun.findMany({
      where: { status: "running" },
      select: { id: true, sessionId: true, agentId: true, startedAt: true },
    });
  }
}
