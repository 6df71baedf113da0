// tRPC initialisation: the request context, error shaping, and the base procedures every router
// composes from (public, authed, and project-role-checked).
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z } from "zod";
import { CLIENT_IP_HEADER, type SessionUser } from "../auth";
import { DomainError, forbidden, toTrpcError } from "../domain/errors";
import { AuditTrail, writeAuditEvent } from "../trust/audit";
import { authenticateToken, parseBearer, type TokenIdentity } from "../trust/tokens";
import type { Logger } from "../logger";
import { countedSubscription } from "../metrics";
import type { Services } from "../services";

export interface Context {
  services: Services;
  /** The signed-in user, or the owner of the machine token the call carries. */
  user: SessionUser | null;
  /** Set when the call authenticated with a machine token (the token acts as `user`, narrowed by its scopes). */
  token: TokenIdentity | null;
  /** A presented token that did not authenticate (401) or was rate-limited (429); authed procedures throw it. */
  authFailure: TRPCError | null;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  log: Logger;
}

export interface CreateContextOptions {
  services: Services;
  headers: Headers;
  requestId?: string;
  /** tRPC connection params (SSE subscriptions from browsers, whose EventSource cannot set headers). */
  connectionParams?: Record<string, string | undefined> | null;
}

/**
 * Who is calling: `Authorization: Bearer <token>` (or the `token` connection param of an SSE
 * subscription) wins over the session cookie; a bad token never falls back to the cookie.
 */
export async function createContext({ services, headers, requestId, connectionParams }: CreateContextOptions): Promise<Context> {
  const rid = requestId ?? headers.get("x-request-id") ?? crypto.randomUUID();
  const ip = headers.get(CLIENT_IP_HEADER);
  const presented = parseBearer(headers.get("authorization")) ?? connectionParams?.token ?? null;
  let user: SessionUser | null = null;
  let token: TokenIdentity | null = null;
  let authFailure: TRPCError | null = null;
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
  }
  return {
    services,
    user: authFailure ? null : user,
    token: authFailure ? null : token,
    authFailure,
    requestId: rid,
    ip,
    userAgent: headers.get("user-agent"),
    log: services.log.child({ requestId: rid, userId: user?.id, tokenPrefix: token?.prefix }),
  };
}

/** zod issues as one readable sentence per field, e.g. "name: Project name is required". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
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
/** Open subscriptions, by procedure, for /metrics (armory_open_subscriptions). */
const subscriptionGauge = t.middleware(async ({ next, path, type }) => {
  const result = await next();
  if (type !== "subscription" || !result.ok) return result;
  const data = result.data as AsyncIterable<unknown> | undefined;
  if (!data || typeof data !== "object" || !(Symbol.asyncIterator in data)) return result;
  return { ...result, data: countedSubscription(path, data) };
});

function field(input: unknown, key: string): string | null {
  if (typeof input !== "object" || input === null) return null;
  const v = (input as Record<string, unknown>)[key];
  return typeof v === "string" ? v.slice(0, 500) : null;
}

/**
 * The audit log, on every procedure: each mutation, each call that took a trust decision
 * (agentProcedure, file paths, images) and each refused call becomes one audit entry, written
 * before the response. Handlers record decisions through `ctx.audit`.
 */
const auditMiddleware = t.middleware(async ({ ctx, next, path, type, getRawInput }) => {
  const audit = new AuditTrail();
  const result = await next({ ctx: { audit } });
  const error = result.ok ? null : result.error;
  const refused = !!error && REFUSALS.has(error.code);
  if (type !== "mutation" && audit.decisions.length === 0 && !refused) return result;
  const decision = audit.deciding;
  let input: unknown;
  try {
    input = await getRawInput();
  } catch {
    input = undefined;
  }
  const allowed = decision ? audit.decisions.every((d) => d.allowed) : !refused;
  const reason = (decision && (!decision.allowed || !error) ? decision.reason : error?.message) ?? audit.note ?? "Signed in.";
  try {
    await writeAuditEvent(ctx.services.db.prisma, {
      userId: ctx.user?.id ?? null,
      userEmail: ctx.user?.email ?? null,
      tokenId: ctx.token?.id ?? null,
      tokenPrefix: ctx.token?.prefix ?? null,
      action: path,
      type,
      permission: decision?.permission ?? null,
      projectId: field(input, "projectId"),
      agentId: decision?.agentId ?? field(input, "agentId"),
      agentName: decision?.agentName ?? null,
      // A denial names what was denied (e.g. the file a symlink leads to); else the requested one.
      filePath: (decision?.allowed === false ? decision.filePath : undefined) ?? audit.decisions.find((d) => d.filePath)?.filePath ?? field(input, "path"),
      image: (decision?.allowed === false ? decision.image : undefined) ?? audit.decisions.find((d) => d.image)?.image ?? field(input, "image"),
      allowed,
      reason,
      grantId: decision?.grantId ?? null,
      outcome: error ? error.code : "ok",
      requestId: ctx.requestId,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      input,
    });
  } catch (err) {
    ctx.log.error({ err, path }, "could not write the audit entry");
  }
  return result;
});

export const publicProcedure = t.procedure.use(auditMiddleware).use(errorMapping).use(subscriptionGauge);

/**
 * A signed-in caller (cookie session or machine token). A token's scopes decide what kind of
 * call it may make: `read` for queries and subscriptions, `write` for mutations.
 */
export const authedProcedure = publicProcedure.use(({ ctx, next, type }) => {
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
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** Only for a person's own session: machine tokens cannot manage tokens (no token minting tokens). */
export const sessionProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.token) throw forbidden("Machine tokens cannot do this; sign in as a person.");
  return next();
});

export type AuthedContext = Context & { user: SessionUser; audit: AuditTrail };
