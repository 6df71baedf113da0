// Trust grants (SPEC D4) and the one decision function for agent permissions.
//
// Decision: a caller may do `permission` to an agent when its project role allows it by default
// (DEFAULT_ROLE_FOR) OR an applicable, non-expired grant allows it. Grants only ever add rights
// (there are no deny grants); an expired grant is ignored, so it denies unless the role allows.
// A grant applies when its caller is the user, the token the call carries, or the caller's role,
// and its target is the agent, a glob matching the agent's name, or the whole project. Nothing
// exists by default: no wildcard grant unless an admin creates one.
import path from "node:path";
import picomatch from "picomatch";
import type { PrismaClient } from "../db";
/** A trust_grant row as Prisma returns it (TrustGrant below is the API view). */
import type { TrustGrant as GrantRow } from "../db/generated/client";
import { DEFAULT_ROLE_FOR, roleAllows, type AgentPermission } from "../domain/agent-permissions";
import { DomainError, notFound } from "../domain/errors";
import { pathMatchesGlobs } from "../files/paths";
import { imageMatches } from "../versions/allowed-images";
import type { ProjectRole } from "../domain/roles";

import { publishAccessChange } from "./access-events";
import { GRANT_FLAGS, type GrantFlag, type TrustCallerType, type TrustTargetType } from "./vocabulary";

export { GRANT_FLAGS, TRUST_CALLER_TYPES, TRUST_TARGET_TYPES, type GrantFlag, type TrustCallerType, type TrustTargetType } from "./vocabulary";

export interface TrustGrant {
  id: string;
  projectId: string;
  callerType: TrustCallerType;
  callerId: string;
  targetType: TrustTargetType;
  target: string;
  permissions: Record<GrantFlag, boolean>;
  fileReadPaths: string[];
  fileWritePaths: string[];
  allowedImages: string[];
  expiresAt: Date | null;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

type FlagColumn = "inspect" | "start" | "stop" | "restart" | "remove" | "chat" | "logs" | "stats" | "updateEnv" | "updateImage" | "exec";
const COLUMN: Record<GrantFlag, FlagColumn> = {
  inspect: "inspect",
  start: "start",
  stop: "stop",
  restart: "restart",
  remove: "remove",
  chat: "chat",
  logs: "logs",
  stats: "stats",
  update_env: "updateEnv",
  update_image: "updateImage",
  exec: "exec",
};

function toGrant(row: GrantRow): TrustGrant {
  const permissions = Object.fromEntries(GRANT_FLAGS.map((f) => [f, row[COLUMN[f]]])) as Record<GrantFlag, boolean>;
  return {
    id: row.id,
    projectId: row.projectId,
    callerType: row.callerType,
    callerId: row.callerId,
    targetType: row.targetType,
    target: row.target,
    permissions,
    fileReadPaths: row.fileReadPaths,
    fileWritePaths: row.fileWritePaths,
    allowedImages: row.allowedImages,
    expiresAt: row.expiresAt,
    description: row.description,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function flagColumns(permissions: Partial<Record<GrantFlag, boolean>> | undefined) {
  const out: Partial<Record<FlagColumn, boolean>> = {};
  for (const f of GRANT_FLAGS) if (permissions?.[f] !== undefined) out[COLUMN[f]] = permissions[f];
  return out;
}

/** Does the grant give `permission` at all (file access: it has at least one path glob)? */
export function grantGives(grant: TrustGrant, permission: AgentPermission): boolean {
  if (permission === "file_read") return grant.fileReadPaths.length > 0;
  if (permission === "file_write") return grant.fileWritePaths.length > 0;
  return grant.permissions[permission];
}

export function isExpired(grant: { expiresAt: Date | null }, now = new Date()): boolean {
  return !!grant.expiresAt && grant.expiresAt <= now;
}

export function targetMatches(grant: Pick<TrustGrant, "targetType" | "target" | "projectId">, agent: { id: string; name: string; projectId: string }): boolean {
  if (grant.projectId !== agent.projectId) return false;
  if (grant.targetType === "agent") return grant.target === agent.id;
  if (grant.targetType === "project") return grant.target === agent.projectId;
  return picomatch.isMatch(agent.name, grant.target, { dot: true, nocase: false });
}

/** Who is asking, as grants name callers. */
export interface TrustCaller {
  userId: string;
  tokenId: string | null;
  role: ProjectRole | null;
}

export interface AgentRef {
  id: string;
  name: string;
  projectId: string;
}

export interface TrustDecision {
  allowed: boolean;
  reason: string;
  /** The grant that allowed it (null when the role did, or nothing did). */
  grant: TrustGrant | null;
}

/** Grants of the project naming this caller (by user, token or role), expired ones included. */
export async function grantsForCaller(prisma: PrismaClient, projectId: string, caller: TrustCaller): Promise<TrustGrant[]> {
  const or: { callerType: TrustCallerType; callerId: string }[] = [{ callerType: "user", callerId: caller.userId }];
  if (caller.tokenId) or.push({ callerType: "token", callerId: caller.tokenId });
  if (caller.role) or.push({ callerType: "role", callerId: caller.role });
  const rows = await prisma.trustGrant.findMany({ where: { projectId, OR: or }, orderBy: { createdAt: "asc" } });
  return rows.map(toGrant);
}

function grantName(g: TrustGrant): string {
  return g.description ? `grant "${g.description}"` : `grant ${g.id}`;
}

/**
 * The decision for one permission on one agent: role default, else the first applicable
 * non-expired grant that gives it. `check` narrows file permissions to a path and image updates
 * to an image (matched against the grant's globs).
 */
export async function decideAgentPermission(
  prisma: PrismaClient,
  caller: TrustCaller,
  agent: AgentRef,
  permission: AgentPermission,
  check: { filePath?: string; image?: string } = {},
): Promise<TrustDecision> {
  const what = check.filePath ? `${permission} on ${check.filePath}` : check.image ? `${permission} to ${check.image}` : permission;
  if (caller.role && roleAllows(caller.role, permission)) {
    return { allowed: true, reason: `The ${caller.role} role allows ${what} on agent ${agent.name}.`, grant: null };
  }
  const grants = (await grantsForCaller(prisma, agent.projectId, caller)).filter((g) => targetMatches(g, agent));
  const now = new Date();
  const fits = (g: TrustGrant) => {
    if (!grantGives(g, permission)) return false;
    if (check.filePath !== undefined) {
      const globs = permission === "file_write" ? g.fileWritePaths : g.fileReadPaths;
      return pathMatchesGlobs(check.filePath, globs);
    }
    if (check.image !== undefined) return imageMatches(check.image, g.allowedImages);
    return true;
  };
  const winner = grants.find((g) => !isExpired(g, now) && fits(g));
  if (winner) return { allowed: true, reason: `${grantName(winner)} allows ${what} on agent ${agent.name}.`, grant: winner };
  const expired = grants.find((g) => isExpired(g, now) && fits(g));
  if (expired) {
    return { allowed: false, reason: `${grantName(expired)} would allow ${what} on agent ${agent.name} but expired at ${expired.expiresAt!.toISOString()}.`, grant: expired };
  }
  const partial = grants.find((g) => !isExpired(g, now) && grantGives(g, permission));
  if (partial && check.filePath !== undefined) {
    return { allowed: false, reason: `No grant allows ${permission} on ${check.filePath} for agent ${agent.name}: ${grantName(partial)} only covers ${(permission === "file_write" ? partial.fileWritePaths : partial.fileReadPaths).join(", ")}.`, grant: null };
  }
  if (partial && check.image !== undefined) {
    return { allowed: false, reason: `Image ${check.image} is not in the allowed images of ${grantName(partial)} (${partial.allowedImages.join(", ") || "none"}).`, grant: null };
  }
  const roleText = caller.role ? `you are ${caller.role}` : "you are not a member";
  return {
    allowed: false,
    reason: `This needs the ${what} permission on agent ${agent.name}: the ${DEFAULT_ROLE_FOR[permission]} role or higher in this project, or a trust grant; ${roleText}.`,
    grant: null,
  };
}

/** Paths are matched absolute and normalized, so "/workspace/../etc/x" is "/etc/x". */
export function normalizeAgentPath(p: string): string {
  if (typeof p !== "string" || p.length === 0 || p.length > 4096 || p.includes("\0")) {
    throw new DomainError("BAD_REQUEST", "path must be a non-empty file path");
  }
  return path.posix.resolve("/", p);
}

// ---------- CRUD ----------

export interface GrantInput {
  callerType: TrustCallerType;
  callerId: string;
  targetType: TrustTargetType;
  target: string;
  permissions?: Partial<Record<GrantFlag, boolean>>;
  fileReadPaths?: string[];
  fileWritePaths?: string[];
  allowedImages?: string[];
  expiresAt?: Date | null;
  description?: string;
}

async function validateReferences(prisma: PrismaClient, projectId: string, input: Pick<GrantInput, "callerType" | "callerId" | "targetType" | "target">) {
  if (input.callerType === "user") {
    const member = await prisma.projectMember.findUnique({ where: { projectId_userId: { projectId, userId: input.callerId } } });
    if (!member) throw new DomainError("BAD_REQUEST", "callerId: that user is not a member of this project");
  } else if (input.callerType === "token") {
    const token = await prisma.apiToken.findUnique({ where: { id: input.callerId }, select: { userId: true } });
    const member = token && (await prisma.projectMember.findUnique({ where: { projectId_userId: { projectId, userId: token.userId } } }));
    if (!member) throw new DomainError("BAD_REQUEST", "callerId: no token of a member of this project has that id");
  }
  if (input.targetType === "agent") {
    const agent = await prisma.agent.findFirst({ where: { id: input.target, projectId }, select: { id: true } });
    if (!agent) throw new DomainError("BAD_REQUEST", "target: no agent of this project has that id");
  } else if (input.targetType === "project" && input.target !== projectId) {
    throw new DomainError("BAD_REQUEST", "target: a project grant targets this project (its id)");
  }
}

export async function listGrants(prisma: PrismaClient, projectId: string): Promise<TrustGrant[]> {
  const rows = await prisma.trustGrant.findMany({ where: { projectId }, orderBy: { createdAt: "desc" } });
  return rows.map(toGrant);
}

export async function createGrant(prisma: PrismaClient, projectId: string, userId: string, input: GrantInput): Promise<TrustGrant> {
  await validateReferences(prisma, projectId, input);
  const exists = await prisma.trustGrant.findFirst({
    where: { projectId, callerType: input.callerType, callerId: input.callerId, targetType: input.targetType, target: input.target },
    select: { id: true },
  });
  if (exists) throw new DomainError("CONFLICT", "A grant for this caller and target already exists; update it instead.");
  const row = await prisma.trustGrant.create({
    data: {
      projectId,
      callerType: input.callerType,
      callerId: input.callerId,
      targetType: input.targetType,
      target: input.target,
      ...flagColumns(input.permissions),
      fileReadPaths: input.fileReadPaths ?? [],
      fileWritePaths: input.fileWritePaths ?? [],
      allowedImages: input.allowedImages ?? [],
      expiresAt: input.expiresAt ?? null,
      description: input.description ?? "",
      createdById: userId,
    },
  });
  publishAccessChange({ kind: "grant", projectId });
  return toGrant(row);
}

export type GrantPatch = Omit<Partial<GrantInput>, "callerType" | "callerId" | "targetType" | "target">;

export async function updateGrant(prisma: PrismaClient, projectId: string, grantId: string, patch: GrantPatch): Promise<TrustGrant> {
  const existing = await prisma.trustGrant.findFirst({ where: { id: grantId, projectId }, select: { id: true } });
  if (!existing) throw notFound("Grant");
  const row = await prisma.trustGrant.update({
    where: { id: grantId },
    data: {
      ...flagColumns(patch.permissions),
      fileReadPaths: patch.fileReadPaths,
      fileWritePaths: patch.fileWritePaths,
      allowedImages: patch.allowedImages,
      expiresAt: patch.expiresAt,
      description: patch.description,
    },
  });
  publishAccessChange({ kind: "grant", projectId });
  return toGrant(row);
}

export async function deleteGrant(prisma: PrismaClient, projectId: string, grantId: string): Promise<void> {
  const { count } = await prisma.trustGrant.deleteMany({ where: { id: grantId, projectId } });
  if (count === 0) throw notFound("Grant");
  publishAccessChange({ kind: "grant", projectId });
}
