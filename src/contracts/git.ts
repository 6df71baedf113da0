// Git workspaces: the shapes the git API, the git service and the Changes tab share.
import { z } from "zod";

/** Longest file a diff shows side by side (each side); larger files say so instead. */
export const GIT_DIFF_MAX_BYTES = 512 * 1024;
/** Longest whole-session patch returned. */
export const GIT_PATCH_MAX_BYTES = 2 * 1024 * 1024;
/** Most files status lists. */
export const GIT_STATUS_MAX_FILES = 2000;
export const GIT_COMMIT_MESSAGE_MAX = 10_000;

const SSH_USER = "[A-Za-z0-9._-]+";
const SSH_HOST = "[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})";
/** `ssh://[user@]host[:port]/path` */
const SSH_URL_RE = new RegExp(`^ssh://(?:(${SSH_USER})@)?(${SSH_HOST})(?::(\\d{1,5}))?(/[^\\s]*[^\\s/])$`);
/** scp-like `[user@]host:path` (no scheme; the path does not start with // and has no spaces). */
const SCP_URL_RE = new RegExp(`^(?:(${SSH_USER})@)?(${SSH_HOST}):(?!//)([^\\s:][^\\s]*)$`);

/** The host and port of an ssh repository URL (ssh:// or scp-like), or null for anything else. */
export function sshRemote(url: string): { user: string | null; host: string; port: number } | null {
  const m = SSH_URL_RE.exec(url);
  if (m) {
    const port = m[3] ? Number(m[3]) : 22;
    return port >= 1 && port <= 65535 ? { user: m[1] ?? null, host: m[2]!, port } : null;
  }
  const s = SCP_URL_RE.exec(url);
  return s ? { user: s[1] ?? null, host: s[2]!, port: 22 } : null;
}

function httpsUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return url.protocol === "https:" && !url.username && !url.password && !!url.hostname;
  } catch {
    return false;
  }
}

/** https URLs (a token credential) or ssh URLs, `ssh://git@host[:port]/path.git` or `git@host:path.git` (a deploy key). */
export const repositoryUrl = z
  .string()
  .trim()
  .max(2000)
  .refine(
    (u) => httpsUrl(u) || sshRemote(u) !== null,
    "repository.url must be an https:// URL without a user name or password in it (put the token in a secret and name it as the credential), or an ssh URL such as ssh://git@host:22/org/repo.git or git@host:org/repo.git",
  );

/** One known_hosts line: `[marker] host-pattern key-type base64` or just `key-type base64` (for the repository's host). */
const KNOWN_HOSTS_LINE = /^(?:@(?:cert-authority|revoked) )?(?:\S+ )?(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,2}(?: .*)?$/;

/** Pinned ssh host keys of the repository's server (known_hosts lines); absent: trust on first use. */
export const knownHostsInput = z
  .string()
  .trim()
  .max(16 * 1024, "knownHosts must be at most 16 KB")
  .refine(
    (text) => text.split(/\r?\n/).every((l) => !l.trim() || l.trim().startsWith("#") || KNOWN_HOSTS_LINE.test(l.trim())),
    "knownHosts must be known_hosts lines, e.g. `git.example.com ssh-ed25519 AAAAC3Nz...` (ssh-keyscan prints them)",
  );

/** The known_hosts file for one ssh connection: pinned lines without a host pattern get the repository's. */
export function knownHostsFile(text: string, remote: { host: string; port: number }): string {
  const pattern = remote.port === 22 ? remote.host : `[${remote.host}]:${remote.port}`;
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => (/^(?:ssh-|ecdsa-|sk-)/.test(l) ? `${pattern} ${l}` : l))
      .join("\n") + "\n"
  );
}

export const gitBranchName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]+(?<![./])$/, "branch must be a valid git branch name (letters, digits, . _ / -)");

export const repositoryInput = z.object({
  url: repositoryUrl,
  branch: gitBranchName.optional(),
  /**
   * The name of a project (or the agent's) secret holding the token (https) or the deploy key
   * (ssh: an OpenSSH private key, ed25519 or rsa); not put in the container's env.
   */
  credentialSecret: z
    .string()
    .max(128, "credentialSecret must be at most 128 characters")
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "credentialSecret must be a secret name")
    .optional(),
  /** The user name sent with the token (GitHub: x-access-token, GitLab: oauth2). */
  credentialUser: z.string().min(1).max(100).regex(/^[^\s:]+$/, "credentialUser has no spaces or colons").optional(),
  /** ssh only: the server's host keys (known_hosts lines). Absent: the first key seen is trusted and kept. */
  knownHosts: knownHostsInput.optional(),
}).superRefine((r, ctx) => {
  if (!sshRemote(r.url)) {
    if (r.knownHosts) ctx.addIssue({ code: "custom", path: ["knownHosts"], message: "knownHosts is for ssh repositories: an https URL checks the server's certificate instead" });
    return;
  }
  if (!r.credentialSecret) ctx.addIssue({ code: "custom", path: ["credentialSecret"], message: "an ssh repository needs credentialSecret: the secret holding its deploy key (an OpenSSH private key)" });
  if (r.credentialUser) ctx.addIssue({ code: "custom", path: ["credentialUser"], message: "credentialUser is for https repositories: an ssh URL names its user itself (git@host)" });
});
export type RepositoryInput = z.infer<typeof repositoryInput>;

export const cloneState = z.enum(["pending", "cloning", "ready", "failed"]);

export const repositoryView = z.object({
  url: z.string(),
  branch: z.string().nullable(),
  credentialSecret: z.string().nullable(),
  /** ssh: the pinned host keys (null: trust on first use, kept in /workspace/.armory/known_hosts). */
  knownHosts: z.string().nullable(),
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
