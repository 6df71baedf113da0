import { z } from "zod";
import * as members from "../../../domain/members";
import * as projects from "../../../domain/projects";
import { projectProcedure } from "../../middleware/project-access";
import { authedProcedure, router } from "../../trpc";

// Members: everyone in the project sees them; admins manage them (see domain/members.ts).
const membersRouter = router({
  list: projectProcedure("viewer")
    .output(z.array(memberOutput))
    .query(({ ctx, input }) => members.listMembers(ctx.services.db.prisma, input.projectId)),

  add: projectProcedure("admin")
    .input(memberAddInput)
    .output(memberOutput)
    .mutation(({ ctx, input }) => members.addMember(ctx.services.db.prisma, input.projectId, ctx.projectRole, input.email, input.role)),

  updateRole: projectProcedure("admin")
    .input(memberUpdateRoleInput)
    .output(memberOutput)
    .mutation(({ ctx, input }) =>
      members.updateMemberRole(ctx.services.db.prisma, input.projectId, ctx.projectRole, input.userId, input.role),
    ),

  remove: projectProcedure("admin")
    .input(memberRemoveInput)
    .output(z.object({ userId: z.string(), removed: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await members.removeMember(ctx.services.db.prisma, input.projectId, ctx.projectRole, input.userId);
      return { userId: input.userId, removed: true as const };
    }),
});
import {
  projectCreateInput,
  projectDeleteOutput,
  memberAddInput,
  memberOutput,
  memberRemoveInput,
  memberUpdateRoleInput,
  projectListOutput,
  projectOutput,
  projectUpdateInput,
} from "./schemas";

export const projectRouter = router({
  list: authedProcedure
    .output(projectListOutput)
    .query(async ({ ctx }) => {
      const all = await projects.listProjects(ctx.services.db.prisma, ctx.user.id);
      // A token limited to some projects sees only those.
      const only = ctx.token?.projectIds ?? [];
      return only.length ? all.filter((p) => only.includes(p.id)) : all;
    }),

  get: projectProcedure("viewer")
    .output(projectOutput)
    .query(({ ctx, input }) => projects.getProject(ctx.services.db.prisma, input.projectId, ctx.projectRole)),

  create: authedProcedure
    .input(projectCreateInput)
    .output(projectOutput)
    .mutation(({ ctx, input }) => projects.createProject(ctx.services.db.prisma, ctx.user.id, input)),

  update: projectProcedure("admin")
    .input(projectUpdateInput)
    .output(projectOutput)
    .mutation(({ ctx, input }) =>
      projects.updateProject(ctx.services.db.prisma, input.projectId, ctx.projectRole, input),
    ),

  delete: projectProcedure("owner")
    .output(projectDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      // Its agents first (containers and volumes): a project's rows go with it, and a container
      // nobody owns any more must not keep running. An unreachable engine stops the delete (412).
      const agents = await ctx.services.db.prisma.agent.findMany({ where: { projectId: input.projectId }, select: { id: true } });
      for (const agent of agents) await ctx.services.agents.remove(input.projectId, agent.id, false);
      await projects.deleteProject(ctx.services.db.prisma, input.projectId);
      // Its network and egress relay (left for the start-up sweep if containers still hold the network).
      await ctx.services.projectNetworks.release(input.projectId);
      return { id: input.projectId, deleted: true as const };
    }),

  members: membersRouter,
});
