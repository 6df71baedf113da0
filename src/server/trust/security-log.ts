// The instance-level security log: calls refused before Armory knew who was calling (no session,
// a bad or rate-limited token). They are not written to the audit log, because an anonymous
// caller must not be able to put entries into the log of a project it names. Inputs are redacted
// like audit inputs and cut to 4 KiB; each client address may add at most
// SECURITY_LOG_RATE_LIMIT entries a minute (the rest are only counted, in
// armory_security_events_dropped_total, so a flood cannot fill the database).
import client from "prom-client";
import type { PrismaClient } from "../db";
import type { Prisma, SecurityEvent } from "../db/generated/client";
import { metrics } from "../metrics";
import { redactInput } from "./audit";

/** Largest stored input, in bytes of its JSON. */
export const SECURITY_INPUT_MAX_BYTES = 4096;
/** Entries per client address per window. */
export const SECURITY_LOG_RATE_LIMIT = 60;
export const SECURITY_LOG_WINDOW_MS = 60_000;

export interface SecurityEntryInput {
  action: string;
  reason: string;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string;
  input?: unknown;
}

/** The redacted input, as is when its JSON fits in 4 KiB, else a note with its beginning. */
export function securityInput(input: unknown): Prisma.InputJsonValue | null {
  const redacted = redactInput(input);
  if (redacted === null) return null;
  const json = JSON.stringify(redacted);
  if (Buffer.byteLength(json, "utf8") <= SECURITY_INPUT_MAX_BYTES) return redacted;
  // Leave room for the wrapper; cut on characters, then re-check bytes (multi-byte characters).
  let head = json.slice(0, SECURITY_INPUT_MAX_BYTES - 200);
  while (Buffer.byteLength(head, "utf8") > SECURITY_INPUT_MAX_BYTES - 200) head = head.slice(0, Math.floor(head.length * 0.9));
  return { truncated: true, bytes: Buffer.byteLength(json, "utf8"), head };
}

function droppedCounter(): client.Counter {
  const { registry } = metrics();
  const name = "armory_security_events_dropped_total";
  return (
    (registry.getSingleMetric(name) as client.Counter | undefined) ??
    new client.Counter({ name, help: "Security-log entries not stored because their client address exceeded its rate limit", registers: [registry] })
  );
}

/** Per-address counters of one process (a restart forgets them; the limit only protects storage). */
export class SecurityLogLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly max = SECURITY_LOG_RATE_LIMIT,
    private readonly windowMs = SECURITY_LOG_WINDOW_MS,
  ) {}

  /** Takes a slot for `ip`; false when its window is full. */
  take(ip: string | null, now = Date.now()): boolean {
    const key = ip ?? "unknown";
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.prune(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= this.max) return false;
    w.count++;
    return true;
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}

const LIMITER_KEY = Symbol.for("armory.securityLogLimiter");
type WithLimiter = typeof globalThis & { [LIMITER_KEY]?: SecurityLogLimiter };

function limiter(): SecurityLogLimiter {
  const g = globalThis as WithLimiter;
  return (g[LIMITER_KEY] ??= new SecurityLogLimiter());
}

/** Stores the entry unless its address is over the limit; returns whether it was stored. */
export async function writeSecurityEvent(prisma: PrismaClient, entry: SecurityEntryInput): Promise<boolean> {
  if (!limiter().take(entry.ip)) {
    droppedCounter().inc();
    return false;
  }
  const input = securityInput(entry.input);
  await prisma.securityEvent.create({
    data: {
      action: entry.action.slice(0, 200),
      reason: entry.reason.slice(0, 1000),
      outcome: entry.outcome.slice(0, 64),
      ip: entry.ip?.slice(0, 100) ?? null,
      userAgent: entry.userAgent?.slice(0, 500) ?? null,
      requestId: entry.requestId.slice(0, 200),
      input: input === null ? undefined : input,
    },
  });
  return true;
}

export interface SecurityLogFilter {
  ip?: string;
  action?: string;
  cursor?: string;
  limit?: number;
}

/** Newest first, `limit` per page; `nextCursor` is null on the last page. */
export async function listSecurityEvents(prisma: PrismaClient, filter: SecurityLogFilter): Promise<{ items: SecurityEvent[]; nextCursor: string | null }> {
  const limit = filter.limit ?? 50;
  const rows = await prisma.securityEvent.findMany({
    where: {
      ip: filter.ip,
      action: filter.action ? (filter.action.endsWith(".") ? { startsWith: filter.action } : filter.action) : undefined,
    },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: limit + 1,
    ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
}
