// The one permission check for agent-targeted procedures: each declares the permission it needs
// (`agentProcedure("stop")`) and this middleware decides before the handler runs: the caller's
// project role by default, or a trust grant (src/server/trust/grants.ts). Every decision goes
// to the audit log. File and image procedures narrow it further with authorizeAgentPath and
// authorizeAgentImage, one call each inside the handler.
import { z } from "zod";
import type { AgentPermission } from "../../domain/agent-permissions";
import { forbidden, notFound } from "../../domain/errors";
import type { ProjectRole } from "../../domain/roles";
import type { AuditTrail } from "../../trust/audit";
import { decideAgentPermission, normalizeAgentPath, type TrustCaller, type TrustDecision } from "../../trust/grants";
import type { TokenIdentity } from "../../trust/tokens";
import { agentIdSchema } from "../schemas/ids";
import { checkProjectAccess, projectProcedure } from "./project-access";
import { streamGuardOf } from "./stream-guard";

export interface AgentAccess {
  permission: AgentPermission;
  agent: { id: string; name: string; projectId: string };
  decision: TrustDecision;
}

/** The part of a procedure's context these checks need (any agentProcedure handler's ctx fits). */
export interface AgentAccessContext {
  services: { db: { prisma: import("../../db").PrismaClient } };
  user: { id: string };
  token: TokenIdentity | null;
  projectRole: ProjectRole;
  audit: AuditTrail;
  agentAccess: AgentAccess;
}

function callerOf(ctx: { user: { id: string }; token: TokenIdentity | null; projectRole: ProjectRole }): TrustCaller {
  return { userId: ctx.user.id, tokenId: ctx.token?.id ?? null, role: ctx.projectRole };
}

/** Decides, records the decision for the audit log, and throws 403 when it denies. */
async function enforce(
  ctx: Omit<AgentAccessContext, "agentAccess">,
  agent: AgentAccess["agent"],
  permission: AgentPermission,
  check: { filePath?: string; image?: string } = {},
): Promise<TrustDecision> {
  const decision = await decideAgentPermission(ctx.services.db.prisma, callerOf(ctx), agent, permission, check);
  ctx.audit.record({
    permission,
    allowed: decision.allowed,
    reason: decision.reason,
    grantId: decision.grant?.id ?? null,
    agentId: agent.id,
    agentName: agent.name,
    ...check,
  });
  if (!decision.allowed) throw forbidden(decision.reason);
  return decision;
}

/**
 * A procedure on one agent (input `{ projectId, agentId }`) for callers allowed `permission`.
 * Unknown agents (or agents of another project) are 404, after the project check.
 */
export function agentProcedure(permission: AgentPermission) {
  return projectProcedure("viewer")
    .input(z.object({ agentId: agentIdSchema }))
    .use(async ({ ctx, input, next }) => {
      const agent = await ctx.services.db.prisma.agent.findFirst({
        where: { id: input.agentId, projectId: input.projectId },
        select: { id: true, name: true, projectId: true },
      });
      if (!agent) throw notFound("Agent");
      const decision = await enforce(ctx, agent, permission);
      // A subscription keeps this check for as long as it runs: the same decision with the
      // caller's current role and grants (a deleted, changed or expiring grant ends the stream).
      streamGuardOf(ctx)?.add({
        name: "agent permission",
        concerns: (c) => (c.kind === "grant" || (c.kind === "member" && c.userId === ctx.user.id)) && c.projectId === input.projectId,
        expiresAt: decision.grant?.expiresAt ?? null,
        check: async () => {
          const role = await checkProjectAccess(ctx, input.projectId, "viewer");
          const now = await decideAgentPermission(ctx.services.db.prisma, callerOf({ ...ctx, projectRole: role }), agent, permission);
          if (!now.allowed) throw forbidden(now.reason);
          return now.grant?.expiresAt ?? null;
        },
      });
      const access: AgentAccess = { permission, agent, decision };
      return next({ ctx: { ...ctx, agentAccess: access } });
    });
}

/**
 * For file procedures: may the caller read or write `filePath` in this agent? The role default
 * covers every path; otherwise a grant's file_read_paths / file_write_paths globs must match the
 * normalized absolute path. Throws 403 (audited) when not; returns the normalized path.
 *
 *   await authorizeAgentPath(ctx, "file_write", input.path);
 */
export async function authorizeAgentPath(ctx: AgentAccessContext, permission: "file_read" | "file_write", filePath: string): Promise<string> {
  const normalized = normalizeAgentPath(filePath);
  await enforce(ctx, ctx.agentAccess.agent, permission, { filePath: normalized });
  return normalized;
}

/**
 * For image updates: may the caller move this agent to `image`? Needs update_image from the
 * role (any image) or from a grant whose allowed_images globs match the image. 403 (audited) otherwise.
 *
 *   await authorizeAgentImage(ctx, input.image);
 */
export async function authorizeAgentImage(ctx: AgentAccessContext, image: string): Promise<void> {
  await enforce(ctx, ctx.agentAccess.agent, "update_image", { image });
}

/**
 * For procedures that name an agent indirectly (an approval's agent): decides `permission` on
 * `agent` like agentProcedure does, audited; throws 403 when it denies.
 *
 *   await authorizeAgent(ctx, approval.agent, "exec");
 */
export async function authorizeAgent(
  ctx: Omit<AgentAccessContext, "agentAccess">,
  agent: AgentAccess["agent"],
  permission: AgentPermission,
): Promise<TrustDecision> {
  return enforce(ctx, agent, permission);
}

/** Whether the caller has `permission` on `agent` (no audit entry, no error): for "may decide" flags in views. */
export async function agentAllows(
  ctx: { services: { db: { prisma: import("../../db").PrismaClient } }; user: { id: string }; token: TokenIdentity | null; projectRole: ProjectRole },
  agent: AgentAccess["agent"],
  permission: AgentPermission,
): Promise<boolean> {
  return (await decideAgentPermission(ctx.services.db.prisma, callerOf(ctx), agent, permission)).allowed;
}
