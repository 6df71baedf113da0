// The permission slot: procedures declare the project role they need and this middleware
// checks it before the handler runs. (Trust grants for agent-targeted procedures extend this.)
import { z } from "zod";
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
      const role = await requireProjectRole(ctx.services.db.prisma, input.projectId, ctx.user.id, minRole);
      return next({ ctx: { ...ctx, projectRole: role } });
    });
}
