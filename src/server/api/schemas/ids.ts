// Id rules shared by routers, middlewares and the browser (no tRPC or server imports here, so
// client components can validate with the same rules).
import { z } from "zod";

export const projectIdSchema = z.uuid({ error: "projectId must be a project id (a UUID)" });
export const agentIdSchema = z.uuid({ error: "agentId must be an agent id (a UUID)" });
