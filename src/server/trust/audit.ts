// The audit log: one entry per trust decision and per mutation (and per refused call), written
// by the audit middleware on the tRPC base procedure. Inputs are stored with secrets redacted.
import type { PrismaClient } from "../db";
import type { AuditEvent, Prisma } from "../db/generated/client";

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

/** Procedures whose inputs carry secret values under arbitrary names. */
const STRICT_ACTION_RE = /^(env|secret)\./;

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
  /** The id of the last entry of the previous page. */
  cursor?: string;
  limit?: number;
}

/** Newest first, `limit` per page; `nextCursor` is null on the last page. */
export async function listAuditEvents(prisma: PrismaClient, filter: AuditFilter): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
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
  if (and.length) where.AND = and;
  const rows = await prisma.auditEvent.findMany({
    where,
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: limit + 1,
    ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
}
