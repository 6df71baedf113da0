import * as projects from "../../../domain/projects";
import { projectProcedure } from "../../middleware/project-access";
import { authedProcedure, router } from "../../trpc";
import {
  projectCreateInput,
  projectDeleteOutput,
  projectListOutput,
  projectOutput,
  projectUpdateInput,
} from "./schemas";

export const projectRouter = router({
  list: authedProcedure
    .output(projectListOutput)
    .query(({ ctx }) => projects.listProjects(ctx.services.db.prisma, ctx.user.id)),

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
      await projects.deleteProject(ctx.services.db.prisma, input.projectId);
      return { id: input.projectId, deleted: true as const };
    }),
});
