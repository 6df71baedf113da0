import { clusterView } from "../../../../contracts/cluster";
import { adminProcedure, publicProcedure, router } from "../../trpc";
import { signUpInfoOutput } from "./schemas";

// Public facts about the instance the sign-up page needs before anyone is signed in.
export const instanceRouter = router({
  signUp: publicProcedure.output(signUpInfoOutput).query(async ({ ctx }) => {
    const anyUser = await ctx.services.db.prisma.user.findFirst({ select: { id: true } });
    return { mode: ctx.services.config.signUp, firstAccount: !anyUser };
  }),

  /** The Armory instances sharing this database, the leader, and the daemons each holds (instance admins). */
  cluster: adminProcedure.output(clusterView).query(({ ctx }) => ctx.services.cluster.view()),
});
