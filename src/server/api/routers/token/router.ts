import * as tokens from "../../../trust/tokens";
import { router, sessionProcedure } from "../../trpc";
import { z } from "zod";
import { tokenCreateInput, tokenRefInput, tokenSecretOutput, tokenSummaryOutput } from "./schemas";

// A person's own machine tokens. Session only: a token cannot list, mint or rotate tokens.
export const tokenRouter = router({
  list: sessionProcedure
    .output(z.array(tokenSummaryOutput))
    .query(({ ctx }) => tokens.listTokens(ctx.services.db.prisma, ctx.user.id)),

  create: sessionProcedure
    .input(tokenCreateInput)
    .output(tokenSecretOutput)
    .mutation(({ ctx, input }) => tokens.createToken(ctx.services.db.prisma, ctx.user.id, input)),

  rotate: sessionProcedure
    .input(tokenRefInput)
    .output(tokenSecretOutput)
    .mutation(({ ctx, input }) => tokens.rotateToken(ctx.services.db.prisma, ctx.user.id, input.tokenId)),

  revoke: sessionProcedure
    .input(tokenRefInput)
    .output(tokenSummaryOutput)
    .mutation(({ ctx, input }) => tokens.revokeToken(ctx.services.db.prisma, ctx.user.id, input.tokenId)),
});
