// team.*: a project's teams (a set of agents and a router) and their messages. Reading is for
// every member; creating, changing, deleting and importing teams is an operator's (like chatting
// with the agents); team.send routes first and then needs `chat` on the agent it chose (403
// naming the agent, nothing sent). Mutations are audited by the base procedure; the chat
// decision on the chosen agent is in the same entry.
import { authorizeAgent } from "../../middleware/agent-access";
import { projectProcedure } from "../../middleware/project-access";
import { router } from "../../trpc";
import {
  teamCreate,
  teamDeleteOutput,
  teamImportInput,
  teamListOutput,
  teamMessagesInput,
  teamMessagesOutput,
  teamOutput,
  teamRefInput,
  teamSendInput,
  teamSendOutput,
  teamUpdateInput,
} from "./schemas";

export const teamRouter = router({
  list: projectProcedure("viewer")
    .output(teamListOutput)
    .query(({ ctx, input }) => ctx.services.teams.list(input.projectId)),

  get: projectProcedure("viewer")
    .input(teamRefInput)
    .output(teamOutput)
    .query(({ ctx, input }) => ctx.services.teams.get(input.projectId, input.teamId)),

  create: projectProcedure("operator")
    .input(teamCreate)
    .output(teamOutput)
    .mutation(({ ctx, input: { projectId, ...team } }) => ctx.services.teams.create(projectId, team)),

  update: projectProcedure("operator")
    .input(teamUpdateInput)
    .output(teamOutput)
    .mutation(({ ctx, input: { projectId, teamId, ...patch } }) => ctx.services.teams.update(projectId, teamId, patch)),

  delete: projectProcedure("operator")
    .input(teamRefInput)
    .output(teamDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.teams.remove(input.projectId, input.teamId);
      return { id: input.teamId, deleted: true as const };
    }),

  /** Creates a team from a team file's text (or replaces the team of that name); 400 names the line of an error. */
  import: projectProcedure("operator")
    .input(teamImportInput)
    .output(teamOutput)
    .mutation(({ ctx, input }) => ctx.services.teams.importYaml(input.projectId, input.yaml)),

  /** Routes the message, checks the caller may chat with the chosen agent, sends it there and records it. */
  send: projectProcedure("viewer")
    .input(teamSendInput)
    .output(teamSendOutput)
    .mutation(async ({ ctx, input }) => {
      const { teams } = ctx.services;
      const team = await teams.get(input.projectId, input.teamId);
      const routed = await teams.route(team, input.message);
      await authorizeAgent(ctx, { id: routed.agentId, name: routed.agentName, projectId: input.projectId }, "chat");
      const message = await teams.deliver(team, routed, input.message, ctx.user.id);
      const { modelUsage: _usage, ...decision } = routed;
      return { decision, message };
    }),

  /** The team's messages with their routing decisions, newest first. */
  messages: projectProcedure("viewer")
    .input(teamMessagesInput)
    .output(teamMessagesOutput)
    .query(({ ctx, input }) => ctx.services.teams.messages(input.projectId, input.teamId, input.cursor ?? null, input.limit)),
});
