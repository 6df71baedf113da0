// git.*: an agent's repository workspace (src/server/git): status and diffs of the workspace or
// of a session's worktree, commit, push, discard, a session on its own branch, pull requests.
import { agentProcedure } from "../../middleware/agent-access";
import { streamOf } from "../../stream-output";
import { router } from "../../trpc";
import { openSessionPullRequest } from "../../../git/pull-requests";
import {
  gitCommitInput,
  gitCommitOutput,
  gitCreateSessionInput,
  gitCreateSessionOutput,
  gitDiffInput,
  gitDiffOutput,
  gitDiscardInput,
  gitDiscardOutput,
  gitOpenPullRequestInput,
  gitOpenPullRequestOutput,
  gitPushOutput,
  gitRefInput,
  gitRetryCloneInput,
  gitRetryCloneOutput,
  gitStatusOutput,
  gitSuggestOutput,
} from "./schemas";

export const gitRouter = router({
  status: agentProcedure("file_read")
    .input(gitRefInput)
    .output(gitStatusOutput)
    .query(({ ctx, input }) => ctx.services.git.status(input)),

  /** One file (HEAD and the working tree, bounded) with `path`; else the whole patch against HEAD. */
  diff: agentProcedure("file_read")
    .input(gitDiffInput)
    .output(gitDiffOutput)
    .query(({ ctx, input }) => ctx.services.git.diff(input, input.path)),

  commit: agentProcedure("file_write")
    .input(gitCommitInput)
    .output(gitCommitOutput)
    .mutation(({ ctx, input }) => ctx.services.git.commit(input, input.message, { name: ctx.user.name, email: ctx.user.email })),

  /** A commit message for the current changes, suggested by the agent's model. */
  suggestMessage: agentProcedure("chat")
    .input(gitRefInput)
    .output(gitSuggestOutput)
    .mutation(({ ctx, input }) => ctx.services.git.suggestMessage(input)),

  push: agentProcedure("file_write")
    .input(gitRefInput)
    .output(gitPushOutput)
    .mutation(({ ctx, input }) => ctx.services.git.push(input)),

  discard: agentProcedure("file_write")
    .input(gitDiscardInput)
    .output(gitDiscardOutput)
    .mutation(({ ctx, input }) => ctx.services.git.discard(input, input.path)),

  /** Clones the agent's repository again after a failed clone (progress shows on the agent). */
  retryClone: agentProcedure("file_write")
    .input(gitRetryCloneInput)
    .output(gitRetryCloneOutput)
    .mutation(({ ctx, input }) => ctx.services.git.retryClone(input)),

  /** A new chat session working in its own worktree on `armory/<slug of title>`. */
  createSession: agentProcedure("chat")
    .input(gitCreateSessionInput)
    .output(gitCreateSessionOutput)
    .mutation(async ({ ctx, input }) => {
      const s = await ctx.services.git.createSession(input, input.title, ctx.user.id);
      return { sessionId: s.id, title: s.title, branch: s.gitBranch!, base: s.gitBase!, worktree: s.gitWorktree! };
    }),

  /**
   * Pushes the session's branch and opens a GitHub pull request (or GitLab merge request) into its
   * base; title and body default to the session's title and the agent's last answer. An open one
   * for the branch is returned as is. The link is stored on the session.
   */
  openPullRequest: agentProcedure("file_write")
    .input(gitOpenPullRequestInput)
    .output(gitOpenPullRequestOutput)
    .mutation(({ ctx, input }) =>
      openSessionPullRequest({ prisma: ctx.services.db.prisma, git: ctx.services.git, hosts: ctx.services.config.gitProviders }, input),
    ),

  /** The status now, then again whenever it changes (debounced). */
  onChange: agentProcedure("file_read")
    .input(gitRefInput)
    .output(streamOf(gitStatusOutput))
    .subscription(async ({ ctx, input, signal }) => ctx.services.git.changes(input, signal ?? new AbortController().signal)),
});
