import { listAuditEvents } from "../../../trust/audit";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import { auditListInput, auditListOutput } from "./schemas";

// The project's audit log (admins and owners): newest first, filtered, cursor-paged; opens on
// changes and denials, with repeated reads folded (server side, so paging stays exact).
export const auditRouter = router({
  list: projectProcedure("admin")
    .input(auditListInput)
    .output(auditListOutput)
    .query(({ ctx, input }) => {
      const { show, ...filter } = input;
      return listAuditEvents(ctx.services.db.prisma, { ...filter, view: show });
    }),
});
