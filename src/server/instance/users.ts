// The instance's users, as the instance admin sees and manages them: list (last seen, projects,
// sessions, tokens), disable / enable, revoke sessions, promote / demote admins, and the
// password reset of `npm run admin`. Disabling deletes the user's sessions at once; their machine
// tokens stay but are refused while the account is disabled (createContext), and open streams end
// (access-change event).
import { randomBytes } from "node:crypto";
import { hashPassword } from "better-auth/crypto";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../auth";
import type { PrismaClient } from "../db";
import { DomainError, forbidden, notFound } from "../domain/errors";
import type { ProjectRole } from "../domain/roles";
import { publishAccessChange } from "../trust/access-events";

/** pg_advisory_xact_lock key for changes that must keep one enabled admin. */
const ADMIN_LOCK = 4_171_230_913;

export interface InstanceUser {
  id: string;
  name: string;
  email: string;
  isAdmin: boolean;
  disabledAt: Date | null;
  createdAt: Date;
  lastSeenAt: Date | null;
  projects: { projectId: string; name: string; role: ProjectRole }[];
  /** Unexpired better-auth sessions (signed-in browsers). */
  activeSessions: number;
  /** Machine tokens neither revoked nor expired. */
  activeTokens: number;
}

export async function listUsers(prisma: PrismaClient): Promise<InstanceUser[]> {
  const now = new Date();
  const rows = await prisma.user.findMany({
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: {
      id: true,
      name: true,
      email: true,
      isAdmin: true,
      disabledAt: true,
      createdAt: true,
      lastSeenAt: true,
      memberships: { select: { role: true, project: { select: { id: true, name: true } } }, orderBy: { createdAt: "asc" } },
      _count: {
        select: {
          sessions: { where: { expiresAt: { gt: now } } },
          apiTokens: { where: { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } },
        },
      },
    },
  });
  return rows.map(({ memberships, _count, ...u }) => ({
    ...u,
    projects: memberships.map((m) => ({ projectId: m.project.id, name: m.project.name, role: m.role })),
    activeSessions: _count.sessions,
    activeTokens: _count.apiTokens,
  }));
}

async function userById(prisma: PrismaClient, userId: string) {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { id: true, isAdmin: true, disabledAt: true } });
  if (!user) throw notFound("User");
  return user;
}

/** Inside a transaction holding the admin lock: would the instance still have an enabled admin without `userId`? */
async function requireAnotherAdmin(tx: Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0], userId: string, what: string) {
  const others = await tx.user.count({ where: { isAdmin: true, disabledAt: null, id: { not: userId } } });
  if (others === 0) throw new DomainError("PRECONDITION_FAILED", `The last instance admin cannot be ${what}: make someone else an admin first.`);
}

/** Disables an account: sessions deleted, tokens and streams refused from now on, its pending invitations revoked. */
export async function disableUser(prisma: PrismaClient, actorId: string, userId: string): Promise<{ sessionsRevoked: number }> {
  if (actorId === userId) throw forbidden("You cannot disable your own account.");
  const target = await userById(prisma, userId);
  const sessionsRevoked = await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMIN_LOCK}::bigint)`;
    if (target.isAdmin) await requireAnotherAdmin(tx, userId, "disabled");
    await tx.user.update({ where: { id: userId }, data: { disabledAt: target.disabledAt ?? new Date() } });
    const { count } = await tx.session.deleteMany({ where: { userId } });
    // Links the account handed out stop letting people in with it.
    await tx.invitation.updateMany({ where: { createdById: userId, usedAt: null, revokedAt: null }, data: { revokedAt: new Date() } });
    return count;
  });
  publishAccessChange({ kind: "user", userId });
  return { sessionsRevoked };
}

export async function enableUser(prisma: PrismaClient, userId: string): Promise<void> {
  await userById(prisma, userId);
  await prisma.user.update({ where: { id: userId }, data: { disabledAt: null } });
}

/** Signs the user out everywhere (their machine tokens are not affected). */
export async function revokeSessions(prisma: PrismaClient, userId: string): Promise<{ sessionsRevoked: number }> {
  await userById(prisma, userId);
  const { count } = await prisma.session.deleteMany({ where: { userId } });
  publishAccessChange({ kind: "user", userId });
  return { sessionsRevoked: count };
}

export async function setAdmin(prisma: PrismaClient, actorId: string, userId: string, isAdmin: boolean): Promise<void> {
  if (actorId === userId && !isAdmin) throw forbidden("You cannot remove your own admin role; another admin can.");
  const target = await userById(prisma, userId);
  if (isAdmin && target.disabledAt) throw new DomainError("PRECONDITION_FAILED", "This account is disabled: enable it first.");
  await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMIN_LOCK}::bigint)`;
    if (!isAdmin && target.isAdmin) await requireAnotherAdmin(tx, userId, "demoted");
    await tx.user.update({ where: { id: userId }, data: { isAdmin } });
  });
  if (!isAdmin) publishAccessChange({ kind: "user", userId });
}

// --- for `npm run admin` (a locked-out instance) ---------------------------------------------

async function userByEmail(prisma: PrismaClient, email: string) {
  const user = await prisma.user.findUnique({ where: { email: email.trim().toLowerCase() }, select: { id: true, email: true, name: true } });
  if (!user) throw new DomainError("NOT_FOUND", `No Armory user has the email ${email}.`);
  return user;
}

export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

/**
 * Sets a new password (hashed by better-auth's own hasher, so sign-in accepts it) and signs the
 * user out everywhere. Returns the number of sessions deleted.
 */
export async function resetPassword(prisma: PrismaClient, email: string, password: string): Promise<{ sessionsRevoked: number }> {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new DomainError("BAD_REQUEST", `The password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.`);
  }
  const user = await userByEmail(prisma, email);
  const hash = await hashPassword(password);
  return prisma.$transaction(async (tx) => {
    const updated = await tx.account.updateMany({ where: { userId: user.id, providerId: "credential" }, data: { password: hash } });
    if (updated.count === 0) {
      await tx.account.create({ data: { id: randomBytes(16).toString("hex"), userId: user.id, providerId: "credential", accountId: user.id, password: hash } });
    }
    const { count } = await tx.session.deleteMany({ where: { userId: user.id } });
    return { sessionsRevoked: count };
  });
}

export async function listAdmins(prisma: PrismaClient) {
  return prisma.user.findMany({
    where: { isAdmin: true },
    select: { email: true, name: true, disabledAt: true, lastSeenAt: true },
    orderBy: { createdAt: "asc" },
  });
}

/** Makes the account an instance admin, and enables it if it was disabled. */
export async function makeAdmin(prisma: PrismaClient, email: string): Promise<{ wasAdmin: boolean; wasDisabled: boolean }> {
  const user = await userByEmail(prisma, email);
  const before = await prisma.user.findUniqueOrThrow({ where: { id: user.id }, select: { isAdmin: true, disabledAt: true } });
  await prisma.user.update({ where: { id: user.id }, data: { isAdmin: true, disabledAt: null } });
  return { wasAdmin: before.isAdmin, wasDisabled: !!before.disabledAt };
}
