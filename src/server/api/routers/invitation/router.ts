import { z } from "zod";
import { notFound } from "../../../domain/errors";
import { requireProjectRole } from "../../../domain/projects";
import type { ProjectRole } from "../../../domain/roles";
import * as invitations from "../../../instance/invitations";
import { projectIdSchema } from "../../schemas/ids";
import { publicProcedure, router, sessionProcedure } from "../../trpc";
import {
  invitationAcceptOutput,
  invitationCreateInput,
  invitationOutput,
  invitationPreviewOutput,
  invitationRefInput,
  invitationSecretOutput,
  invitationTokenInput,
} from "./schemas";

/**
 * Managing a project's invitations: the instance admin (for any project, acting as owner) or an
 * owner of the project. Signed-in people only: a machine token cannot mint ways into the instance.
 */
const inviterProcedure = sessionProcedure.input(z.object({ projectId: projectIdSchema })).use(async ({ ctx, input, next }) => {
  const prisma = ctx.services.db.prisma;
  let role: ProjectRole;
  if (ctx.user.isAdmin) {
    const project = await prisma.project.findUnique({ where: { id: input.projectId }, select: { id: true } });
    if (!project) throw notFound("Project");
    role = "owner";
    ctx.audit.note = "The instance admin manages the invitations of every project.";
  } else {
    role = await requireProjectRole(prisma, input.projectId, ctx.user.id, "owner");
    ctx.audit.note = "Project owners manage their project's invitations.";
  }
  return next({ ctx: { ...ctx, inviterRole: role } });
});

export const invitationRouter = router({
  create: inviterProcedure
    .input(invitationCreateInput)
    .output(invitationSecretOutput)
    .mutation(({ ctx, input }) =>
      invitations.createInvitation(ctx.services.db.prisma, { userId: ctx.user.id, role: ctx.inviterRole }, input),
    ),

  list: inviterProcedure
    .output(z.array(invitationOutput))
    .query(({ ctx, input }) => invitations.listInvitations(ctx.services.db.prisma, input.projectId)),

  revoke: inviterProcedure
    .input(invitationRefInput)
    .output(invitationOutput)
    .mutation(({ ctx, input }) => invitations.revokeInvitation(ctx.services.db.prisma, input.projectId, input.invitationId)),

  /** A signed-in person joins the invitation's project with its role (uses the invitation). */
  accept: sessionProcedure
    .input(invitationTokenInput)
    .output(invitationAcceptOutput)
    .mutation(({ ctx, input }) => invitations.acceptInvitation(ctx.services.db.prisma, ctx.user, input.token)),

  /** Public, for the sign-up page: what a valid invitation offers; nothing about any other token. */
  preview: publicProcedure
    .input(invitationTokenInput)
    .output(invitationPreviewOutput)
    .query(async ({ ctx, input }) => {
      const preview = await invitations.previewInvitation(ctx.services.db.prisma, input.token);
      if (!preview) return { valid: false as const, message: invitations.INVALID_INVITATION };
      const { projectName, role, expiresAt, emailRestricted } = preview;
      return { valid: true as const, projectName, role, expiresAt, emailRestricted };
    }),
});
