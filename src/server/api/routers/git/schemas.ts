// git.* input and output schemas (the shapes themselves live in src/contracts/git.ts).
import { z } from "zod";
import { GIT_COMMIT_MESSAGE_MAX, gitDiffView, gitStatusView } from "../../../../contracts/git";
import { agentRef } from "../agent/schemas";
import { sessionIdSchema } from "../chat/schemas";

const gitPath = z
  .string({ error: "path must be a file path inside the repository" })
  .min(1, "path is empty")
  .max(4096, "path must be at most 4096 characters");

export const gitRefInput = z.object({ sessionId: sessionIdSchema.optional() });
export const gitStatusOutput = gitStatusView;

export const gitDiffInput = gitRefInput.extend({ path: gitPath.optional() });
export const gitDiffOutput = gitDiffView;

export const gitCommitInput = gitRefInput.extend({
  message: z
    .string({ error: "message is required" })
    .max(GIT_COMMIT_MESSAGE_MAX, `message must be at most ${GIT_COMMIT_MESSAGE_MAX} characters`)
    .refine((m) => m.trim().length > 0, "message is empty"),
});
export const gitCommitOutput = z.object({ commit: z.string(), files: z.number().int() });

export const gitSuggestOutput = z.object({ message: z.string() });

export const gitPushOutput = z.object({ branch: z.string(), remote: z.string() });

export const gitDiscardInput = gitRefInput.extend({ path: gitPath });
export const gitDiscardOutput = z.object({ path: z.string(), discarded: z.enum(["restored", "removed"]) });

export const gitCreateSessionInput = z.object({
  title: z.string({ error: "title is required" }).trim().min(1, "title is empty").max(200, "title must be at most 200 characters"),
});
export const gitCreateSessionOutput = z.object({
  sessionId: z.string(),
  title: z.string(),
  branch: z.string(),
  base: z.string(),
  worktree: z.string(),
});

export const gitOpenPullRequestInput = z.object({
  sessionId: sessionIdSchema,
  title: z.string().trim().min(1, "title is empty").max(256, "title must be at most 256 characters").optional(),
  body: z.string().max(60_000, "body must be at most 60000 characters").optional(),
  draft: z.boolean().optional(),
});
export const gitOpenPullRequestOutput = z.object({
  kind: z.enum(["github", "gitlab"]),
  number: z.number().int(),
  url: z.string(),
  title: z.string(),
  state: z.enum(["open", "closed", "merged"]),
  draft: z.boolean(),
  created: z.boolean(),
  branch: z.string(),
  base: z.string(),
});

/** git.retryClone: the agent only (no session). */
export const gitRetryCloneInput = agentRef;
export const gitRetryCloneOutput = z.object({ cloneState: z.literal("pending") });
