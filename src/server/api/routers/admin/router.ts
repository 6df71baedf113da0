import { z } from "zod";
import * as users from "../../../instance/users";
import { adminProcedure, router } from "../../trpc";
import { instanceUserOutput, sessionsRevokedOutput, setAdminInput, userChangedOutput, userIdInput } from "./schemas";

// The instance admin's user management (signed-in admins only; see adminProcedure).
export const adminRouter = router({
  users: adminProcedure.output(z.array(instanceUserOutput)).query(({ ctx }) => users.listUsers(ctx.services.db.prisma)),

  /** Sessions deleted; the account's cookies, tokens and open streams are refused from now on. */
  disableUser: adminProcedure
    .input(userIdInput)
    .output(sessionsRevokedOutput)
    .mutation(async ({ ctx, input }) => ({ userId: input.userId, ...(await users.disableUser(ctx.services.db.prisma, ctx.user.id, input.userId)) })),

  enableUser: adminProcedure
    .input(userIdInput)
    .output(userChangedOutput)
    .mutation(async ({ ctx, input }) => {
      await users.enableUser(ctx.services.db.prisma, input.userId);
      return { userId: input.userId, ok: true as const };
    }),

  /** Signs the user out of every browser (machine tokens keep working). */
  revokeSessions: adminProcedure
    .input(userIdInput)
    .output(sessionsRevokedOutput)
    .mutation(async ({ ctx, input }) => ({ userId: input.userId, ...(await users.revokeSessions(ctx.services.db.prisma, input.userId)) })),

  setAdmin: adminProcedure
    .input(setAdminInput)
    .output(userChangedOutput)
    .mutation(async ({ ctx, input }) => {
      await users.setAdmin(ctx.services.db.prisma, ctx.user.id, input.userId, input.isAdmin);
      return { userId: input.userId, ok: true as const };
    }),
});
