// Invitations: how a new person gets into a project (and, in `invite` mode, into the instance).
// The instance admin or a project owner creates one for a role (optionally for one email
// address); its token is a random secret shown once (the link `/sign-up?invite=<token>`), only
// its SHA-256 is stored. It is single use (claimed by a conditional update, so two people racing
// with the same link cannot both get in) and expires (7 days by default, 30 at most).
import { createHash, randomBytes } from "node:crypto";
import type { PrismaClient } from "../db";
import type { Prisma } from "../db/generated/client";
import { DomainError, forbidden, notFound } from "../domain/errors";
import { roleAtLeast, type ProjectRole } from "../domain/roles";

export const INVITATION_DEFAULT_DAYS = 7;
export const INVITATION_MAX_DAYS = 30;
/** Where the token goes in a sign-up request body (`POST /api/auth/sign-up/email`). */
export const INVITATION_BODY_FIELD = "invitation";

const TOKEN_RE = /^inv_[A-Za-z0-9_-]{43}$/;
export const INVALID_INVITATION = "This invitation is invalid or has expired.";

export type InvitationState = "pending" | "used" | "expired" | "revoked";

export interface InvitationSummary {
  id: string;
  projectId: string;
  role: ProjectRole;
  email: string | null;
  createdBy: { name: string; email: string } | null;
  expiresAt: Date;
  usedAt: Date | null;
  usedBy: { name: string; email: string } | null;
  revokedAt: Date | null;
  createdAt: Date;
  state: InvitationState;
}

export function hashInvitationToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A well-formed token's hash, or null (a malformed token never reaches the database). */
function hashIfWellFormed(token: string | null | undefined): string | null {
  return typeof token === "string" && TOKEN_RE.test(token) ? hashInvitationToken(token) : null;
}

export function invitationLink(token: string): string {
  return `/sign-up?invite=${encodeURIComponent(token)}`;
}

const summarySelect = {
  id: true,
  projectId: true,
  role: true,
  email: true,
  expiresAt: true,
  usedAt: true,
  revokedAt: true,
  createdAt: true,
  usedById: true,
  createdBy: { select: { name: true, email: true } },
} as const;

type SummaryRow = Prisma.InvitationGetPayload<{ select: typeof summarySelect }>;

function stateOf(row: { usedAt: Date | null; revokedAt: Date | null; expiresAt: Date }, now = new Date()): InvitationState {
  if (row.usedAt) return "used";
  if (row.revokedAt) return "revoked";
  return row.expiresAt <= now ? "expired" : "pending";
}

async function summarize(prisma: PrismaClient, rows: SummaryRow[]): Promise<InvitationSummary[]> {
  const usedIds = [...new Set(rows.map((r) => r.usedById).filter((id): id is string => !!id))];
  const users = usedIds.length ? await prisma.user.findMany({ where: { id: { in: usedIds } }, select: { id: true, name: true, email: true } }) : [];
  const byId = new Map(users.map((u) => [u.id, { name: u.name, email: u.email }]));
  const now = new Date();
  return rows.map(({ usedById, ...r }) => ({ ...r, usedBy: usedById ? (byId.get(usedById) ?? null) : null, state: stateOf(r, now) }));
}

export interface CreateInvitationInput {
  projectId: string;
  role: ProjectRole;
  email?: string | null;
  /** Days until it expires (1-30, default 7). */
  expiresInDays?: number;
}

/**
 * Creates an invitation; `token` is the only time the secret exists outside the caller.
 * `actorRole` is what the creator may give: their project role (an instance admin acts as owner).
 */
export async function createInvitation(
  prisma: PrismaClient,
  actor: { userId: string; role: ProjectRole },
  input: CreateInvitationInput,
): Promise<{ token: string; link: string; invitation: InvitationSummary }> {
  if (input.role === "owner" && actor.role !== "owner") throw forbidden("Only an owner can invite an owner.");
  if (!roleAtLeast(actor.role, input.role)) throw forbidden(`You cannot invite someone with a role above your own (${actor.role}).`);
  const days = input.expiresInDays ?? INVITATION_DEFAULT_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > INVITATION_MAX_DAYS) {
    throw new DomainError("BAD_REQUEST", `expiresInDays must be a whole number of days from 1 to ${INVITATION_MAX_DAYS}.`);
  }
  const email = input.email?.trim().toLowerCase() || null;
  if (email) {
    const existing = await prisma.projectMember.findFirst({ where: { projectId: input.projectId, user: { email } }, select: { role: true } });
    if (existing) throw new DomainError("CONFLICT", `${email} is already a member of this project (${existing.role}).`);
  }
  const token = `inv_${randomBytes(32).toString("base64url")}`;
  const row = await prisma.invitation.create({
    data: {
      tokenHash: hashInvitationToken(token),
      projectId: input.projectId,
      role: input.role,
      email,
      createdById: actor.userId,
      expiresAt: new Date(Date.now() + days * 24 * 60 * 60 * 1000),
    },
    select: summarySelect,
  });
  const [invitation] = await summarize(prisma, [row]);
  return { token, link: invitationLink(token), invitation: invitation! };
}

/** A project's invitations: pending ones first, then the most recent used, expired or revoked ones. */
export async function listInvitations(prisma: PrismaClient, projectId: string): Promise<InvitationSummary[]> {
  const rows = await prisma.invitation.findMany({ where: { projectId }, select: summarySelect, orderBy: { createdAt: "desc" }, take: 200 });
  const all = await summarize(prisma, rows);
  return [...all.filter((i) => i.state === "pending"), ...all.filter((i) => i.state !== "pending").slice(0, 50)];
}

export async function revokeInvitation(prisma: PrismaClient, projectId: string, invitationId: string): Promise<InvitationSummary> {
  const existing = await prisma.invitation.findFirst({ where: { id: invitationId, projectId }, select: { usedAt: true } });
  if (!existing) throw notFound("Invitation");
  if (existing.usedAt) throw new DomainError("PRECONDITION_FAILED", "This invitation was already used: remove the member instead.");
  // Conditional: an invitation claimed between the read and this write stays used, not revoked.
  await prisma.invitation.updateMany({ where: { id: invitationId, usedAt: null, revokedAt: null }, data: { revokedAt: new Date() } });
  const row = await prisma.invitation.findUniqueOrThrow({ where: { id: invitationId }, select: summarySelect });
  const [invitation] = await summarize(prisma, [row]);
  return invitation!;
}

export interface InvitationPreview {
  /** For server pages only (the public preview procedure does not return it). */
  projectId: string;
  projectName: string;
  role: ProjectRole;
  expiresAt: Date;
  /** Only one email address may use it (which one is not told). */
  emailRestricted: boolean;
}

function usableWhere(tokenHash: string, now = new Date()) {
  return { tokenHash, usedAt: null, revokedAt: null, expiresAt: { gt: now } } satisfies Prisma.InvitationWhereInput;
}

/** What a valid token offers; null for anything else (unknown, used, revoked, expired, malformed). */
export async function previewInvitation(prisma: PrismaClient, token: string): Promise<InvitationPreview | null> {
  const tokenHash = hashIfWellFormed(token);
  if (!tokenHash) return null;
  const row = await prisma.invitation.findFirst({
    where: usableWhere(tokenHash),
    select: { role: true, expiresAt: true, email: true, project: { select: { id: true, name: true } } },
  });
  return row ? { projectId: row.project.id, projectName: row.project.name, role: row.role, expiresAt: row.expiresAt, emailRestricted: !!row.email } : null;
}

/**
 * Checks (without using it) that `token` is a usable invitation for `email`; throws FORBIDDEN
 * with a message fit for the person signing up otherwise.
 */
export async function checkInvitation(prisma: PrismaClient, token: string | null | undefined, email: string): Promise<void> {
  const tokenHash = hashIfWellFormed(token);
  const row = tokenHash ? await prisma.invitation.findFirst({ where: usableWhere(tokenHash), select: { email: true } }) : null;
  if (!row) throw forbidden(INVALID_INVITATION);
  if (row.email && row.email !== email.trim().toLowerCase()) throw forbidden("This invitation is for another email address.");
}

type Tx = Prisma.TransactionClient | PrismaClient;

/**
 * Uses the invitation for `user` inside the caller's transaction: marks it used (only if it is
 * still usable: single use even under races) and makes the user a member with its role.
 */
export async function claimInvitation(
  tx: Tx,
  token: string | null | undefined,
  user: { id: string; email: string },
): Promise<{ invitationId: string; projectId: string; role: ProjectRole }> {
  const tokenHash = hashIfWellFormed(token);
  if (!tokenHash) throw forbidden(INVALID_INVITATION);
  const row = await tx.invitation.findFirst({ where: usableWhere(tokenHash), select: { id: true, projectId: true, role: true, email: true } });
  if (!row) throw forbidden(INVALID_INVITATION);
  if (row.email && row.email !== user.email.trim().toLowerCase()) throw forbidden("This invitation is for another email address.");
  const existing = await tx.projectMember.findUnique({ where: { projectId_userId: { projectId: row.projectId, userId: user.id } }, select: { role: true } });
  if (existing) throw new DomainError("CONFLICT", `You are already a member of this project (${existing.role}).`);
  const claimed = await tx.invitation.updateMany({
    where: { id: row.id, usedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
    data: { usedAt: new Date(), usedById: user.id },
  });
  if (claimed.count !== 1) throw forbidden(INVALID_INVITATION);
  await tx.projectMember.create({ data: { projectId: row.projectId, userId: user.id, role: row.role } });
  return { invitationId: row.id, projectId: row.projectId, role: row.role };
}

/** A signed-in user joins the invitation's project (invitation.accept). */
export async function acceptInvitation(
  prisma: PrismaClient,
  user: { id: string; email: string },
  token: string,
): Promise<{ projectId: string; projectName: string; role: ProjectRole }> {
  const joined = await prisma.$transaction((tx) => claimInvitation(tx, token, user));
  const project = await prisma.project.findUniqueOrThrow({ where: { id: joined.projectId }, select: { name: true } });
  return { projectId: joined.projectId, projectName: project.name, role: joined.role };
}
