// The instance door: who may create an account, enforced inside better-auth so the HTTP endpoint
// itself refuses (not only the sign-up page).
//
// - The very first account becomes the instance admin, whatever the mode.
// - After it, ARMORY_SIGN_UP decides: `invite` (default) admits only a sign-up carrying a usable
//   invitation (`"invitation": "<token>"` in the body of POST /api/auth/sign-up/email); `open`
//   admits anyone; `closed` admits nobody. A sign-up that carries an invitation (any mode that
//   admits it) lands in the invitation's project with its role.
// - A disabled user cannot get a session (sign-in refused).
//
// Two steps: a fast check before better-auth does anything (no password hashing, and no "this
// email already exists" answer for people the door refuses), and the authoritative admission
// after the user row exists, under an advisory lock, so two simultaneous first sign-ups cannot
// both become admin and one invitation cannot admit two people. A sign-up refused at that step
// (it lost a race) has its user row deleted (sessions and account go with it).
import { APIError, createAuthMiddleware } from "better-auth/api";
import type { SignUpMode } from "../config";
import type { PrismaClient } from "../db";
import { DomainError } from "../domain/errors";
import type { Logger } from "../logger";
import { writeAuditEvent } from "../trust/audit";
import { INVITATION_BODY_FIELD, checkInvitation, claimInvitation } from "./invitations";

/** pg_advisory_xact_lock key of the sign-up admission step (any constant unique to Armory). */
const ADMISSION_LOCK = 4_171_230_912;

export const SIGN_UP_REFUSED: Record<Exclude<SignUpMode, "open">, string> = {
  invite: "Sign-up on this Armory is by invitation only: ask the instance admin or a project owner for an invitation link.",
  closed: "Sign-up on this Armory is closed.",
};
export const ACCOUNT_DISABLED = "This account is disabled.";

/** Columns of Armory's user table better-auth reads (never accepts them as input). */
export const INSTANCE_USER_FIELDS = {
  isAdmin: { type: "boolean", required: false, defaultValue: false, input: false },
  disabledAt: { type: "date", required: false, input: false },
  lastSeenAt: { type: "date", required: false, input: false },
} as const;

function invitationFrom(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const v = (body as Record<string, unknown>)[INVITATION_BODY_FIELD];
  return typeof v === "string" && v ? v.slice(0, 200) : null;
}

function refuse(message: string): APIError {
  return new APIError("FORBIDDEN", { message, code: "SIGN_UP_REFUSED" });
}

/** What better-auth's options need: the before hook and the database hooks. */
export function instanceDoor(prisma: PrismaClient, mode: SignUpMode, log?: Logger) {
  /** Fast refusal: throws when this sign-up cannot be admitted (re-checked under the lock later). */
  async function precheck(body: unknown): Promise<void> {
    const token = invitationFrom(body);
    const email = typeof (body as { email?: unknown })?.email === "string" ? (body as { email: string }).email : "";
    if (token) {
      if (mode === "closed" && (await prisma.user.count()) > 0) throw refuse(SIGN_UP_REFUSED.closed);
      try {
        await checkInvitation(prisma, token, email);
      } catch (err) {
        if (err instanceof DomainError) throw refuse(err.message);
        throw err;
      }
      return;
    }
    if (mode === "open") return;
    if ((await prisma.user.count()) === 0) return; // the first account
    throw refuse(SIGN_UP_REFUSED[mode]);
  }

  /** Authoritative admission of a just-created user; throws (after deleting the user) if refused. */
  async function admit(user: { id: string; email: string }, body: unknown): Promise<void> {
    const token = invitationFrom(body);
    try {
      await prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMISSION_LOCK}::bigint)`;
        const admin = await tx.user.findFirst({ where: { isAdmin: true }, select: { id: true } });
        if (!admin) {
          const first = await tx.user.findFirst({ orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { id: true } });
          if (first?.id === user.id) {
            await tx.user.update({ where: { id: user.id }, data: { isAdmin: true } });
            return;
          }
        }
        if (token) {
          if (mode === "closed") throw refuse(SIGN_UP_REFUSED.closed);
          const joined = await claimInvitation(tx, token, user);
          await writeAuditEvent(tx as PrismaClient, {
            userId: user.id,
            userEmail: user.email,
            tokenId: null,
            tokenPrefix: null,
            action: "invitation.signUp",
            type: "mutation",
            projectId: joined.projectId,
            allowed: true,
            reason: `Signed up with invitation ${joined.invitationId}: joined as ${joined.role}.`,
            outcome: "ok",
            requestId: crypto.randomUUID(),
            ip: null,
            userAgent: null,
            input: { role: joined.role },
          });
          return;
        }
        if (mode !== "open") throw refuse(SIGN_UP_REFUSED[mode]);
      });
    } catch (err) {
      await prisma.user.delete({ where: { id: user.id } }).catch(() => {});
      if (err instanceof APIError) throw err;
      if (err instanceof DomainError) throw refuse(err.message);
      log?.error({ err }, "sign-up admission failed");
      throw new APIError("INTERNAL_SERVER_ERROR", { message: "Sign-up failed; try again." });
    }
  }

  return {
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path === "/sign-up/email") await precheck(ctx.body);
      }),
    },
    databaseHooks: {
      user: {
        create: {
          after: async (user: { id: string; email: string }, ctx: { body?: unknown } | null) => {
            await admit(user, ctx?.body);
          },
        },
      },
      session: {
        create: {
          before: async (session: { userId: string }) => {
            const user = await prisma.user.findUnique({ where: { id: session.userId }, select: { disabledAt: true } });
            if (user?.disabledAt) throw new APIError("FORBIDDEN", { message: ACCOUNT_DISABLED, code: "ACCOUNT_DISABLED" });
          },
        },
      },
    },
  };
}
