import { z } from "zod";
import type { PrismaClient } from "../../../db";
import { DomainError, forbidden, notFound } from "../../../domain/errors";
import { roleAtLeast, type ProjectRole } from "../../../domain/roles";
import * as grants from "../../../trust/grants";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import { grantCreateInput, grantOutput, grantRefInput, grantUpdateInput, trustCheckInput, trustCheckOutput } from "./schemas";

const present = (g: grants.TrustGrant) => ({ ...g, expired: grants.isExpired(g) });

async function roleOf(prisma: PrismaClient, projectId: string, userId: string): Promise<ProjectRole | null> {
  const m = await prisma.projectMember.findUnique({ where: { projectId_userId: { projectId, userId } }, select: { role: true } });
  return m?.role ?? null;
}

/** The caller a trust.check is about, as the decision function names callers. */
async function resolveCaller(
  prisma: PrismaClient,
  projectId: string,
  caller: { type: grants.TrustCallerType; id: string },
): Promise<grants.TrustCaller> {
  if (caller.type === "role") {
    if (!["owner", "admin", "operator", "viewer"].includes(caller.id)) throw new DomainError("BAD_REQUEST", "caller.id: a role is owner, admin, operator or viewer");
    return { userId: "", tokenId: null, role: caller.id as ProjectRole };
  }
  if (caller.type === "token") {
    const token = z.uuid().safeParse(caller.id).success
      ? await prisma.apiToken.findUnique({ where: { id: caller.id }, select: { id: true, userId: true } })
      : null;
    if (!token) throw notFound("Token");
    return { userId: token.userId, tokenId: token.id, role: await roleOf(prisma, projectId, token.userId) };
  }
  const user = await prisma.user.findUnique({ where: { id: caller.id }, select: { id: true } });
  if (!user) throw notFound("User");
  return { userId: user.id, tokenId: null, role: await roleOf(prisma, projectId, user.id) };
}

// Trust grants of one project. Managing them needs the admin role; anyone in the project can ask
// trust.check about themselves.
export const trustRouter = router({
  list: projectProcedure("admin")
    .output(z.array(grantOutput))
    .query(async ({ ctx, input }) => (await grants.listGrants(ctx.services.db.prisma, input.projectId)).map(present)),

  create: projectProcedure("admin")
    .input(grantCreateInput)
    .output(grantOutput)
    .mutation(async ({ ctx, input }) => {
      const { projectId, ...fields } = input;
      return present(await grants.createGrant(ctx.services.db.prisma, projectId, ctx.user.id, fields));
    }),

  update: projectProcedure("admin")
    .input(grantUpdateInput)
    .output(grantOutput)
    .mutation(async ({ ctx, input }) => {
      const { projectId, grantId, ...patch } = input;
      return present(await grants.updateGrant(ctx.services.db.prisma, projectId, grantId, patch));
    }),

  delete: projectProcedure("admin")
    .input(grantRefInput)
    .output(z.object({ id: z.string(), deleted: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await grants.deleteGrant(ctx.services.db.prisma, input.projectId, input.grantId);
      return { id: input.grantId, deleted: true as const };
    }),

  /** Would this caller be allowed `permission` on the agent (and the path or image)? With the reason and the deciding grant. */
  check: projectProcedure("viewer")
    .input(trustCheckInput)
    .output(trustCheckOutput)
    .query(async ({ ctx, input }) => {
      const prisma = ctx.services.db.prisma;
      const self = !input.caller || (input.caller.type === "user" && input.caller.id === ctx.user.id);
      if (!self && !roleAtLeast(ctx.projectRole, "admin")) throw forbidden("Checking another caller's access needs the admin role.");
      const agent = await prisma.agent.findFirst({ where: { id: input.agentId, projectId: input.projectId }, select: { id: true, name: true, projectId: true } });
      if (!agent) throw notFound("Agent");
      const caller = self
        ? { userId: ctx.user.id, tokenId: ctx.token?.id ?? null, role: ctx.projectRole }
        : await resolveCaller(prisma, input.projectId, input.caller!);
      const filePath = input.path !== undefined && (input.permission === "file_read" || input.permission === "file_write") ? grants.normalizeAgentPath(input.path) : undefined;
      const image = input.permission === "update_image" ? input.image : undefined;
      const decision = await grants.decideAgentPermission(prisma, caller, agent, input.permission, { filePath, image });
      ctx.audit.record({
        permission: input.permission,
        allowed: true,
        reason: `trust.check answered ${decision.allowed ? "allowed" : "denied"}: ${decision.reason}`,
        grantId: decision.grant?.id ?? null,
        agentId: agent.id,
        agentName: agent.name,
        filePath,
        image,
      });
      return { allowed: decision.allowed, reason: decision.reason, role: caller.role, grant: decision.grant ? present(decision.grant) : null };
    }),
});
