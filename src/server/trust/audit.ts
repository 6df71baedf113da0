// The audit log: one entry per trust decision and per mutation (and per refused call), written
// by the audit middleware on the tRPC base procedure. Inputs are stored with secrets redacted.
import type { PrismaClient } from "../db";
import { Prisma, type AuditEvent } from "../db/generated/client";

/** A trust decision taken while serving one call (agent permission, file path, image). */
export interface AuditDecision {
  permission: string;
  allowed: boolean;
  reason: string;
  grantId?: string | null;
  agentId?: string;
  agentName?: string;
  filePath?: string;
  image?: string;
}

/** Collects the decisions of one procedure call; the audit middleware writes them as one entry. */
export class AuditTrail {
  readonly decisions: AuditDecision[] = [];
  /** Why a call without a trust decision was let through (e.g. the project role it met). */
  note: string | null = null;
  record(decision: AuditDecision): void {
    this.decisions.push(decision);
  }
  /** The decision that explains the outcome: the first denial, else the last allow. */
  get deciding(): AuditDecision | undefined {
    return this.decisions.find((d) => !d.allowed) ?? this.decisions.at(-1);
  }
}

const SECRET_KEY_RE = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|private|credential|^value$|^env$|^content$|^data$/i;
const MAX_STRING = 200;
const MAX_KEYS = 50;

/** Ids and names that are never secret, kept even in strict mode. */
const PLAIN_KEYS = new Set(["projectId", "agentId", "sessionId", "tokenId", "grantId", "userId", "name", "path", "image", "email", "role"]);

/**
 * A copy of an input fit for the audit log: secret-looking fields redacted, long strings cut.
 * `strict` (env and secret procedures) redacts every string except ids and names.
 */
export function redactInput(value: unknown, opts: { strict?: boolean } = {}, depth = 0, key?: string): Prisma.InputJsonValue | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") {
    if (opts.strict && !(key && PLAIN_KEYS.has(key))) return "[redacted]";
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}… (${value.length} chars)` : value;
  }
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Date) return value.toISOString();
  if (depth >= 4) return "[nested]";
  if (Array.isArray(value)) return value.slice(0, MAX_KEYS).map((v) => redactInput(v, opts, depth + 1, key));
  if (typeof value === "object") {
    const out: Record<string, Prisma.InputJsonValue | null> = {};
    for (const [k, v] of Object.entries(value).slice(0, MAX_KEYS)) {
      out[k] = SECRET_KEY_RE.test(k) ? "[redacted]" : redactInput(v, opts, depth + 1, k);
    }
    return out;
  }
  return String(value);
}

/** Procedures whose inputs carry secret values under arbitrary names (a webhook URL can itself be a credential). */
const STRICT_ACTION_RE = /^(env|secret|notification)\./;

export interface AuditEntryInput {
  userId: string | null;
  userEmail: string | null;
  tokenId: string | null;
  tokenPrefix: string | null;
  action: string;
  type: string;
  permission?: string | null;
  projectId?: string | null;
  agentId?: string | null;
  agentName?: string | null;
  filePath?: string | null;
  image?: string | null;
  allowed: boolean;
  reason: string;
  grantId?: string | null;
  outcome: string;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  input?: unknown;
}

/** Who made a call, as its audit entry records it (copied, not referenced). */
export function auditCaller(ctx: {
  user: { id: string; email: string } | null;
  token: { id: string; prefix: string } | null;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}): Pick<AuditEntryInput, "userId" | "userEmail" | "tokenId" | "tokenPrefix" | "requestId" | "ip" | "userAgent"> {
  return {
    userId: ctx.user?.id ?? null,
    userEmail: ctx.user?.email ?? null,
    tokenId: ctx.token?.id ?? null,
    tokenPrefix: ctx.token?.prefix ?? null,
    requestId: ctx.requestId,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
  };
}

/** A string field of a call's raw input (e.g. projectId), bounded, for its audit entry; else null. */
export function inputField(input: unknown, key: string): string | null {
  if (typeof input !== "object" || input === null) return null;
  const v = (input as Record<string, unknown>)[key];
  return typeof v === "string" ? v.slice(0, 500) : null;
}

function auditData(entry: AuditEntryInput) {
  const input = redactInput(entry.input, { strict: STRICT_ACTION_RE.test(entry.action) });
  return { ...entry, reason: entry.reason.slice(0, 1000), input: input === null ? undefined : input };
}

export async function writeAuditEvent(prisma: PrismaClient, entry: AuditEntryInput): Promise<void> {
  await prisma.auditEvent.create({ data: auditData(entry) });
}

/** Outcome of an entry written before its mutation ran. */
export const AUDIT_PENDING = "pending";

/**
 * The first half of a mutation's entry, written BEFORE the mutation runs (outcome "pending"):
 * when it cannot be written the mutation must not run. Returns the entry's id.
 */
export async function beginAuditEvent(prisma: PrismaClient, entry: AuditEntryInput): Promise<string> {
  const row = await prisma.auditEvent.create({ data: { ...auditData(entry), outcome: AUDIT_PENDING }, select: { id: true } });
  return row.id;
}

/** The second half: the entry as the finished call describes it (its input stays as written). */
export async function finishAuditEvent(prisma: PrismaClient, id: string, entry: AuditEntryInput): Promise<void> {
  const { input: _input, ...data } = auditData(entry);
  await prisma.auditEvent.update({ where: { id }, data });
}

/** Deletes audit entries older than `retentionDays` (0: none); returns how many went. */
export async function pruneAuditEvents(prisma: PrismaClient, retentionDays: number, now = new Date()): Promise<number> {
  if (retentionDays <= 0) return 0;
  const before = new Date(now.getTime() - retentionDays * 86_400_000);
  const { count } = await prisma.auditEvent.deleteMany({ where: { at: { lt: before } } });
  return count;
}

/**
 * Which entries a listing shows: `changes` (mutations, and every refused call: what changed and
 * what was stopped), `reads` (allowed queries and subscriptions) or `all`.
 */
export type AuditView = "changes" | "reads" | "all";

/** Reads by the same caller of the same agent (same outcome) at most this far apart fold into one row. */
export const AUDIT_FOLD_GAP_MS = 15 * 60_000;

export interface AuditFilter {
  projectId?: string;
  /** Matches the caller's email, user id, token id or token prefix. */
  caller?: string;
  /** Agent id or agent name. */
  target?: string;
  /** A procedure path or its prefix ("agent." for every agent procedure). */
  action?: string;
  allowed?: boolean;
  from?: Date;
  to?: Date;
  /** Default `all` here; the API defaults to `changes`. */
  view?: AuditView;
  /** Fold repeated reads (see AUDIT_FOLD_GAP_MS) into one row with a count. */
  fold?: boolean;
  /** The id of the last entry of the previous page (for a folded row: its latest entry). */
  cursor?: string;
  limit?: number;
}

/** One row of a listing: an entry, or the latest entry of a run of folded reads. */
export type AuditListItem = AuditEvent & {
  /** Entries this row stands for (1 unless reads were folded). */
  count: number;
  /** The earliest of them (`at` is the latest). */
  firstAt: Date;
  /** The procedures among them, most frequent first. */
  actions: string[];
};

const READ_TYPES = ["query", "subscription"];

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The filter as SQL conditions over audit_event (the same rules as the Prisma where below). */
function sqlConditions(filter: AuditFilter): Prisma.Sql[] {
  const c: Prisma.Sql[] = [];
  if (filter.projectId) c.push(Prisma.sql`"projectId" = ${filter.projectId}`);
  if (filter.allowed !== undefined) c.push(Prisma.sql`allowed = ${filter.allowed}`);
  if (filter.from) c.push(Prisma.sql`at >= ${filter.from}`);
  if (filter.to) c.push(Prisma.sql`at <= ${filter.to}`);
  if (filter.action) {
    c.push(filter.action.endsWith(".") ? Prisma.sql`action LIKE ${`${likeEscape(filter.action)}%`}` : Prisma.sql`action = ${filter.action}`);
  }
  if (filter.caller) {
    const v = filter.caller;
    c.push(
      Prisma.sql`("userEmail" ILIKE ${`%${likeEscape(v)}%`} OR "userId" = ${v} OR "tokenId" = ${v} OR "tokenPrefix" LIKE ${`${likeEscape(v.replace(/^arm_/, ""))}%`})`,
    );
  }
  if (filter.target) c.push(Prisma.sql`("agentId" = ${filter.target} OR "agentName" = ${filter.target})`);
  if (filter.view === "changes") c.push(Prisma.sql`(type = 'mutation' OR NOT allowed)`);
  if (filter.view === "reads") c.push(Prisma.sql`(type <> 'mutation' AND allowed)`);
  return c;
}

function single(e: AuditEvent): AuditListItem {
  return { ...e, count: 1, firstAt: e.at, actions: [e.action] };
}

/** Newest first, `limit` rows per page; `nextCursor` is null on the last page. */
export async function listAuditEvents(prisma: PrismaClient, filter: AuditFilter): Promise<{ items: AuditListItem[]; nextCursor: string | null }> {
  const view = filter.view ?? "all";
  if (filter.fold && view !== "changes") return listFolded(prisma, { ...filter, view });
  const limit = filter.limit ?? 50;
  const where: Prisma.AuditEventWhereInput = {
    projectId: filter.projectId,
    allowed: filter.allowed,
    at: filter.from || filter.to ? { gte: filter.from, lte: filter.to } : undefined,
    action: filter.action ? (filter.action.endsWith(".") ? { startsWith: filter.action } : filter.action) : undefined,
  };
  const and: Prisma.AuditEventWhereInput[] = [];
  if (filter.caller) {
    const c = filter.caller;
    and.push({ OR: [{ userEmail: { contains: c, mode: "insensitive" } }, { userId: c }, { tokenId: c }, { tokenPrefix: { startsWith: c.replace(/^arm_/, "") } }] });
  }
  if (filter.target) {
    and.push({ OR: [{ agentId: filter.target }, { agentName: filter.target }] });
  }
  if (view === "changes") and.push({ OR: [{ type: "mutation" }, { allowed: false }] });
  if (view === "reads") and.push({ type: { in: READ_TYPES }, allowed: true });
  if (and.length) where.AND = and;
  const rows = await prisma.auditEvent.findMany({
    where,
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: limit + 1,
    ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, limit).map(single);
  return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
}

/**
 * The same listing with reads folded, in the database: reads are grouped per caller (token, else
 * user, else address), agent and outcome into runs whose entries lie at most AUDIT_FOLD_GAP_MS
 * apart; every other entry is a group of one. Groups are ordered by their latest entry exactly as
 * entries are (at, id descending), and that latest entry's id is the cursor, so paging never
 * splits, repeats or skips a group.
 */
async function listFolded(prisma: PrismaClient, filter: AuditFilter): Promise<{ items: AuditListItem[]; nextCursor: string | null }> {
  const limit = filter.limit ?? 50;
  const conds = sqlConditions(filter);
  const where = conds.length ? Prisma.sql`WHERE ${Prisma.join(conds, " AND ")}` : Prisma.empty;
  const after = filter.cursor
    ? Prisma.sql`WHERE (last_at, rep) < (SELECT at, id FROM audit_event WHERE id = ${filter.cursor})`
    : Prisma.empty;
  const gap = `${AUDIT_FOLD_GAP_MS / 1000} seconds`;
  const groups = await prisma.$queryRaw<{ rep: string; first_at: Date; n: number; actions: string[] }[]>`
    WITH f AS (
      SELECT id, at, action, (type <> 'mutation' AND allowed) AS is_read,
             COALESCE("tokenId", "userId", ip, '') || '|' || COALESCE("agentId", '') || '|' || outcome AS k
      FROM audit_event ${where}
    ), b AS (
      SELECT id, at, action, is_read, k,
             CASE WHEN NOT is_read THEN 1
                  WHEN at - LAG(at) OVER (PARTITION BY k, is_read ORDER BY at, id) <= ${gap}::interval THEN 0
                  ELSE 1 END AS brk
      FROM f
    ), g AS (
      SELECT id, at, action, is_read, k, SUM(brk) OVER (PARTITION BY k, is_read ORDER BY at, id ROWS UNBOUNDED PRECEDING) AS grp
      FROM b
    ), agg AS (
      SELECT (array_agg(id ORDER BY at DESC, id DESC))[1] AS rep, MAX(at) AS last_at, MIN(at) AS first_at,
             COUNT(*)::int AS n, array_agg(action) AS actions
      FROM g GROUP BY k, is_read, grp
    )
    SELECT rep, first_at, n, actions FROM agg ${after}
    ORDER BY last_at DESC, rep DESC
    LIMIT ${limit + 1}`;
  const page = groups.slice(0, limit);
  const rows = await prisma.auditEvent.findMany({ where: { id: { in: page.map((g) => g.rep) } } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const items: AuditListItem[] = [];
  for (const g of page) {
    const row = byId.get(g.rep);
    if (!row) continue; // pruned meanwhile
    const counts = new Map<string, number>();
    for (const a of g.actions) counts.set(a, (counts.get(a) ?? 0) + 1);
    const actions = [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).map(([a]) => a);
    items.push({ ...row, count: Number(g.n), firstAt: new Date(g.first_at), actions });
  }
  return { items, nextCursor: groups.length > limit ? page.at(-1)!.rep : null };
}
