// Project members and their roles. Rules: admins manage members up to their own rank; only an
// owner can make, change or remove an owner; a project always keeps at least one owner.
import type { PrismaClient } from "../db";
import { publishAccessChange } from "../trust/access-events";
import { DomainError, forbidden, notFound } from "./errors";
import { roleAtLeast, type ProjectRole } from "./roles";

export interface Member {
  userId: string;
  name: string;
  email: string;
  role: ProjectRole;
  joinedAt: Date;
}

const memberSelect = { userId: true, role: true, createdAt: true, user: { select: { name: true, email: true } } } as const;

function toMember(m: { userId: string; role: ProjectRole; createdAt: Date; user: { name: string; email: string } }): Member {
  return { userId: m.userId, name: m.user.name, email: m.user.email, role: m.role, joinedAt: m.createdAt };
}

export async function listMembers(prisma: PrismaClient, projectId: string): Promise<Member[]> {
  const rows = await prisma.projectMember.findMany({ where: { projectId }, select: memberSelect, orderBy: { createdAt: "asc" } });
  return rows.map(toMember);
}

function requireCanAssign(actorRole: ProjectRole, role: ProjectRole) {
  if (role === "owner" && actorRole !== "owner") throw forbidden("Only an owner can make someone an owner.");
  if (!roleAtLeast(actorRole, role)) throw forbidden(`You cannot give a role above your own (${actorRole}).`);
}

export async function addMember(prisma: PrismaClient, projectId: string, actorRole: ProjectRole, email: string, role: ProjectRole): Promise<Member> {
  requireCanAssign(actorRole, role);
  const user = await prisma.user.findUnique({ where: { email: email.trim().toLowerCase() }, select: { id: true } });
  if (!user) throw new DomainError("NOT_FOUND", `No Armory user has the email ${email}. They need to sign up first.`);
  const existing = await prisma.projectMember.findUnique({ where: { projectId_userId: { projectId, userId: user.id } } });
  if (existing) throw new DomainError("CONFLICT", `${email} is already a member (${existing.role}).`);
  const row = await prisma.projectMember.create({ data: { projectId, userId: user.id, role }, select: memberSelect });
  return toMember(row);
}

async function target(prisma: PrismaClient, projectId: string, userId: string) {
  const row = await prisma.projectMember.findUnique({ where: { projectId_userId: { projectId, userId } }, select: memberSelect });
  if (!row) throw notFound("Member");
  return row;
}

async function requireAnotherOwner(prisma: PrismaClient, projectId: string, what: string) {
  const owners = await prisma.projectMember.count({ where: { projectId, role: "owner" } });
  if (owners <= 1) throw new DomainError("PRECONDITION_FAILED", `The project's last owner cannot be ${what}: make someone else an owner first.`);
}

export async function updateMemberRole(
  prisma: PrismaClient,
  projectId: string,
  actorRole: ProjectRole,
  userId: string,
  role: ProjectRole,
): Promise<Member> {
  const current = await target(prisma, projectId, userId);
  if (current.role === "owner" && actorRole !== "owner") throw forbidden("Only an owner can change an owner's role.");
  requireCanAssign(actorRole, role);
  if (current.role === "owner" && role !== "owner") await requireAnotherOwner(prisma, projectId, "demoted");
  const row = await prisma.projectMember.update({ where: { projectId_userId: { projectId, userId } }, data: { role }, select: memberSelect });
  // Their open streams re-check: a role below what a stream needs ends it.
  publishAccessChange({ kind: "member", projectId, userId });
  return toMember(row);
}

export async function removeMember(prisma: PrismaClient, projectId: string, actorRole: ProjectRole, userId: string): Promise<void> {
  const current = await target(prisma, projectId, userId);
  if (current.role === "owner" && actorRole !== "owner") throw forbidden("Only an owner can remove an owner.");
  if (current.role === "owner") await requireAnotherOwner(prisma, projectId, "removed");
  // The member's trust grants in this project go with them, in the same transaction: grants to
  // the user, and grants to machine tokens the user owns (a token acts as its owner).
  const tokenIds = (await prisma.apiToken.findMany({ where: { userId }, select: { id: true } })).map((t) => t.id);
  await prisma.$transaction([
    prisma.trustGrant.deleteMany({
      where: { projectId, OR: [{ callerType: "user", callerId: userId }, ...(tokenIds.length ? [{ callerType: "token" as const, callerId: { in: tokenIds } }] : [])] },
    }),
    prisma.projectMember.delete({ where: { projectId_userId: { projectId, userId } } }),
  ]);
  // Their open streams of this project end.
  publishAccessChange({ kind: "member", projectId, userId });
}
