// Git workspaces: an agent's repository cloned into /workspace by its daemon (as the agent user),
// a worktree and branch per chat session (armory/<slug> under /workspace/.armory/worktrees),
// status, diffs, commit, push, discard and pull requests. Every git command runs in the agent's
// container through armoryd's exec.run (exec.ts); the credential reaches only the git process.
import type { PrismaClient } from "../db";
import type { AgentRepository, ChatSession } from "../db/generated/client";
import { WORKSPACE_DIR } from "../../contracts/armoryd";
import {
  knownHostsFile,
  sshRemote,
  GIT_DIFF_MAX_BYTES,
  GIT_PATCH_MAX_BYTES,
  GIT_STATUS_MAX_FILES,
  type GitDiffView,
  type GitFileChange,
  type GitStatusView,
} from "../../contracts/git";
import type { DaemonHub } from "../agentd/hub";
import { DomainError, notFound } from "../domain/errors";
import type { Logger } from "../logger";
import type { SecretStore } from "../secrets/store";
import type { AgentFiles } from "../files/service";
import { normalizeAgentPath } from "../trust/grants";
import { GitRunner, lastLines, redact, SSH_KNOWN_HOSTS, type GitCredential, type GitResult } from "./exec";
import { DaemonUnavailableError } from "../agentd/hub";

export const WORKTREES_DIR = `${WORKSPACE_DIR}/.armory/worktrees`;
const CLONE_TIMEOUT_MS = 20 * 60_000;
const NETWORK_TIMEOUT_MS = 5 * 60_000;
const PROGRESS_WRITE_MS = 400;

export interface GitRef {
  projectId: string;
  agentId: string;
  sessionId?: string;
}

export interface GitServiceOptions {
  prisma: PrismaClient;
  /** The agents' file service: its change events (and directory watches) wake git.onChange. */
  files: AgentFiles;
  hub: DaemonHub;
  secrets: SecretStore;
  log: Logger;
  /** Tells the agent's status subscribers (the clone's progress shows on the agent). */
  publishAgent: (agentId: string) => Promise<unknown>;
  /** One model call Armory makes itself (ModelGateway.complete): commit message suggestions. */
  complete: (req: { model: string; system?: string; messages: { role: "user" | "assistant"; content: string }[]; maxTokens: number }) => Promise<{ text: string }>;
}

/** `armory/<slug>`: lower-case words of the title joined by dashes (at most 40 characters). */
export function branchSlug(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return slug || "session";
}

/** git --progress lines as one percent: receiving objects 0-90, resolving deltas 90-100. */
export function clonePercent(line: string): { percent: number; phase: string } | null {
  const m = /^(?:remote: )?([A-Za-z ]+):\s+(\d{1,3})%/.exec(line.trim());
  if (!m) return null;
  const phase = m[1]!.trim();
  const p = Math.min(100, Number(m[2]));
  if (/^Receiving objects/.test(phase)) return { percent: Math.round(p * 0.9), phase };
  if (/^Resolving deltas/.test(phase)) return { percent: 90 + Math.round(p * 0.1), phase };
  return { percent: 0, phase };
}

/** A path inside the repository as git names it (relative, no `..`, no leading slash or dash). */
export function repoPath(path: string): string {
  const p = path.replace(/^\.\/+/, "");
  if (!p || p.startsWith("/") || p.startsWith("-") || p.split("/").some((s) => s === ".." || s === ".git") || p.includes("\0")) {
    throw new DomainError("BAD_REQUEST", "path must be a file path inside the repository (relative, without ..)");
  }
  return p;
}

function parseNumstat(out: string): Map<string, { additions: number | null; deletions: number | null }> {
  const map = new Map<string, { additions: number | null; deletions: number | null }>();
  // -z: "<a>\t<d>\t<path>\0", renames "<a>\t<d>\t\0<from>\0<to>\0"
  const parts = out.split("\0");
  for (let i = 0; i < parts.length; i++) {
    const m = /^(\d+|-)\t(\d+|-)\t(.*)$/s.exec(parts[i]!);
    if (!m) continue;
    let path = m[3]!;
    if (!path) {
      i += 2;
      path = parts[i] ?? "";
    }
    map.set(path, { additions: m[1] === "-" ? null : Number(m[1]), deletions: m[2] === "-" ? null : Number(m[2]) });
  }
  return map;
}

/** `git status --porcelain=v1 -z` entries. */
function parsePorcelain(out: string): { path: string; from: string | null; x: string; y: string }[] {
  const entries: { path: string; from: string | null; x: string; y: string }[] = [];
  const parts = out.split("\0");
  for (let i = 0; i < parts.length; i++) {
    const e = parts[i]!;
    if (e.length < 4) continue;
    const x = e[0]!;
    const y = e[1]!;
    const path = e.slice(3);
    let from: string | null = null;
    if (x === "R" || x === "C") from = parts[++i] ?? null;
    entries.push({ path, from, x, y });
  }
  return entries;
}

function statusLetter(x: string, y: string): GitFileChange["status"] {
  if (x === "?" && y === "?") return "?";
  if (x === "U" || y === "U" || (x === "A" && y === "A") || (x === "D" && y === "D")) return "U";
  if (x === "R" || x === "C") return "R";
  if (x === "A") return "A";
  if (x === "D" || y === "D") return "D";
  if (x === "T" || y === "T") return "T";
  return "M";
}

function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8192).includes(0);
}

/** A deploy key as ssh reads it (LF line ends, a final newline), or a clear refusal. */
export function deployKey(secret: string, value: string): string {
  const key = value.replace(/\r\n?/g, "\n").trim();
  if (!/^-----BEGIN (?:OPENSSH|RSA|EC) PRIVATE KEY-----\n[\s\S]+\n-----END (?:OPENSSH|RSA|EC) PRIVATE KEY-----$/.test(key)) {
    throw new DomainError("PRECONDITION_FAILED", `The secret ${secret} does not hold an ssh private key: an ssh repository's credential is a deploy key in OpenSSH format (-----BEGIN OPENSSH PRIVATE KEY----- ...).`);
  }
  if (/ENCRYPTED|Proc-Type: 4,ENCRYPTED/.test(key)) throw new DomainError("PRECONDITION_FAILED", `The deploy key in ${secret} is protected by a passphrase: Armory needs a key without one (deploy keys usually have none).`);
  return `${key}\n`;
}

/** Debounce of git.onChange after a change event; and its fallback poll (edits in subdirectories are not watched). */
const CHANGE_DEBOUNCE_MS = 300;
const CHANGE_POLL_MS = 3_000;

export class GitService {
  readonly git: GitRunner;
  private readonly cloning = new Set<string>();
  /** Wakes change streams of an agent after a git mutation made through Armory. */
  private readonly touched = new Map<string, Set<() => void>>();

  constructor(private readonly opts: GitServiceOptions) {
    this.git = new GitRunner(opts.hub);
  }

  private get prisma() {
    return this.opts.prisma;
  }

  // ---------------------------------------------------------------- credentials

  private async credentialOf(projectId: string, agentId: string, repo: Pick<AgentRepository, "url" | "credentialSecret" | "credentialUser" | "knownHosts">): Promise<GitCredential | null> {
    if (!repo.credentialSecret) return null;
    const value = await this.opts.secrets.valueFor(projectId, agentId, repo.credentialSecret);
    if (value === null) {
      throw new DomainError("PRECONDITION_FAILED", `The repository's credential secret ${repo.credentialSecret} does not exist in this project or agent: set it on the Secrets page.`);
    }
    const ssh = sshRemote(repo.url);
    if (!ssh) return { kind: "token", username: repo.credentialUser, password: value.trim() };
    return { kind: "ssh", privateKey: deployKey(repo.credentialSecret, value), knownHosts: repo.knownHosts ? knownHostsFile(repo.knownHosts, ssh) : null };
  }

  private async repository(projectId: string, agentId: string): Promise<AgentRepository> {
    const agent = await this.prisma.agent.findFirst({ where: { id: agentId, projectId }, select: { id: true, repository: true } });
    if (!agent) throw notFound("Agent");
    if (!agent.repository) throw new DomainError("PRECONDITION_FAILED", "This agent has no repository: create it with one to use git.");
    return agent.repository;
  }

  private async readyRepository(projectId: string, agentId: string): Promise<AgentRepository> {
    const repo = await this.repository(projectId, agentId);
    if (repo.cloneState !== "ready") {
      throw new DomainError(
        "PRECONDITION_FAILED",
        repo.cloneState === "failed" ? `The repository could not be cloned: ${repo.cloneError ?? "unknown reason"}. Retry the clone on the agent's page.` : "The repository is still being cloned: try again when it is ready.",
      );
    }
    return repo;
  }

  /** The directory a ref works in: the session's worktree, or /workspace. */
  private async cwdOf(ref: GitRef): Promise<{ cwd: string; session: ChatSession | null }> {
    if (!ref.sessionId) return { cwd: WORKSPACE_DIR, session: null };
    const session = await this.prisma.chatSession.findFirst({ where: { id: ref.sessionId, agentId: ref.agentId, projectId: ref.projectId } });
    if (!session) throw notFound("Chat session");
    return { cwd: session.gitWorktree ?? WORKSPACE_DIR, session };
  }

  // ---------------------------------------------------------------- clone

  /** After a start: clones the agent's repository when it is pending (or failed before). Never throws. */
  cloneIfPending(agentId: string): void {
    if (this.cloning.has(agentId)) return;
    this.cloning.add(agentId);
    void this.clone(agentId)
      .catch((err: unknown) => this.opts.log.warn({ agentId, err: (err as Error).message }, "repository clone failed"))
      .finally(() => this.cloning.delete(agentId));
  }

  private async setClone(agentId: string, data: Partial<Pick<AgentRepository, "cloneState" | "clonePercent" | "clonePhase" | "cloneError" | "clonedAt">>): Promise<void> {
    await this.prisma.agentRepository.updateMany({ where: { agentId }, data });
    await this.opts.publishAgent(agentId).catch(() => {});
  }

  private async clone(agentId: string): Promise<void> {
    const agent = await this.prisma.agent.findUnique({ where: { id: agentId }, select: { projectId: true, containerId: true, repository: true } });
    const repo = agent?.repository;
    if (!agent || !repo || repo.cloneState === "ready" || repo.cloneState === "cloning") return;
    await this.setClone(agentId, { cloneState: "cloning", clonePercent: 0, clonePhase: "connecting", cloneError: null });
    let credential: GitCredential | null = null;
    try {
      await this.opts.hub.waitFor(agentId, { timeoutMs: 60_000, containerId: agent.containerId ?? undefined });
      credential = await this.credentialOf(agent.projectId, agentId, repo);
      const run = (args: string[], extra: Partial<Parameters<GitRunner["run"]>[2]> = {}) =>
        this.git.ok(agentId, args, { cwd: WORKSPACE_DIR, credential, timeoutMs: NETWORK_TIMEOUT_MS, ...extra }, "git clone");
      // ssh keeps the host key it trusted on first use in /workspace/.armory/known_hosts.
      if (credential?.kind === "ssh") await this.shell(agentId, 'mkdir -p "$(dirname "$1")"', [SSH_KNOWN_HOSTS], "could not create /workspace/.armory");
      const already = await this.git.run(agentId, ["rev-parse", "--is-inside-work-tree"], { cwd: WORKSPACE_DIR });
      if (already.exitCode !== 0) await run(["init", "-q"]);
      const remotes = (await run(["remote"])).stdout.toString("utf8").split("\n");
      if (remotes.includes("origin")) await run(["remote", "set-url", "origin", repo.url]);
      else await run(["remote", "add", "origin", repo.url]);
      let branch = repo.branch;
      if (!branch) {
        const head = (await run(["ls-remote", "--symref", "origin", "HEAD"])).stdout.toString("utf8");
        branch = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(head)?.[1] ?? null;
        if (!branch) throw new DomainError("PRECONDITION_FAILED", "git clone failed: the repository has no default branch (is it empty?)");
      }
      let lastWrite = 0;
      let last = -1;
      await run(["fetch", "--progress", "--no-tags", "origin", `+refs/heads/${branch}:refs/remotes/origin/${branch}`], {
        timeoutMs: CLONE_TIMEOUT_MS,
        onProgress: (text) => {
          const p = clonePercent(text);
          if (!p || p.percent === last || Date.now() - lastWrite < PROGRESS_WRITE_MS) return;
          last = p.percent;
          lastWrite = Date.now();
          void this.setClone(agentId, { clonePercent: p.percent, clonePhase: p.phase }).catch(() => {});
        },
      });
      await run(["checkout", "-q", "-f", "-B", branch, "--track", `origin/${branch}`]);
      // Session worktrees live inside the workspace: keep them out of the repository's status.
      await this.excludeArmoryDir(agentId);
      await this.prisma.agentRepository.updateMany({ where: { agentId }, data: { branch } });
      await this.setClone(agentId, { cloneState: "ready", clonePercent: 100, clonePhase: null, cloneError: null, clonedAt: new Date() });
      this.opts.log.info({ agentId, branch }, "repository cloned");
    } catch (err) {
      const message = redact((err as Error).message, credential).replace(/^git clone failed: /, "");
      await this.setClone(agentId, { cloneState: "failed", cloneError: message.slice(0, 2000), clonePhase: null });
      throw err;
    }
  }

  /**
   * Clones a repository whose clone failed again, without restarting the agent (e.g. after its
   * credential secret was fixed). The clone runs in the background with its progress on the agent.
   */
  async retryClone(ref: { projectId: string; agentId: string }): Promise<{ cloneState: "pending" }> {
    const repo = await this.repository(ref.projectId, ref.agentId);
    if (repo.cloneState !== "failed") {
      throw new DomainError("PRECONDITION_FAILED", repo.cloneState === "ready" ? "The repository is cloned already: there is nothing to retry." : "The repository is being cloned: wait for it to finish or fail.");
    }
    if (this.opts.hub.state(ref.agentId) !== "connected") {
      throw new DomainError("PRECONDITION_FAILED", "The agent's daemon (armoryd) is not connected: start the agent (its start clones the repository again).");
    }
    const claimed = await this.prisma.agentRepository.updateMany({
      where: { agentId: ref.agentId, cloneState: "failed" },
      data: { cloneState: "pending", clonePercent: 0, clonePhase: null, cloneError: null },
    });
    if (!claimed.count) throw new DomainError("CONFLICT", "The clone was retried already: it is running.");
    await this.opts.publishAgent(ref.agentId).catch(() => {});
    this.cloneIfPending(ref.agentId);
    return { cloneState: "pending" };
  }

  /**
   * Removes a chat session's worktree (the session is being deleted): `git worktree remove
   * --force` and `git worktree prune`; its branch and commits stay. Without a connected daemon the
   * directory stays behind (logged) and the session is deleted anyway.
   */
  async removeSessionWorktree(ref: Required<GitRef>): Promise<void> {
    const session = await this.prisma.chatSession.findFirst({ where: { id: ref.sessionId, agentId: ref.agentId, projectId: ref.projectId }, select: { gitWorktree: true } });
    const worktree = session?.gitWorktree;
    if (!worktree) return;
    try {
      const removed = await this.git.run(ref.agentId, ["worktree", "remove", "--force", "--force", worktree], { cwd: WORKSPACE_DIR });
      await this.git.run(ref.agentId, ["worktree", "prune"], { cwd: WORKSPACE_DIR });
      if (removed.exitCode !== 0 && !/is not a working tree/.test(removed.stderr)) {
        this.opts.log.warn({ agentId: ref.agentId, worktree, reason: lastLines(removed.stderr) }, "session worktree not removed");
      }
    } catch (err) {
      if (!(err instanceof DomainError) && !(err instanceof DaemonUnavailableError)) throw err;
      this.opts.log.warn({ agentId: ref.agentId, worktree, err: (err as Error).message }, "session worktree left behind: the agent's daemon is not connected");
    }
  }

  /** `sh -c script sh ...args` in the workspace (no user input in script); a non-zero exit is a DomainError. */
  private async shell(agentId: string, script: string, args: string[], what: string): Promise<void> {
    const res = await this.opts.hub.request(agentId, "exec.run", {
      execId: `git-sh-${crypto.randomUUID()}`,
      argv: ["sh", "-c", script, "sh", ...args],
      cwd: WORKSPACE_DIR,
      env: {},
      stdin: "",
      timeoutMs: 10_000,
      maxOutputBytes: 4096,
      progress: false,
    });
    if (res.exitCode !== 0) throw new DomainError("PRECONDITION_FAILED", `${what}: ${res.stderr.slice(0, 500)}`);
  }

  private async excludeArmoryDir(agentId: string): Promise<void> {
    await this.git.ok(
      agentId,
      ["-C", WORKSPACE_DIR, "rev-parse", "--git-path", "info/exclude"],
      { cwd: WORKSPACE_DIR },
      "git rev-parse",
    ).then(async (r) => {
      const file = r.stdout.toString("utf8").trim();
      const abs = file.startsWith("/") ? file : `${WORKSPACE_DIR}/${file}`;
      // sh appends the line once (the path is git's own answer, passed as an argument).
      await this.shell(
        agentId,
        'mkdir -p "$(dirname "$1")" && touch "$1" && (grep -qx "/.armory/" "$1" || echo "/.armory/" >> "$1")',
        [abs],
        "could not exclude .armory/ from the repository",
      );
    });
  }

  // ---------------------------------------------------------------- sessions

  /** A new chat session working in its own worktree on `armory/<slug of title>`, from the repository's branch. */
  async createSession(ref: { projectId: string; agentId: string }, title: string, userId: string | null): Promise<ChatSession> {
    const repo = await this.readyRepository(ref.projectId, ref.agentId);
    const base = repo.branch ?? "HEAD";
    const existing = (await this.git.ok(ref.agentId, ["for-each-ref", "--format=%(refname:short)", "refs/heads/armory/"], { cwd: WORKSPACE_DIR })).stdout
      .toString("utf8")
      .split("\n")
      .filter(Boolean);
    const taken = new Set([
      ...existing,
      ...(await this.prisma.chatSession.findMany({ where: { agentId: ref.agentId, gitBranch: { not: null } }, select: { gitBranch: true } })).map((s) => s.gitBranch!),
    ]);
    const slug = branchSlug(title);
    let name = slug;
    for (let n = 2; taken.has(`armory/${name}`); n++) name = `${slug}-${n}`;
    const branch = `armory/${name}`;
    const worktree = `${WORKTREES_DIR}/${name}`;
    await this.excludeArmoryDir(ref.agentId);
    await this.git.ok(ref.agentId, ["worktree", "add", "-q", "-b", branch, worktree, base], { cwd: WORKSPACE_DIR }, "git worktree add");
    try {
      return await this.prisma.chatSession.create({
        data: { projectId: ref.projectId, agentId: ref.agentId, title, createdById: userId, gitBranch: branch, gitBase: base, gitWorktree: worktree },
      });
    } catch (err) {
      await this.git.run(ref.agentId, ["worktree", "remove", "--force", worktree], { cwd: WORKSPACE_DIR }).catch(() => {});
      throw err;
    }
  }

  // ---------------------------------------------------------------- status and diffs

  async status(ref: GitRef): Promise<GitStatusView> {
    await this.readyRepository(ref.projectId, ref.agentId);
    const { cwd, session } = await this.cwdOf(ref);
    const id = ref.agentId;
    const [porcelain, numstat, head, branchInfo] = await Promise.all([
      this.git.ok(id, ["status", "--porcelain=v1", "-z", "--untracked-files=all"], { cwd }, "git status"),
      this.git.run(id, ["diff", "--numstat", "-z", "HEAD"], { cwd }),
      this.git.run(id, ["rev-parse", "--verify", "-q", "HEAD"], { cwd }),
      this.git.run(id, ["status", "--porcelain=v2", "--branch", "--untracked-files=no"], { cwd }),
    ]);
    const entries = parsePorcelain(porcelain.stdout.toString("utf8"));
    const counts = parseNumstat(numstat.exitCode === 0 ? numstat.stdout.toString("utf8") : "");
    const truncated = entries.length > GIT_STATUS_MAX_FILES;
    const shown = entries.slice(0, GIT_STATUS_MAX_FILES).sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    // Untracked files are not in `git diff HEAD`: count their lines (at most 100 files).
    const untracked = shown.filter((e) => e.x === "?").slice(0, 100);
    if (untracked.length) {
      const r = await this.opts.hub.request(id, "exec.run", {
        execId: `git-untracked-${crypto.randomUUID()}`,
        argv: ["sh", "-c", 'for f; do git -c core.quotePath=false diff --no-index --numstat -z -- /dev/null "$f"; done; exit 0', "sh", ...untracked.map((e) => e.path)],
        cwd,
        env: { LC_ALL: "C" },
        stdin: "",
        timeoutMs: 30_000,
        maxOutputBytes: 1024 * 1024,
        progress: false,
      });
      const text = Buffer.from(r.stdout, "base64").toString("utf8");
      // --no-index names the pair "/dev/null => path" in -z mode: "<a>\t<d>\t\0/dev/null\0path\0".
      for (const [path, c] of parseNumstat(text)) counts.set(path, c);
    }
    const v2 = branchInfo.stdout.toString("utf8");
    const ab = /^# branch\.ab \+(\d+) -(\d+)$/m.exec(v2);
    const branchName = /^# branch\.head (.+)$/m.exec(v2)?.[1] ?? null;
    return {
      cwd,
      branch: branchName && branchName !== "(detached)" ? branchName : null,
      base: session?.gitBase ?? null,
      head: head.exitCode === 0 ? head.stdout.toString("utf8").trim() : null,
      ahead: ab ? Number(ab[1]) : null,
      behind: ab ? Number(ab[2]) : null,
      files: shown.map((e) => ({
        path: e.path,
        from: e.from,
        status: statusLetter(e.x, e.y),
        additions: counts.get(e.path)?.additions ?? null,
        deletions: counts.get(e.path)?.deletions ?? null,
        staged: e.x !== " " && e.x !== "?",
      })),
      truncated,
    };
  }

  async diff(ref: GitRef, path?: string): Promise<GitDiffView> {
    await this.readyRepository(ref.projectId, ref.agentId);
    const { cwd } = await this.cwdOf(ref);
    const id = ref.agentId;
    if (!path) {
      const [patch, status] = await Promise.all([
        this.git.ok(id, ["diff", "--no-color", "--no-ext-diff", "HEAD"], { cwd, maxOutputBytes: GIT_PATCH_MAX_BYTES }, "git diff"),
        this.status(ref),
      ]);
      return { kind: "patch", patch: patch.stdout.toString("utf8"), truncated: patch.stdoutBytes > GIT_PATCH_MAX_BYTES, files: status.files };
    }
    const p = repoPath(path);
    const [oldSide, newSide, st] = await Promise.all([
      this.git.run(id, ["cat-file", "blob", `HEAD:${p}`], { cwd, maxOutputBytes: GIT_DIFF_MAX_BYTES + 1 }),
      this.opts.hub.request(id, "exec.run", {
        execId: `git-read-${crypto.randomUUID()}`,
        argv: ["cat", "--", p],
        cwd,
        env: {},
        stdin: "",
        timeoutMs: 30_000,
        maxOutputBytes: GIT_DIFF_MAX_BYTES + 1,
        progress: false,
      }),
      this.git.run(id, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", p], { cwd }),
    ]);
    const entry = parsePorcelain(st.stdout.toString("utf8"))[0];
    const side = (exists: boolean, buf: Buffer, total: number) => {
      if (!exists) return { content: null, exists: false, binary: false, tooLarge: false, size: null };
      const tooLarge = total > GIT_DIFF_MAX_BYTES;
      const binary = isBinary(buf);
      return { content: tooLarge || binary ? null : buf.toString("utf8"), exists: true, binary, tooLarge, size: total };
    };
    return {
      kind: "file",
      path: p,
      status: entry ? statusLetter(entry.x, entry.y) : null,
      old: side(oldSide.exitCode === 0, oldSide.stdout, oldSide.stdoutBytes),
      new: side(newSide.exitCode === 0, Buffer.from(newSide.stdout, "base64"), newSide.stdoutBytes),
    };
  }

  // ---------------------------------------------------------------- changes

  async commit(ref: GitRef, message: string, author: { name: string; email: string }): Promise<{ commit: string; files: number }> {
    await this.readyRepository(ref.projectId, ref.agentId);
    if (!message.trim()) throw new DomainError("BAD_REQUEST", "message: the commit message is empty.");
    const { cwd } = await this.cwdOf(ref);
    const id = ref.agentId;
    await this.git.ok(id, ["add", "-A"], { cwd }, "git add");
    const staged = await this.git.run(id, ["diff", "--cached", "--name-only", "-z"], { cwd });
    const files = staged.stdout.toString("utf8").split("\0").filter(Boolean).length;
    if (!files) throw new DomainError("PRECONDITION_FAILED", "Nothing to commit: there are no changes.");
    const who = [`-c`, `user.name=${author.name.replace(/[<>\n]/g, "")}`, `-c`, `user.email=${author.email.replace(/[<>\n]/g, "")}`];
    await this.git.ok(id, [...who, "commit", "-q", "--no-verify", "-F", "-"], { cwd, stdin: message }, "git commit");
    const head = await this.git.ok(id, ["rev-parse", "HEAD"], { cwd }, "git rev-parse");
    this.touch(id);
    return { commit: head.stdout.toString("utf8").trim(), files };
  }

  async push(ref: GitRef): Promise<{ branch: string; remote: string }> {
    const repo = await this.readyRepository(ref.projectId, ref.agentId);
    const { cwd } = await this.cwdOf(ref);
    const id = ref.agentId;
    const branch = (await this.git.ok(id, ["symbolic-ref", "--short", "HEAD"], { cwd }, "git push")).stdout.toString("utf8").trim();
    const credential = await this.credentialOf(ref.projectId, ref.agentId, repo);
    await this.git.ok(id, ["push", "--porcelain", "-u", "origin", `HEAD:refs/heads/${branch}`], { cwd, credential, timeoutMs: NETWORK_TIMEOUT_MS }, "git push");
    this.touch(id);
    return { branch, remote: repo.url };
  }

  async discard(ref: GitRef, path: string): Promise<{ path: string; discarded: "restored" | "removed" }> {
    await this.readyRepository(ref.projectId, ref.agentId);
    const { cwd } = await this.cwdOf(ref);
    const p = repoPath(path);
    const id = ref.agentId;
    const tracked = await this.git.run(id, ["cat-file", "-e", `HEAD:${p}`], { cwd });
    if (tracked.exitCode === 0) {
      await this.git.ok(id, ["restore", "--source=HEAD", "--staged", "--worktree", "--", p], { cwd }, "git restore");
      this.touch(id);
      return { path: p, discarded: "restored" };
    }
    const st = await this.git.run(id, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", p], { cwd });
    if (!parsePorcelain(st.stdout.toString("utf8")).length) throw new DomainError("NOT_FOUND", `${p} has no changes to discard.`);
    await this.git.run(id, ["rm", "-q", "--cached", "--ignore-unmatch", "--", p], { cwd });
    await this.git.ok(id, ["clean", "-q", "-f", "--", p], { cwd }, "git clean");
    this.touch(id);
    return { path: p, discarded: "removed" };
  }

  /** The base and credential a pull request of this session needs. */
  async pullRequestContext(ref: Required<GitRef>): Promise<{ repo: AgentRepository; session: ChatSession; credential: GitCredential | null }> {
    const repo = await this.readyRepository(ref.projectId, ref.agentId);
    const { session } = await this.cwdOf(ref);
    if (!session?.gitBranch || !session.gitBase) throw new DomainError("PRECONDITION_FAILED", "This session has no branch of its own: start a session with a branch to open a pull request.");
    return { repo, session, credential: await this.credentialOf(ref.projectId, ref.agentId, repo) };
  }

  /** A short summary of the changes for a commit message prompt (bounded). */
  async changeSummary(ref: GitRef): Promise<string> {
    const { cwd } = await this.cwdOf(ref);
    const stat = await this.git.run(ref.agentId, ["diff", "--stat", "HEAD"], { cwd, maxOutputBytes: 8 * 1024 });
    const patch = await this.git.run(ref.agentId, ["diff", "--no-color", "HEAD"], { cwd, maxOutputBytes: 24 * 1024 });
    const status = await this.status(ref);
    const untracked = status.files.filter((f) => f.status === "?").map((f) => `new file: ${f.path}`);
    return [stat.stdout.toString("utf8"), untracked.join("\n"), patch.stdout.toString("utf8")].filter(Boolean).join("\n\n");
  }

  /** A commit message for the current changes, written by the agent's model. */
  async suggestMessage(ref: GitRef): Promise<{ message: string }> {
    await this.readyRepository(ref.projectId, ref.agentId);
    const agent = await this.prisma.agent.findFirst({ where: { id: ref.agentId, projectId: ref.projectId }, select: { model: true } });
    if (!agent) throw notFound("Agent");
    const summary = await this.changeSummary(ref);
    if (!summary.trim()) throw new DomainError("PRECONDITION_FAILED", "Nothing to commit: there are no changes.");
    let text: string;
    try {
      ({ text } = await this.opts.complete({
        model: agent.model,
        system: "You write git commit messages: a subject line of at most 72 characters in the imperative mood, then optionally a blank line and a short body. Answer with the message only.",
        messages: [{ role: "user", content: `Write the commit message for these changes:\n\n${summary.slice(0, 32_000)}` }],
        maxTokens: 300,
      }));
    } catch (err) {
      throw new DomainError("PRECONDITION_FAILED", `The model could not suggest a message: ${(err as Error).message}`);
    }
    const message = text.trim().replace(/^```\w*\n?|```$/g, "").trim().slice(0, 10_000);
    if (!message) throw new DomainError("PRECONDITION_FAILED", "The model answered with an empty message: write one yourself.");
    return { message };
  }

  private touch(agentId: string): void {
    for (const wake of this.touched.get(agentId) ?? []) wake();
  }

  /**
   * The status of a workspace or session worktree now and again whenever it changes, until
   * `signal` aborts: re-read (debounced) on the file service's change events for the agent (the
   * worktree's top directory is watched), after git mutations made through Armory, and every
   * CHANGE_POLL_MS; a status equal to the last one sent is not sent again.
   */
  async *changes(ref: GitRef, signal: AbortSignal): AsyncGenerator<GitStatusView> {
    const first = await this.status(ref);
    yield first;
    const { cwd } = await this.cwdOf(ref);
    let last = JSON.stringify(first);
    let wake: (() => void) | null = null;
    let dirty = false;
    const nudge = () => {
      dirty = true;
      wake?.();
    };
    const own = this.touched.get(ref.agentId) ?? new Set();
    this.touched.set(ref.agentId, own);
    own.add(nudge);
    const fileEvents = new AbortController();
    const stop = () => fileEvents.abort();
    signal.addEventListener("abort", stop, { once: true });
    void (async () => {
      try {
        const events = await this.opts.files.changes(ref, [cwd], async (p) => normalizeAgentPath(p), fileEvents.signal);
        for await (const _e of events) nudge();
      } catch {
        // no watch (e.g. the daemon reconnects): the poll still runs
      }
    })();
    try {
      while (!signal.aborted) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, dirty ? CHANGE_DEBOUNCE_MS : CHANGE_POLL_MS);
          function done() {
            clearTimeout(timer);
            wake = null;
            signal.removeEventListener("abort", done);
            resolve();
          }
          wake = dirty ? null : () => setTimeout(done, CHANGE_DEBOUNCE_MS);
          signal.addEventListener("abort", done, { once: true });
        });
        if (signal.aborted) break;
        dirty = false;
        let now: GitStatusView;
        try {
          now = await this.status(ref);
        } catch (err) {
          if (err instanceof DomainError && err.code === "NOT_FOUND") throw err;
          continue; // the agent stopped for a moment: try again at the next wake
        }
        const text = JSON.stringify(now);
        if (text !== last) {
          last = text;
          yield now;
        }
      }
    } finally {
      own.delete(nudge);
      if (!own.size) this.touched.delete(ref.agentId);
      signal.removeEventListener("abort", stop);
      fileEvents.abort();
    }
  }
}

export { lastLines, type GitResult };
