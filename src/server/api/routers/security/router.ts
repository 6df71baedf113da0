import { listSecurityEvents } from "../../../trust/security-log";
import { adminProcedure, router } from "../../trpc";
import { securityLogInput, securityLogOutput } from "./schemas";

// The instance's security log (calls refused before Armory knew the caller): instance admins only.
export const securityRouter = router({
  log: adminProcedure
    .input(securityLogInput)
    .output(securityLogOutput)
    .query(({ ctx, input }) => listSecurityEvents(ctx.services.db.prisma, input)),
});
