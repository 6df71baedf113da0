// Running git in an agent's container: through its daemon's exec.run, as the agent user. A
// credential (a secret's value) reaches only the one git process. A token: as two environment
// variables of that process, read by a credential helper given on the command line (-c), so it
// is never written to .git/config, to disk, or to the container's environment. A deploy key (ssh
// repositories): as a private file of the one command (exec.run `files`: 0600 in a 0700 temporary
// directory armoryd removes when git ends), named by GIT_SSH_COMMAND's `-i`. ssh reaches the
// server through the egress proxy (ProxyCommand `armoryd connect`) and checks its host key
// against the pinned lines or the workspace's trust-on-first-use file (SSH_KNOWN_HOSTS).
import { randomUUID } from "node:crypto";
import { GIT_SSH_ACTION, type RequestResult } from "../../contracts/armoryd";
import { DaemonRequestError, DaemonUnavailableError, type DaemonHub } from "../agentd/hub";
import { DomainError } from "../domain/errors";

/** A token for https, or a deploy key for ssh (with the pinned known_hosts lines, if any). */
export type GitCredential =
  | { kind: "token"; username: string; password: string }
  | { kind: "ssh"; privateKey: string; knownHosts: string | null };

/** Where ssh remembers the host keys it saw first (trust on first use) when none are pinned. */
export const SSH_KNOWN_HOSTS = "/workspace/.armory/known_hosts";
const ARMORYD = "/usr/local/bin/armoryd";

/** GIT_SSH_COMMAND for a deploy key: only that key, no agent, no prompts, host keys checked, through the egress proxy. */
export function sshCommand(pinned: boolean): string {
  return [
    "ssh",
    "-F /dev/null",
    '-i "$ARMORY_GIT_SSH_KEY"',
    "-o IdentitiesOnly=yes",
    "-o IdentityAgent=none",
    "-o BatchMode=yes",
    "-o ConnectTimeout=30",
    "-o GlobalKnownHostsFile=/dev/null",
    pinned ? '-o UserKnownHostsFile="$ARMORY_GIT_KNOWN_HOSTS"' : `-o UserKnownHostsFile=${SSH_KNOWN_HOSTS}`,
    pinned ? "-o StrictHostKeyChecking=yes" : "-o StrictHostKeyChecking=accept-new",
    `-o "ProxyCommand=${ARMORYD} connect %h %p"`,
  ].join(" ");
}

export interface GitRunOptions {
  cwd: string;
  credential?: GitCredential | null;
  /** Report stderr pieces (git --progress) as they come. */
  onProgress?: (text: string) => void;
  timeoutMs?: number;
  maxOutputBytes?: number;
  stdin?: string;
  /** Extra environment of this one process. */
  env?: Record<string, string>;
}

export interface GitResult {
  exitCode: number | null;
  stdout: Buffer;
  stdoutBytes: number;
  stderr: string;
  timedOut: boolean;
}

// The helper answers `get` from the process's environment; `store` and `erase` are no-ops.
const HELPER = `!f() { test "$1" = get || exit 0; printf 'username=%s\\npassword=%s\\n' "$ARMORY_GIT_USER" "$ARMORY_GIT_TOKEN"; }; f`;

/** git's words without the credential (it may echo a URL or a prompt). */
export function redact(text: string, credential?: GitCredential | null): string {
  let out = text;
  if (credential?.kind === "token" && credential.password) out = out.split(credential.password).join("***");
  return out.replace(/(https?:\/\/)[^/@\s]+@/g, "$1***@");
}

export class GitRunner {
  constructor(private readonly hub: DaemonHub) {}

  /** Runs `git <args>` in the agent's container; never throws for a non-zero exit (see exitCode). */
  async run(agentId: string, args: string[], opts: GitRunOptions): Promise<GitResult> {
    const cred = opts.credential ?? null;
    const token = cred?.kind === "token" ? cred : null;
    const argv = ["git", "-c", "credential.helper=", ...(token ? ["-c", `credential.helper=${HELPER}`] : []), "-c", "core.quotePath=false", ...args];
    const execId = `git-${randomUUID()}`;
    const env: Record<string, string> = { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...opts.env };
    const files: { env: string; content: string }[] = [];
    if (token) {
      env.ARMORY_GIT_USER = token.username;
      env.ARMORY_GIT_TOKEN = token.password;
    } else if (cred?.kind === "ssh") {
      const info = this.hub.info(agentId);
      if (info && !info.hello.capabilities.supportedActions.includes(GIT_SSH_ACTION)) {
        throw new DomainError("PRECONDITION_FAILED", "The agent's image cannot reach ssh repositories (it is older than ssh support): update the agent on its Versions tab.");
      }
      env.GIT_SSH_COMMAND = sshCommand(!!cred.knownHosts);
      files.push({ env: "ARMORY_GIT_SSH_KEY", content: cred.privateKey });
      if (cred.knownHosts) files.push({ env: "ARMORY_GIT_KNOWN_HOSTS", content: cred.knownHosts });
    }
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let off = () => {};
    if (opts.onProgress) {
      const listener = opts.onProgress;
      off = this.hub.onEvent(agentId, (e) => {
        if (e.type === "exec.progress" && e.execId === execId) listener(redact(e.text, cred));
      });
    }
    let r: RequestResult<"exec.run">;
    try {
      r = await this.hub.request(
        agentId,
        "exec.run",
        {
          execId,
          argv,
          cwd: opts.cwd,
          env,
          stdin: opts.stdin ?? "",
          timeoutMs,
          maxOutputBytes: opts.maxOutputBytes ?? 4 * 1024 * 1024,
          progress: !!opts.onProgress,
          ...(files.length ? { files } : {}),
        },
        { timeoutMs: timeoutMs + 10_000 },
      );
    } catch (err) {
      if (err instanceof DaemonUnavailableError) throw new DomainError("PRECONDITION_FAILED", "The agent's daemon (armoryd) is not connected: start the agent and try again.");
      if (err instanceof DaemonRequestError) throw new DomainError("PRECONDITION_FAILED", `git could not run in the agent: ${redact(err.error.message, cred)}`);
      throw err;
    } finally {
      off();
    }
    return {
      exitCode: r.exitCode,
      stdout: Buffer.from(r.stdout, "base64"),
      stdoutBytes: r.stdoutBytes,
      stderr: redact(r.stderr, cred),
      timedOut: r.timedOut,
    };
  }

  /** Like run, but a non-zero exit is a DomainError with git's own reason. */
  async ok(agentId: string, args: string[], opts: GitRunOptions, what = `git ${args[0]}`): Promise<GitResult> {
    const r = await this.run(agentId, args, opts);
    if (r.exitCode !== 0) throw gitFailed(what, r);
    return r;
  }
}

export function gitFailed(what: string, r: GitResult): DomainError {
  if (r.timedOut) return new DomainError("PRECONDITION_FAILED", `${what} took too long and was stopped.`);
  const changed = /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for (\S+) has changed/.test(r.stderr);
  if (changed) {
    return new DomainError(
      "PRECONDITION_FAILED",
      `${what} failed: the ssh server's host key is not the one ${/Offending .* key in \/workspace\/\.armory\/known_hosts/.test(r.stderr) ? `seen at the first connection (kept in ${SSH_KNOWN_HOSTS})` : "pinned in the repository's knownHosts"}; the connection was refused. If the server's key really changed, check its new fingerprint and update knownHosts (or remove the line from ${SSH_KNOWN_HOSTS}).`,
    );
  }
  if (/Host key verification failed/.test(r.stderr)) {
    return new DomainError("PRECONDITION_FAILED", `${what} failed: the ssh server's host key does not match the repository's pinned knownHosts lines; the connection was refused.`);
  }
  const denied = /^(?:\S+: )?Permission denied \(publickey[^)]*\)\.?$/m.exec(r.stderr);
  if (denied) return new DomainError("PRECONDITION_FAILED", `${what} failed: the ssh server refused the deploy key (${denied[0].trim().replace(/\.$/, "")}): add its public key to the repository's deploy keys, or put the right private key in the credential secret.`);
  const reason = lastLines(r.stderr) || `exit code ${r.exitCode}`;
  return new DomainError("PRECONDITION_FAILED", `${what} failed: ${reason}`);
}

/** The last few meaningful lines of git's stderr (progress lines dropped). */
export function lastLines(stderr: string, n = 4): string {
  return stderr
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter((l) => l && !/^(remote: )?(Counting|Compressing|Receiving|Resolving|Enumerating|Total|Writing|Delta)/.test(l))
    .slice(-n)
    .join(" ")
    .slice(0, 2000);
}
