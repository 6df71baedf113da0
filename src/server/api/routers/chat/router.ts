import { tracked } from "@trpc/server";
import { agentProcedure } from "../../middleware/agent-access";
import { router } from "../../trpc";
import {
  chatDeleteOutput,
  chatEventView,
  chatHistoryInput,
  chatHistoryOutput,
  chatInterruptOutput,
  chatRenameInput,
  chatRenameOutput,
  chatSendInput,
  chatSendOutput,
  chatSessionRef,
  chatSessionsInput,
  chatSessionsOutput,
  chatStreamInput,
} from "./schemas";
import { trackedStreamOf } from "../../stream-output";
import { mapAsync } from "../../../streams/map";

// Reading a conversation needs "inspect"; sending and stopping turns, renaming and deleting
// conversations need "chat".
export const chatRouter = router({
  /** This agent's conversations (newest activity first), optionally only those matching `search`; usage totals. */
  sessions: agentProcedure("inspect")
    .input(chatSessionsInput)
    .output(chatSessionsOutput)
    .query(async ({ ctx, input }) => {
      const { chat, gateway } = ctx.services;
      const [sessions, agent, project, gw, demoModel] = await Promise.all([
        chat.sessions(input.agentId, input.search || undefined),
        chat.store.usage({ projectId: input.projectId, agentId: input.agentId }),
        chat.store.usage({ projectId: input.projectId }),
        gateway.usage(input.agentId),
        chat.isDemo(input.agentId),
      ]);
      return { sessions, demoModel, usage: { agent, project, gateway: gw } };
    }),

  history: agentProcedure("inspect")
    .input(chatHistoryInput)
    .output(chatHistoryOutput)
    .query(async ({ ctx, input }) => {
      const h = await ctx.services.chat.history(input.projectId, input.agentId, input.sessionId, input.afterSeq, input.limit);
      return {
        session: {
          id: h.session.id,
          agentId: h.session.agentId,
          projectId: h.session.projectId,
          title: h.session.title,
          claudeSessionId: h.session.claudeSessionId,
          lastSeq: h.session.lastSeq,
          turns: h.session.turns,
          inputTokens: h.session.inputTokens,
          outputTokens: h.session.outputTokens,
          costUsd: h.session.costUsd,
          git: h.session.gitBranch && h.session.gitBase ? { branch: h.session.gitBranch, base: h.session.gitBase, pullRequestUrl: h.session.pullRequestUrl } : null,
          createdAt: h.session.createdAt,
          updatedAt: h.session.updatedAt,
        },
        runs: h.runs,
        events: h.events,
        demoModel: await ctx.services.chat.isDemo(input.agentId),
      };
    }),

  /** Starts a turn in the background; returns at once. Without sessionId a new session is created. */
  send: agentProcedure("chat")
    .input(chatSendInput)
    .output(chatSendOutput)
    .mutation(({ ctx, input }) =>
      ctx.services.chat.send({
        projectId: input.projectId,
        agentId: input.agentId,
        sessionId: input.sessionId,
        message: input.message,
        userId: ctx.user.id,
      }),
    ),

  /** Every event after afterSeq (or the SSE lastEventId), then live ones; each tracked by its seq. */
  stream: agentProcedure("inspect")
    .input(chatStreamInput)
    .output(trackedStreamOf(chatEventView))
    .subscription(async ({ ctx, input, signal }) => {
      const after = input.lastEventId ? Math.max(input.afterSeq, Number(input.lastEventId)) : input.afterSeq;
      // Awaited before the stream starts, so an unknown session is a 404 for the call itself.
      const events = await ctx.services.chat.stream(input.projectId, input.agentId, input.sessionId, after, signal);
      return mapAsync(events, (e) => tracked(String(e.seq), e));
    }),

  interrupt: agentProcedure("chat")
    .input(chatSessionRef)
    .output(chatInterruptOutput)
    .mutation(({ ctx, input }) =>
      ctx.services.chat.interrupt(input.projectId, input.agentId, input.sessionId, ctx.user.name || ctx.user.email),
    ),

  renameSession: agentProcedure("chat")
    .input(chatRenameInput)
    .output(chatRenameOutput)
    .mutation(({ ctx, input }) => ctx.services.chat.renameSession(input.projectId, input.agentId, input.sessionId, input.title)),

  /** Deletes a conversation with its turns and events; 409 while a turn runs in it. */
  deleteSession: agentProcedure("chat")
    .input(chatSessionRef)
    .output(chatDeleteOutput)
    .mutation(({ ctx, input }) => ctx.services.chat.deleteSession(input.projectId, input.agentId, input.sessionId)),
});
