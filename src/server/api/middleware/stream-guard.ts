// Permissions hold for the life of a stream. A subscription is authorized once, when it starts,
// by the same middlewares as any call; this guard keeps that authorization true while it runs.
// Each level that authorized the call registers its check here (authedProcedure: the identity —
// user not disabled, session or token still valid; projectProcedure: the project role;
// agentProcedure: the agent permission, role default or trust grant). Whenever an access change
// that may concern the caller is published (src/server/trust/access-events.ts), and when a token,
// session or grant the permission rests on reaches its expiry (a timer, not polling), the guard
// re-runs those checks; when one now fails, the stream ends with that error (401/403), which the
// client receives as the subscription's error, and the procedure's generator is returned.
import { TRPCError } from "@trpc/server";
import type { PrismaClient } from "../../db";
import { toTrpcError } from "../../domain/errors";
import { ACCOUNT_DISABLED } from "../../instance/door";
import type { Logger } from "../../logger";
import { onAccessChange, type AccessChange } from "../../trust/access-events";
import { auditCaller, inputField, writeAuditEvent } from "../../trust/audit";
import type { TokenIdentity } from "../../trust/tokens";

export interface StreamCheck {
  /** What the check is about, e.g. "identity", "project role", "agent permission". */
  name: string;
  /** Whether an access change may change this check's answer. */
  concerns: (change: AccessChange) => boolean;
  /**
   * Re-runs the authorization the procedure ran; throws (TRPCError or DomainError) when it fails
   * now. Resolves to the next moment the answer changes by itself (an expiry), or null.
   */
  check: () => Promise<Date | null>;
  /** When the answer, as first given, changes by itself (the token's, session's or grant's expiry). */
  expiresAt?: Date | null;
}

/** setTimeout's ceiling (about 24.8 days): longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Expiry is `expiresAt <= now`: wake just after it. */
const EXPIRY_SLACK_MS = 5;

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> => typeof v === "object" && v !== null && Symbol.asyncIterator in v;

/** An error the client should see as final (401/403/404) or as "try again" (a failed re-check). */
function endingError(err: unknown): TRPCError {
  const e = toTrpcError(err);
  if (e.code === "INTERNAL_SERVER_ERROR") {
    return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "Armory could not re-check this stream's permission; reconnect to check again." });
  }
  return e;
}

/**
 * One per subscription call: collects the checks the middlewares register, listens for access
 * changes from the moment the call is authorized (so a change during the rest of the set-up is
 * not missed), and wraps the procedure's async iterable.
 */
export class StreamGuard {
  private readonly checks: StreamCheck[] = [];
  private off: (() => void) | null;
  /** A concerning change arrived before the stream was wrapped: re-check at once then. */
  private pending = false;
  private onChange: (() => void) | null = null;

  constructor(
    private readonly log?: Logger,
    /** Told once when a re-check ends the stream (before the client sees the error). */
    private readonly onEnd?: (err: TRPCError) => void,
  ) {
    this.off = onAccessChange((change) => {
      if (!this.checks.some((c) => c.concerns(change))) return;
      if (this.onChange) this.onChange();
      else this.pending = true;
    });
  }

  add(check: StreamCheck): void {
    this.checks.push(check);
  }

  /** Stops listening (the call failed before its stream existed). */
  dispose(): void {
    this.off?.();
    this.off = null;
  }

  /** The procedure's result data, guarded (anything that is not an async iterable is returned as is). */
  wrap<T>(data: T): T {
    if (!isAsyncIterable(data)) {
      this.dispose();
      return data;
    }
    return this.guarded(data) as T;
  }

  /**
   * The source, ending with the re-check's error once a check fails. An iterator written by hand
   * (not an async generator): every event of every stream passes here, and a generator's step
   * costs several promises more (src/server/streams/releasing.ts says the same).
   */
  private guarded<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    const inner = source[Symbol.asyncIterator]();
    // The error that ends the stream, and the waiting step to reject with it (one promise per
    // step: racing every step against one long-lived promise would pile up reactions on it).
    let revokedWith: TRPCError | null = null;
    let rejectStep: ((err: TRPCError) => void) | null = null;
    const revoke = (err: TRPCError) => {
      revokedWith ??= err;
      rejectStep?.(revokedWith);
    };
    let started = false;
    let ended = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let running: Promise<void> | null = null;
    let again = false;

    const arm = (at: Date | null) => {
      if (timer) clearTimeout(timer);
      timer = null;
      if (!at || ended) return;
      const ms = Math.max(0, at.getTime() - Date.now()) + EXPIRY_SLACK_MS;
      timer = setTimeout(ms > MAX_TIMER_MS ? () => arm(at) : () => void recheck(), Math.min(ms, MAX_TIMER_MS));
      timer.unref?.();
    };
    const earliest = (dates: (Date | null | undefined)[]): Date | null =>
      dates.reduce<Date | null>((min, d) => (d && (!min || d < min) ? d : min), null);

    const recheck = (): Promise<void> => {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        try {
          do {
            again = false;
            const next: (Date | null)[] = [];
            for (const c of this.checks) next.push(await c.check());
            arm(earliest(next));
          } while (again && !ended);
        } catch (err) {
          const e = endingError(err);
          this.log?.info({ code: e.code, reason: e.message }, "stream ended: its permission no longer holds");
          if (!revokedWith) this.onEnd?.(e);
          revoke(e);
        } finally {
          running = null;
        }
      })();
      return running;
    };

    const start = () => {
      started = true;
      this.onChange = () => void recheck();
      arm(earliest(this.checks.map((c) => c.expiresAt)));
      if (this.pending) void recheck();
    };
    /** The stream is over (done, failed, revoked or returned): stop listening and release the procedure's generator. */
    const finish = () => {
      if (ended) return;
      ended = true;
      rejectStep = null;
      if (timer) clearTimeout(timer);
      this.dispose();
      // At once when it waits at a yield; otherwise as soon as its pending step ends (the
      // request's abort signal ends every Armory stream).
      void Promise.resolve(inner.return?.()).catch(() => {});
    };
    const done = (): IteratorResult<T> => ({ done: true, value: undefined });

    const iterator: AsyncIterator<T> = {
      next: () => {
        if (ended) return Promise.resolve(done());
        if (!started) start();
        if (revokedWith) {
          finish();
          return Promise.reject(revokedWith);
        }
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          rejectStep = (err) => {
            finish();
            reject(err);
          };
          inner.next().then(
            (r) => {
              if (ended) return; // revoked meanwhile: the step was rejected already
              rejectStep = null;
              if (r.done) finish();
              resolve(r);
            },
            (err: unknown) => {
              if (ended) return;
              finish();
              reject(err);
            },
          );
        });
      },
      return: () => {
        finish();
        return Promise.resolve(done());
      },
      throw: (err?: unknown) => {
        finish();
        return Promise.reject(err);
      },
    };
    return { [Symbol.asyncIterator]: () => iterator };
  }
}

/** The guard of a subscription call (set by authedProcedure), for middlewares to register their checks. */
export function streamGuardOf(ctx: object): StreamGuard | null {
  return (ctx as { streamGuard?: StreamGuard | null }).streamGuard ?? null;
}

const unauthorized = (message: string) => new TRPCError({ code: "UNAUTHORIZED", message });

/** The caller as authedProcedure authenticated it. */
export interface IdentityContext {
  services: { db: { prisma: PrismaClient } };
  user: { id: string };
  token: TokenIdentity | null;
  session?: { id: string; expiresAt: Date } | null;
}

/**
 * authedProcedure's check, again: the user exists and is not disabled; the token is not revoked,
 * rotated (its secret replaced) or expired; the cookie session still exists and has not expired.
 */
export function identityCheck(ctx: IdentityContext): StreamCheck {
  const prisma = ctx.services.db.prisma;
  const { user, token, session } = ctx;
  return {
    name: "identity",
    concerns: (c) => (c.kind === "user" && c.userId === user.id) || (c.kind === "token" && !!token && c.tokenId === token.id),
    expiresAt: token ? token.expiresAt : (session?.expiresAt ?? null),
    async check() {
      const now = new Date();
      const row = await prisma.user.findUnique({ where: { id: user.id }, select: { disabledAt: true } });
      if (!row) throw unauthorized("This account no longer exists.");
      if (row.disabledAt) throw unauthorized(ACCOUNT_DISABLED);
      if (token) {
        const t = await prisma.apiToken.findUnique({ where: { id: token.id }, select: { prefix: true, revokedAt: true, expiresAt: true } });
        if (!t || t.revokedAt) throw unauthorized("This token has been revoked.");
        if (t.prefix !== token.prefix) throw unauthorized("This token was rotated: its old secret no longer works.");
        if (t.expiresAt && t.expiresAt <= now) throw unauthorized("This token has expired.");
        return t.expiresAt;
      }
      if (session) {
        const s = await prisma.session.findUnique({ where: { id: session.id }, select: { expiresAt: true } });
        if (!s) throw unauthorized("Your session has ended: sign in again.");
        if (s.expiresAt <= now) throw unauthorized("Your session has expired: sign in again.");
        return s.expiresAt;
      }
      return null;
    },
  };
}

/** What authedProcedure knows of a subscription call, for its guard and the audit entry of its end. */
export interface GuardedCallContext extends IdentityContext {
  user: { id: string; email: string };
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  log: Logger;
}

/**
 * The guard of one subscription call, with the identity check in place; when a re-check ends the
 * stream for lack of permission, that refusal goes to the audit log like any refused call.
 */
export function streamGuardFor(ctx: GuardedCallContext, path: string, getRawInput: () => Promise<unknown>): StreamGuard {
  const guard = new StreamGuard(ctx.log, (err) => {
    if (err.code === "SERVICE_UNAVAILABLE") return;
    void (async () => {
      const input = await getRawInput().catch(() => undefined);
      await writeAuditEvent(ctx.services.db.prisma, {
        ...auditCaller(ctx),
        action: path,
        type: "subscription",
        projectId: inputField(input, "projectId"),
        agentId: inputField(input, "agentId"),
        allowed: false,
        reason: `Stream ended: ${err.message}`,
        outcome: err.code,
        input,
      });
    })().catch((e: unknown) => ctx.log.error({ err: e, path }, "could not write the audit entry of an ended stream"));
  });
  guard.add(identityCheck(ctx));
  return guard;
}
