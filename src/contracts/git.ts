// Git workspaces: the shapes the git API, the git service and the Changes tab share.
import { z } from "zod";

/** Longest file a diff shows side by side (each side); larger files say so instead. */
export const GIT_DIFF_MAX_BYTES = 512 * 1024;
/** Longest whole-session patch returned. */
export const GIT_PATCH_MAX_BYTES = 2 * 1024 * 1024;
/** Most files status lists. */
export const GIT_STATUS_MAX_FILES = 2000;
export const GIT_COMMIT_MESSAGE_MAX = 10_000;

/** https URLs only (ssh URLs and deploy keys need ssh in the agent image: not supported yet). */
export const repositoryUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((u) => {
    try {
      const url = new URL(u);
      return url.protocol === "https:" && !url.username && !url.password && !!url.hostname;
    } catch {
      return false;
    }
  }, "repository.url must be an https:// URL without a user name or password in it (put the token in a secret and name it as the credential)");

export const gitBranchName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]+(?<![./])$/, "branch must be a valid git branch name (letters, digits, . _ / -)");

export const repositoryInput = z.object({
  url: repositoryUrl,
  branch: gitBranchName.optional(),
  /** The name of a project (or the agent's) secret holding the token; not put in the container's env. */
  credentialSecret: z
    .string()
    .max(128, "credentialSecret must be at most 128 characters")
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "credentialSecret must be a secret name")
    .optional(),
  /** The user name sent with the token (GitHub: x-access-token, GitLab: oauth2). */
  credentialUser: z.string().min(1).max(100).regex(/^[^\s:]+$/, "credentialUser has no spaces or colons").optional(),
});
export type RepositoryInput = z.infer<typeof repositoryInput>;

export const cloneState = z.enum(["pending", "cloning", "ready", "failed"]);

export const repositoryView = z.object({
  url: z.string(),
  branch: z.string().nullable(),
  credentialSecret: z.string().nullable(),
  cloneState,
  /** 0-100 while cloning (git's --progress, receiving and resolving). */
  clonePercent: z.number().int(),
  clonePhase: z.string().nullable(),
  /** Why the clone failed (git's own words, credentials removed). */
  cloneError: z.string().nullable(),
  clonedAt: z.date().nullable(),
});
export type RepositoryView = z.infer<typeof repositoryView>;

/** Porcelain letters: M modified, A added, D deleted, R renamed, ? untracked, U conflict. */
export const gitFileStatus = z.enum(["M", "A", "D", "R", "?", "U", "T"]);

export const gitFileChange = z.object({
  path: z.string(),
  /** For renames: where it came from. */
  from: z.string().nullable(),
  status: gitFileStatus,
  /** Lines added and removed (null: binary, or not counted). */
  additions: z.number().int().nullable(),
  deletions: z.number().int().nullable(),
  staged: z.boolean(),
});
export type GitFileChange = z.infer<typeof gitFileChange>;

export const gitStatusView = z.object({
  /** The directory this is about: /workspace or the session's worktree. */
  cwd: z.string(),
  branch: z.string().nullable(),
  base: z.string().nullable(),
  head: z.string().nullable(),
  ahead: z.number().int().nullable(),
  behind: z.number().int().nullable(),
  files: z.array(gitFileChange),
  truncated: z.boolean(),
});
export type GitStatusView = z.infer<typeof gitStatusView>;

export const gitDiffSide = z.object({
  /** The text (null: no such file on this side, or binary, or too large). */
  content: z.string().nullable(),
  exists: z.boolean(),
  binary: z.boolean(),
  tooLarge: z.boolean(),
  size: z.number().int().nullable(),
});

export const gitDiffView = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("file"), path: z.string(), status: gitFileStatus.nullable(), old: gitDiffSide, new: gitDiffSide }),
  z.object({ kind: z.literal("patch"), patch: z.string(), truncated: z.boolean(), files: z.array(gitFileChange) }),
]);
export type GitDiffView = z.infer<typeof gitDiffView>;
