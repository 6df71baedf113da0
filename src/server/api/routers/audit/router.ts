import { listAuditEvents } from "../../../trust/audit";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import { auditListInput, auditListOutput } from "./schemas";

// The project's audit log (admins and owners): newest first, filtered, cursor-paged.
export const auditRouter = router({
  list: projectProcedure("admin")
    .input(auditListInput)
    .output(auditListOutput)
    .query(({ ctx, input }) => listAuditEvents(ctx.services.db.prisma, input)),
});
