// tRPC initialisation: the request context, error shaping, and the base procedures every router
// composes from (public, authed, and project-role-checked).
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z } from "zod";
import type { SessionUser } from "../auth";
import { DomainError, toTrpcError } from "../domain/errors";
import type { Logger } from "../logger";
import { countedSubscription } from "../metrics";
import type { Services } from "../services";

export interface Context {
  services: Services;
  user: SessionUser | null;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  log: Logger;
}

export interface CreateContextOptions {
  services: Services;
  headers: Headers;
  requestId?: string;
}

export async function createContext({ services, headers, requestId }: CreateContextOptions): Promise<Context> {
  const rid = requestId ?? headers.get("x-request-id") ?? crypto.randomUUID();
  const session = await services.auth.api.getSession({ headers });
  const user = session?.user ?? null;
  return {
    services,
    user,
    requestId: rid,
    ip: headers.get("x-armory-client-ip"),
    userAgent: headers.get("user-agent"),
    log: services.log.child({ requestId: rid, userId: user?.id }),
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

/** Open subscriptions, by procedure, for /metrics (armory_open_subscriptions). */
const subscriptionGauge = t.middleware(async ({ next, path, type }) => {
  const result = await next();
  if (type !== "subscription" || !result.ok) return result;
  const data = result.data as AsyncIterable<unknown> | undefined;
  if (!data || typeof data !== "object" || !(Symbol.asyncIterator in data)) return result;
  return { ...result, data: countedSubscription(path, data) };
});

export const publicProcedure = t.procedure.use(errorMapping).use(subscriptionGauge);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to do this." });
  }
  return next({ ctx: { ...ctx, user: ctx.user } });
});

export type AuthedContext = Context & { user: SessionUser };
