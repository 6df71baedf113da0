// team.* schemas: inputs carry `{ projectId, ... }` (the project middleware adds projectId);
// the shapes themselves are the shared contract (src/contracts/teams.ts).
import { z } from "zod";
import { routeDecision, TEAM_LIMITS, teamCreateInput, teamMessageView, teamPatchInput, teamView } from "../../../../contracts/teams";

const teamId = z.uuid({ error: "teamId must be a team id (a UUID)" });

export const teamRefInput = z.object({ teamId });
export const teamCreate = teamCreateInput;
export const teamUpdateInput = teamPatchInput.extend({ teamId });
export const teamSendInput = z.object({
  teamId,
  message: z
    .string({ error: "A message is needed" })
    .max(TEAM_LIMITS.message, `A team message is at most ${TEAM_LIMITS.message} characters`)
    .refine((m) => m.trim().length > 0, "The message is empty"),
});
export const teamMessagesInput = z.object({
  teamId,
  cursor: z.uuid({ error: "cursor must be a message id (a UUID)" }).nullable().optional(),
  limit: z.number().int().min(1).max(200).default(50),
});
export const teamImportInput = z.object({
  yaml: z.string({ error: "yaml must be the team file's text" }).max(TEAM_LIMITS.yaml, `A team file is at most ${TEAM_LIMITS.yaml / 1024} KiB`),
});

export const teamOutput = teamView;
export const teamListOutput = z.array(teamView);
export const teamDeleteOutput = z.object({ id: z.string(), deleted: z.literal(true) });
export const teamSendOutput = z.object({ decision: routeDecision, message: teamMessageView });
export const teamMessagesOutput = z.object({ items: z.array(teamMessageView), nextCursor: z.string().nullable() });
