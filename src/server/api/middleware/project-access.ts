// The permission slot: procedures declare the project role they need and this middleware
// checks it before the handler runs. A machine token acts as its owner and may be limited to
// some projects. (Agent-targeted procedures add trust grants on top: agent-access.ts.)
import { z } from "zod";
import { forbidden } from "../../domain/errors";
import { requireProjectRole } from "../../domain/projects";
import type { ProjectRole } from "../../domain/roles";
import type { PrismaClient } from "../../db";
import type { TokenIdentity } from "../../trust/tokens";
import { projectIdSchema } from "../schemas/ids";
import { authedProcedure } from "../trpc";
import { streamGuardOf } from "./stream-guard";

export { projectIdSchema };

/** The project check: the token's project limit, then the caller's role (403 below `minRole`). */
export async function checkProjectAccess(
  ctx: { services: { db: { prisma: PrismaClient } }; user: { id: string }; token: TokenIdentity | null },
  projectId: string,
  minRole: ProjectRole,
): Promise<ProjectRole> {
  if (ctx.token && ctx.token.projectIds.length > 0 && !ctx.token.projectIds.includes(projectId)) {
    throw forbidden(`Token ${ctx.token.name} is not scoped to this project.`);
  }
  return requireProjectRole(ctx.services.db.prisma, projectId, ctx.user.id, minRole);
}

/** A procedure on one project (input `{ projectId }`) for callers with at least `minRole`. */
export function projectProcedure(minRole: ProjectRole) {
  return authedProcedure
    .input(z.object({ projectId: projectIdSchema }))
    .use(async ({ ctx, input, next }) => {
      const role = await checkProjectAccess(ctx, input.projectId, minRole);
      ctx.audit.note = `The ${role} role meets the ${minRole} role this needs.`;
      // A subscription keeps this check for as long as it runs (a removed or demoted member's stream ends).
      streamGuardOf(ctx)?.add({
        name: "project role",
        concerns: (c) => c.kind === "member" && c.userId === ctx.user.id && c.projectId === input.projectId,
        check: async () => (await checkProjectAccess(ctx, input.projectId, minRole), null),
      });
      return next({ ctx: { ...ctx, projectRole: role } });
    });
}
