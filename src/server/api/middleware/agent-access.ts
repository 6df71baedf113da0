// The one permission check for agent-targeted procedures: each declares the permission it needs
// (`agentProcedure("stop")`) and this middleware decides before the handler runs. Today the
// decision is the caller's project role (DEFAULT_ROLE_FOR); trust grants plug in here.
import { z } from "zod";
import { DEFAULT_ROLE_FOR, roleAllows, type AgentPermission } from "../../domain/agent-permissions";
import { forbidden, notFound } from "../../domain/errors";
import { agentIdSchema } from "../schemas/ids";
import { projectProcedure } from "./project-access";

export interface AgentAccess {
  permission: AgentPermission;
  agent: { id: string; name: string; projectId: string };
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
      if (!roleAllows(ctx.projectRole, permission)) {
        throw forbidden(
          `This needs the ${permission} permission on agent ${agent.name}: the ${DEFAULT_ROLE_FOR[permission]} role or higher in this project, or a trust grant; you are ${ctx.projectRole}.`,
        );
      }
      const access: AgentAccess = { permission, agent };
      return next({ ctx: { ...ctx, agentAccess: access } });
    });
}
