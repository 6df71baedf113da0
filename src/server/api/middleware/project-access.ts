// The permission slot: procedures declare the project role they need and this middleware
// checks it before the handler runs. A machine token acts as its owner and may be limited to
// some projects. (Agent-targeted procedures add trust grants on top: agent-access.ts.)
import { z } from "zod";
import { forbidden } from "../../domain/errors";
import { requireProjectRole } from "../../domain/projects";
import type { ProjectRole } from "../../domain/roles";
import { projectIdSchema } from "../schemas/ids";
import { authedProcedure } from "../trpc";

export { projectIdSchema };

/** A procedure on one project (input `{ projectId }`) for callers with at least `minRole`. */
export function projectProcedure(minRole: ProjectRole) {
  return authedProcedure
    .input(z.object({ projectId: projectIdSchema }))
    .use(async ({ ctx, input, next }) => {
      if (ctx.token && ctx.token.projectIds.length > 0 && !ctx.token.projectIds.includes(input.projectId)) {
        throw forbidden(`Token ${ctx.token.name} is not scoped to this project.`);
      }
      const role = await requireProjectRole(ctx.services.db.prisma, input.projectId, ctx.user.id, minRole);
      ctx.audit.note = `The ${role} role meets the ${minRole} role this needs.`;
      return next({ ctx: { ...ctx, projectRole: role } });
    });
}
