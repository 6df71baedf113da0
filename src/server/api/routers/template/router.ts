import * as templates from "../../../domain/templates";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import {
  templateCreateInput,
  templateGetInput,
  templateListInput,
  templateListOutput,
  templateOutput,
  templateUpdateInput,
} from "./schemas";

export const templateRouter = router({
  /** The built-in templates plus the project's own: built-ins first, then by name. */
  list: projectProcedure("viewer")
    .input(templateListInput)
    .output(templateListOutput)
    .query(({ ctx, input }) => templates.listTemplates(ctx.services.db.prisma, input.projectId)),

  get: projectProcedure("viewer")
    .input(templateGetInput)
    .output(templateOutput)
    .query(({ ctx, input }) => templates.getTemplate(ctx.services.db.prisma, input.projectId, input.templateId)),

  /** A new project template, or a copy of a built-in or project template (copyFrom) with changes. */
  create: projectProcedure("admin")
    .input(templateCreateInput)
    .output(templateOutput)
    .mutation(({ ctx, input }) => {
      const { projectId, ...fields } = input;
      return templates.createTemplate(ctx.services.db.prisma, projectId, fields);
    }),

  /** Changes a project template; built-in templates are read-only (copy them first). */
  update: projectProcedure("admin")
    .input(templateUpdateInput)
    .output(templateOutput)
    .mutation(({ ctx, input }) => {
      const { projectId, templateId, ...patch } = input;
      return templates.updateTemplate(ctx.services.db.prisma, projectId, templateId, patch);
    }),
});
