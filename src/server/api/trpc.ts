// tRPC initialisation: the request context, error shaping, and the base procedures every router
// composes from (public, authed, and project-role-checked).
import { initTRPC, TRPCError } from "@trpc/server";
import { wireTransformer } from "./wire";
import { z } from "zod";
import { CLIENT_IP_HEADER, type SessionUser } from "../auth";
import { DomainError, forbidden, toTrpcError } from "../domain/errors";
import { AuditTrail, auditCaller, beginAuditEvent, finishAuditEvent, inputField, writeAuditEvent } from "../trust/audit";
import { findUnstorableString } from "../http-boundary";
import { fairShare } from "./fair-share";
import { writeSecurityEvent } from "../trust/security-log";
import { ACCOUNT_DISABLED } from "../instance/door";
import { authenticateToken, parseBearer, type TokenIdentity } from "../trust/tokens";
import type { Logger } from "../logger";
import { countedSubscription } from "../metrics";
import { identityCheck, streamGuardFor, type StreamGuard } from "./middleware/stream-guard";
import { OpenCounts } from "./open-counts";
import type { Services } from "../services";

export interface Context {
  services: Services;
  /** The signed-in user, or the owner of the machine token the call carries. */
  user: SessionUser | null;
  /** Set when the call authenticated with a machine token (the token acts as `user`, narrowed by its scopes). */
  token: TokenIdentity | null;
  /** A presented token that did not authenticate (401) or was rate-limited (429); authed procedures throw it. */
  authFailure: TRPCError | null;
  /** The cookie session the call authenticated with (open streams end when it is revoked or expires). */
  session?: { id: string; expiresAt: Date } | null;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  log: Logger;
  /**
   * How the call arrived: "ws" for the browser's live connection (/api/trpc-ws, subscriptions
   * only, one context per connection); undefined for HTTP and in-process callers.
   */
  transport?: "ws";
}

export interface CreateContextOptions {
  services: Services;
  headers: Headers;
  requestId?: string;
  /** tRPC connection params (SSE subscriptions from browsers, whose EventSource cannot set headers). */
  connectionParams?: Record<string, string | undefined> | null;
  transport?: Context["transport"];
}

/**
 * Who is calling: `Authorization: Bearer <token>` (or the `token` connection param of an SSE
 * subscription) wins over the session cookie; a bad token never falls back to the cookie.
 */
export async function createContext({ services, headers, requestId, connectionParams, transport }: CreateContextOptions): Promise<Context> {
  const rid = requestId ?? headers.get("x-request-id") ?? crypto.randomUUID();
  const ip = headers.get(CLIENT_IP_HEADER);
  const presented = parseBearer(headers.get("authorization")) ?? connectionParams?.token ?? null;
  let user: SessionUser | null = null;
  let token: TokenIdentity | null = null;
  let authFailure: TRPCError | null = null;
  let sessionRef: Context["session"] = null;
  if (presented) {
    const result = await authenticateToken(services.db.prisma, presented, { ip, rateLimit: services.config.tokenFailRateLimit });
    if (result.ok) {
      user = await services.db.prisma.user.findUnique({ where: { id: result.userId } });
      token = result.token;
      if (!user) authFailure = new TRPCError({ code: "UNAUTHORIZED", message: "Invalid token." });
    } else {
      authFailure = new TRPCError({ code: result.status === 429 ? "TOO_MANY_REQUESTS" : "UNAUTHORIZED", message: result.message });
    }
  } else {
    const session = await services.auth.api.getSession({ headers });
    user = session?.user ?? null;
    sessionRef = session ? { id: session.session.id, expiresAt: new Date(session.session.expiresAt) } : null;
  }
  // A disabled account is refused on every path (cookie and token) from the moment it is disabled.
  if (user?.disabledAt && !authFailure) authFailure = new TRPCError({ code: "UNAUTHORIZED", message: ACCOUNT_DISABLED });
  if (user && !authFailure) await touchLastSeen(services, user);
  return {
    services,
    user: authFailure ? null : user,
    token: authFailure ? null : token,
    authFailure,
    session: authFailure ? null : sessionRef,
    requestId: rid,
    ip,
    userAgent: headers.get("user-agent"),
    log: services.log.child({ requestId: rid, userId: user?.id, tokenPrefix: token?.prefix }),
    ...(transport ? { transport } : {}),
  };
}

/** User.lastSeenAt, written at most once a minute per user (the conditional update makes concurrent calls write once). */
const LAST_SEEN_RESOLUTION_MS = 60_000;
async function touchLastSeen(services: Services, user: SessionUser): Promise<void> {
  const now = new Date();
  const seen = user.lastSeenAt ? new Date(user.lastSeenAt).getTime() : 0;
  if (now.getTime() - seen < LAST_SEEN_RESOLUTION_MS) return;
  const before = new Date(now.getTime() - LAST_SEEN_RESOLUTION_MS);
  await services.db.prisma.user
    .updateMany({ where: { id: user.id, OR: [{ lastSeenAt: null }, { lastSeenAt: { lt: before } }] }, data: { lastSeenAt: now } })
    .catch((err: unknown) => services.log.debug({ err }, "could not record lastSeenAt"));
}

/** zod issues as one readable sentence per field, e.g. "name: Project name is required". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

const t = initTRPC.context<Context>().create({
  transformer: wireTransformer,
  errorFormatter({ shape, error, ctx }) {
    const zodError = error.cause instanceof z.ZodError ? error.cause : null;
    return {
      ...shape,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        requestId: ctx?.requestId,
        fieldErrors: zodError ? z.flattenError(zodError).fieldErrors : undefined,
        // Never ship stack traces to clients.
      },
    };
  },
});

export const createCallerFactory = t.createCallerFactory;
export const router = t.router;
export const middleware = t.middleware;

/**
 * Turns domain errors into tRPC errors with the right status, and unexpected errors into a
 * logged 500 that names the request id but reveals nothing else.
 */
const errorMapping = t.middleware(async ({ next, ctx, path, type }) => {
  const result = await next();
  if (!result.ok) {
    const err = result.error;
    const cause = err.cause;
    if (cause instanceof DomainError) {
      throw toTrpcError(cause);
    }
    // Readable validation messages for every caller (HTTP clients and createCaller alike).
    if (err.code === "BAD_REQUEST" && cause instanceof z.ZodError) {
      throw new TRPCError({ code: "BAD_REQUEST", message: describeZodError(cause), cause });
    }
    if (err.code === "INTERNAL_SERVER_ERROR") {
      const mapped = toTrpcError(cause);
      if (mapped.code !== "INTERNAL_SERVER_ERROR") throw mapped;
      ctx.log.error({ err: cause ?? err, path, type }, "procedure failed");
      throw new TRPCError({
        code: "INTERNAL_SERVER_ERROR",
        message: `Something went wrong on the server (request id ${ctx.requestId}).`,
      });
    }
  }
  return result;
});

const REFUSALS = new Set<TRPCError["code"]>(["UNAUTHORIZED", "FORBIDDEN", "TOO_MANY_REQUESTS"]);
const SLOTS_KEY = Symbol.for("armory.subscriptionSlots");
function subscriptionSlots(): OpenCounts {
  const g = globalThis as typeof globalThis & { [SLOTS_KEY]?: OpenCounts };
  return (g[SLOTS_KEY] ??= new OpenCounts());
}

/**
 * Subscriptions: at most ARMORY_MAX_SUBSCRIPTIONS_PER_USER open per user and
 * ARMORY_MAX_SUBSCRIPTIONS_PER_TOKEN per machine token (429 beyond, before the handler runs; the
 * slot is freed when the stream ends), and the open ones by procedure for /metrics
 * (armory_open_subscriptions).
 */
const subscriptionGauge = t.middleware(async ({ ctx, next, path, type }) => {
  if (type !== "subscription") return next();
  const { subscriptionsPerUser, subscriptionsPerToken } = ctx.services.config.limits;
  const keys: [string, number][] = [];
  if (ctx.user && !ctx.authFailure) {
    keys.push([`user:${ctx.user.id}`, subscriptionsPerUser]);
    if (ctx.token) keys.push([`token:${ctx.token.id}`, subscriptionsPerToken]);
  }
  const slots = subscriptionSlots();
  const full = slots.take(keys);
  if (full) {
    const which = full.startsWith("token:") ? `this token (${subscriptionsPerToken})` : `one user (${subscriptionsPerUser})`;
    throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `Too many open live streams: at most ${which} at a time. Close some (other tabs or clients) and try again.` });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    slots.release(keys);
  };
  let result: Awaited<ReturnType<typeof next>>;
  try {
    result = await next();
  } catch (err) {
    release();
    throw err;
  }
  const data = result.ok ? (result.data as AsyncIterable<unknown> | undefined) : undefined;
  if (!data || typeof data !== "object" || !(Symbol.asyncIterator in data)) {
    release();
    return result;
  }
  return { ...result, data: countedSubscription(path, data, release) };
});


/**
 * The first check of every call (queries, mutations, subscriptions; HTTP and createCaller): an
 * input with a string the database cannot store is a 400 before any handler or audit write.
 */
const inputGuard = t.middleware(async ({ next, getRawInput }) => {
  let raw: unknown;
  try {
    raw = await getRawInput();
  } catch {
    return next(); // unparseable input: tRPC's own 400 follows
  }
  const found = findUnstorableString(raw);
  if (found) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `${found.path ? `${found.path}: ` : ""}The input contains ${found.what}, which is not allowed.`,
    });
  }
  return next();
});

/**
 * The audit log, on every procedure: each mutation, each call that took a trust decision
 * (agentProcedure, file paths, images) and each refused call becomes one audit entry, written
 * before the response. Handlers record decisions through `ctx.audit`.
 *
 * A signed-in caller's mutation is written BEFORE it runs (outcome "pending") and refused with
 * 503 when that write fails, so no mutation happens without its entry; the entry is then
 * completed with the outcome (if that update fails, the entry still records the attempt).
 * Calls refused before Armory knew the caller (no session, bad token) go to the instance's
 * security log instead, never into the audit log of a project the caller names.
 */
/**
 * Mutations audited by the session they belong to, not one entry per call: a terminal's keystrokes
 * and resizes (one call per key). The terminal's open (with its exec decision) and its close (with
 * duration and bytes each way) are the entries; a refused call is still audited.
 */
const SESSION_AUDITED = new Set(["terminal.input", "terminal.resize"]);

const auditMiddleware = t.middleware(async ({ ctx, next, path, type, getRawInput }) => {
  const sessionAudited = SESSION_AUDITED.has(path);
  const audit = new AuditTrail();
  const prisma = ctx.services.db.prisma;
  const readInput = async () => {
    try {
      return await getRawInput();
    } catch {
      return undefined;
    }
  };
  const base = (input: unknown) => ({ ...auditCaller(ctx), action: path, type, input });

  let pendingId: string | null = null;
  if (type === "mutation" && ctx.user && !sessionAudited) {
    const input = await readInput();
    try {
      pendingId = await beginAuditEvent(prisma, {
        ...base(input),
        projectId: inputField(input, "projectId"),
        agentId: inputField(input, "agentId"),
        filePath: inputField(input, "path"),
        image: inputField(input, "image"),
        allowed: true,
        reason: "The call is running.",
        outcome: "pending",
      });
    } catch (err) {
      ctx.log.error({ err, path }, "could not write the audit entry; the mutation was not run");
      throw new TRPCError({
        code: "SERVICE_UNAVAILABLE",
        message: `The audit log could not record this change, so it was not made; try again (request id ${ctx.requestId}).`,
      });
    }
  }

  const result = await next({ ctx: { audit } });
  const error = result.ok ? null : result.error;
  const refused = !!error && REFUSALS.has(error.code);
  if (!ctx.user) {
    if (refused) {
      try {
        await writeSecurityEvent(prisma, {
          action: path,
          reason: error.message,
          outcome: error.code,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
          requestId: ctx.requestId,
          input: await readInput(),
        });
      } catch (err) {
        ctx.log.error({ err, path }, "could not write the security log entry");
      }
    }
    return result;
  }
  if (sessionAudited && !refused) return result;
  if (!pendingId && type !== "mutation" && audit.decisions.length === 0 && !refused) return result;
  const decision = audit.deciding;
  const input = await readInput();
  const allowed = decision ? audit.decisions.every((d) => d.allowed) : !refused;
  const reason = (decision && (!decision.allowed || !error) ? decision.reason : error?.message) ?? audit.note ?? "Signed in.";
  const entry = {
    ...base(input),
    permission: decision?.permission ?? null,
    projectId: inputField(input, "projectId"),
    agentId: decision?.agentId ?? inputField(input, "agentId"),
    agentName: decision?.agentName ?? null,
    // A denial names what was denied (e.g. the file a symlink leads to); else the requested one.
    filePath: (decision?.allowed === false ? decision.filePath : undefined) ?? audit.decisions.find((d) => d.filePath)?.filePath ?? inputField(input, "path"),
    image: (decision?.allowed === false ? decision.image : undefined) ?? audit.decisions.find((d) => d.image)?.image ?? inputField(input, "image"),
    allowed,
    reason,
    grantId: decision?.grantId ?? null,
    outcome: error ? error.code : "ok",
  };
  try {
    if (pendingId) await finishAuditEvent(prisma, pendingId, entry);
    else await writeAuditEvent(prisma, entry);
  } catch (err) {
    ctx.log.error({ err, path }, pendingId ? "could not complete the audit entry (it records the attempt as pending)" : "could not write the audit entry");
  }
  return result;
});

/**
 * At most ARMORY_MAX_CONCURRENT_CALLS_PER_USER calls of one caller run at once (the rest wait in
 * the caller's own queue; 429 when that is full), so a burst from one caller cannot starve the
 * others. Subscriptions are not counted here (see subscriptionGauge).
 */
const fairShareGate = t.middleware(async ({ ctx, next, type }) => {
  if (type === "subscription") return next();
  const { callsPerUser, queuedCallsPerUser } = ctx.services.config.limits;
  const caller = ctx.user ? `user:${ctx.user.id}` : `ip:${ctx.ip ?? "unknown"}`;
  const release = await fairShare("calls", callsPerUser, queuedCallsPerUser).acquire(caller);
  if (!release) {
    throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `Too many calls at once: at most ${callsPerUser} run and ${queuedCallsPerUser} wait per caller. Slow down and try again.` });
  }
  try {
    return await next();
  } finally {
    release();
  }
});

/**
 * The live connection (WebSocket) carries subscriptions only: a query or mutation sent over it is
 * refused before anything runs, so every call that reads or changes state once goes through the
 * HTTP boundary (batch and body limits, fair share, the cross-site check).
 */
const liveConnectionGate = t.middleware(({ ctx, next, type }) => {
  if (ctx.transport === "ws" && type !== "subscription") {
    throw new TRPCError({
      code: "METHOD_NOT_SUPPORTED",
      message: `The live connection carries subscriptions only; send ${type === "mutation" ? "mutations" : "queries"} over HTTP (/api/trpc).`,
    });
  }
  return next();
});

export const publicProcedure = t.procedure.use(liveConnectionGate).use(inputGuard).use(fairShareGate).use(auditMiddleware).use(errorMapping).use(subscriptionGauge);

/**
 * A signed-in caller (cookie session or machine token). A token's scopes decide what kind of
 * call it may make: `read` for queries and subscriptions, `write` for mutations.
 */
export const authedProcedure = publicProcedure.use(async ({ ctx, next, type, path, getRawInput }) => {
  if (ctx.authFailure) throw ctx.authFailure;
  if (!ctx.user) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to do this." });
  }
  if (ctx.token) {
    const needed = type === "mutation" ? "write" : "read";
    if (!ctx.token.scopes.includes(needed)) {
      throw forbidden(`This token lacks the ${needed} scope (it has: ${ctx.token.scopes.join(", ") || "none"}).`);
    }
  }
  if (type !== "subscription") return next({ ctx: { ...ctx, user: ctx.user, streamGuard: null as StreamGuard | null } });
  // A subscription's permission is re-checked for as long as it runs (middleware/stream-guard.ts):
  // the identity here, the project role and agent permission where those are checked.
  const streamGuard = streamGuardFor({ ...ctx, user: ctx.user }, path, getRawInput);
  // A live connection authenticated once, when it opened: each subscription it starts checks
  // again that the session (or token) and the account still hold.
  if (ctx.transport === "ws") {
    try {
      await identityCheck({ ...ctx, user: ctx.user }).check();
    } catch (err) {
      streamGuard.dispose();
      throw err;
    }
  }
  const result = await next({ ctx: { ...ctx, user: ctx.user, streamGuard: streamGuard as StreamGuard | null } });
  if (!result.ok) {
    streamGuard.dispose();
    return result;
  }
  return { ...result, data: streamGuard.wrap(result.data) };
});

/** Only for a person's own session: machine tokens cannot manage tokens (no token minting tokens). */
export const sessionProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.token) throw forbidden("Machine tokens cannot do this; sign in as a person.");
  return next();
});

/**
 * The instance admin (users, invitations of any project, model providers). Signed-in sessions
 * only: a machine token never carries instance-admin power, even its admin owner's.
 */
export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.token) throw forbidden("Instance administration needs a signed-in admin; machine tokens cannot do it.");
  if (!ctx.user.isAdmin) throw forbidden("This needs the instance admin.");
  return next();
});

export type AuthedContext = Context & { user: SessionUser; audit: AuditTrail };
