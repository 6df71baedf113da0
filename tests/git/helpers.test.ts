// The git service's pure parts and armoryd's exec.run on this machine (real processes, real git).
import { describe, expect, it } from "vitest";
import { Execs } from "@/armoryd/exec";
import type { DaemonEvent } from "@/contracts/armoryd";
import { knownHostsFile, repositoryInput, sshRemote } from "@/contracts/git";
import { gitFailed, redact, sshCommand } from "@/server/git/exec";
import { branchSlug, clonePercent, deployKey, repoPath } from "@/server/git/service";

describe("git helpers", () => {
  it("names session branches after their titles", () => {
    expect(branchSlug("Fix the greeting!")).toBe("fix-the-greeting");
    expect(branchSlug("Ünïcödé — title / with slashes")).toBe("unicode-title-with-slashes");
    expect(branchSlug("???")).toBe("session");
    expect(branchSlug("x".repeat(100))).toHaveLength(40);
  });

  it("turns git --progress lines into one percent", () => {
    expect(clonePercent("Receiving objects:  50% (5/10), 1.00 KiB | 1.00 MiB/s")).toEqual({ percent: 45, phase: "Receiving objects" });
    expect(clonePercent("Resolving deltas: 100% (3/3), done.")).toEqual({ percent: 100, phase: "Resolving deltas" });
    expect(clonePercent("remote: Counting objects: 20% (1/5)")).toEqual({ percent: 0, phase: "Counting objects" });
    expect(clonePercent("From https://example.com/x")).toBeNull();
  });

  it("keeps paths inside the repository", () => {
    expect(repoPath("./src/a.ts")).toBe("src/a.ts");
    for (const bad of ["../x", "/etc/passwd", "-rf", "a/../../b", ".git/config", ""]) expect(() => repoPath(bad)).toThrow(/inside the repository/);
  });

  it("accepts https repository URLs without credentials in them, and ssh URLs with a deploy key", () => {
    expect(repositoryInput.safeParse({ url: "https://github.com/acme/app.git", branch: "main", credentialSecret: "GITHUB_TOKEN" }).success).toBe(true);
    expect(repositoryInput.safeParse({ url: "https://x:tok@github.com/acme/app.git" }).success).toBe(false);
    // ssh: a key secret is required, credentialUser is not for ssh, knownHosts only for ssh.
    expect(repositoryInput.safeParse({ url: "git@github.com:acme/app.git" }).success).toBe(false);
    expect(repositoryInput.safeParse({ url: "git@github.com:acme/app.git", credentialSecret: "DEPLOY_KEY" }).success).toBe(true);
    expect(repositoryInput.safeParse({ url: "ssh://git@git.example.com:2222/acme/app.git", credentialSecret: "K", knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB" }).success).toBe(true);
    expect(repositoryInput.safeParse({ url: "git@github.com:acme/app.git", credentialSecret: "K", credentialUser: "x" }).success).toBe(false);
    expect(repositoryInput.safeParse({ url: "https://github.com/acme/app.git", knownHosts: "ssh-ed25519 AAAA" }).success).toBe(false);
    expect(repositoryInput.safeParse({ url: "git@github.com:acme/app.git", credentialSecret: "K", knownHosts: "rm -rf /" }).success).toBe(false);
    for (const bad of ["ssh://-oProxyCommand=x/a.git", "-oProxyCommand=x:a", "git@host://evil", "ssh://u:pw@host/a.git", "file:///etc/passwd", "ext::sh -c x"]) {
      expect(repositoryInput.safeParse({ url: bad, credentialSecret: "K" }).success, bad).toBe(false);
    }
    expect(sshRemote("ssh://git@h.example:2222/a/b.git")).toEqual({ user: "git", host: "h.example", port: 2222 });
    expect(sshRemote("git@github.com:acme/app.git")).toEqual({ user: "git", host: "github.com", port: 22 });
    expect(knownHostsFile("ssh-ed25519 AAAA\n# note\nother ssh-rsa BBBB", { host: "h", port: 2222 })).toBe("[h]:2222 ssh-ed25519 AAAA\nother ssh-rsa BBBB\n");
    expect(repositoryInput.safeParse({ url: "https://github.com/acme/app.git", branch: "-x" }).success).toBe(false);
    expect(repositoryInput.safeParse({ url: "https://github.com/acme/app.git", branch: "a..b" }).success).toBe(false);
  });

  it("removes the token and URL credentials from git's words", () => {
    expect(redact("fatal: could not read https://u:tok123@host/x and tok123", { kind: "token", username: "u", password: "tok123" })).toBe("fatal: could not read https://***@host/x and ***");
  });

  it("checks a deploy key's format and gives ssh only that key, through the egress proxy, host keys checked", () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAA\r\n-----END OPENSSH PRIVATE KEY-----";
    expect(deployKey("K", key)).toBe("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n");
    expect(() => deployKey("K", "ghp_token")).toThrow(/The secret K does not hold an ssh private key/);
    const tofu = sshCommand(false);
    expect(tofu).toContain('-i "$ARMORY_GIT_SSH_KEY" -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes');
    expect(tofu).toContain("-o UserKnownHostsFile=/workspace/.armory/known_hosts -o StrictHostKeyChecking=accept-new");
    expect(tofu).toContain('-o "ProxyCommand=/usr/local/bin/armoryd connect %h %p"');
    expect(tofu.startsWith("ssh ")).toBe(true); // git picks its ssh variant from the first word
    expect(sshCommand(true)).toContain('-o UserKnownHostsFile="$ARMORY_GIT_KNOWN_HOSTS" -o StrictHostKeyChecking=yes');
    const failed = (stderr: string) => gitFailed("git clone", { exitCode: 128, stdout: Buffer.alloc(0), stdoutBytes: 0, stderr, timedOut: false }).message;
    expect(failed("git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.")).toMatch(/the ssh server refused the deploy key \(git@h: Permission denied \(publickey\)\): add its public key/);
  });
});

describe("armoryd exec.run", () => {
  const events: DaemonEvent[] = [];
  const execs = new Execs((e) => events.push(e), { PATH: process.env.PATH ?? "/usr/bin:/bin" });
  const base = { cwd: "/tmp", env: {}, stdin: "", timeoutMs: 10_000, maxOutputBytes: 1024, progress: false };

  it("answers with the exit code and capped output; the env reaches that one process", async () => {
    const r = await execs.run({ ...base, execId: "a", argv: ["sh", "-c", 'echo "$ONLY_HERE"; head -c 5000 /dev/zero | tr "\\0" x; echo oops >&2; exit 3'], env: { ONLY_HERE: "scoped" } });
    expect(r.exitCode).toBe(3);
    expect(r.stdoutBytes).toBe(5007);
    const out = Buffer.from(r.stdout, "base64").toString();
    expect(out).toHaveLength(1024);
    expect(out.startsWith("scoped\n")).toBe(true);
    expect(r.stderr).toBe("oops\n");
    expect(process.env.ONLY_HERE).toBeUndefined();
  });

  it("passes stdin, reports stderr pieces as progress, and kills at the timeout", async () => {
    const r = await execs.run({ ...base, execId: "b", argv: ["sh", "-c", 'cat; printf "p 10%%\\rp 50%%\\rp 100%%\\n" >&2'], stdin: "in", progress: true });
    expect(Buffer.from(r.stdout, "base64").toString()).toBe("in");
    expect(events.filter((e) => e.type === "exec.progress" && e.execId === "b").map((e) => (e as { text: string }).text)).toEqual(["p 10%", "p 50%", "p 100%"]);
    const started = performance.now();
    const t = await execs.run({ ...base, execId: "c", argv: ["sleep", "30"], timeoutMs: 300 });
    expect(t).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGKILL" });
    expect(performance.now() - started).toBeLessThan(5_000);
    await expect(execs.run({ ...base, execId: "d", argv: ["/nonexistent/binary"] })).rejects.toThrow(/cannot start/);
  });

  it("gives private files to that one command (0600 in a 0700 directory) and removes them when it ends", async () => {
    const r = await execs.run({
      ...base,
      execId: "e",
      argv: ["sh", "-c", 'stat -c %a "$(dirname "$K")" "$K"; cat "$K"; echo "$K"'],
      files: [{ env: "K", content: "secret-key-body\n" }],
    });
    const [dirMode, fileMode, body, where] = Buffer.from(r.stdout, "base64").toString().trim().split("\n");
    expect([dirMode, fileMode, body]).toEqual(["700", "600", "secret-key-body"]);
    const fs = await import("node:fs");
    expect(fs.existsSync(where!)).toBe(false);
    expect(fs.existsSync(where!.replace(/\/f0$/, ""))).toBe(false);
    expect(process.env.K).toBeUndefined();
    // Also when the command cannot start.
    await expect(execs.run({ ...base, execId: "f", argv: ["/nonexistent/binary"], files: [{ env: "K", content: "x" }] })).rejects.toThrow(/cannot start/);
    expect(fs.readdirSync("/tmp").filter((n) => n.startsWith("armoryd-exec-"))).toEqual([]);
  });
});

describe("a template's repository", () => {
  it("is read from a template file (https, or ssh with a key secret) and refused otherwise", async () => {
    const { templateFileSchema } = await import("@/server/domain/templates");
    const base = { name: "repo-coder", model: "claude-sonnet-4-5", resources: { memoryMb: 1024, cpus: 1, pidsLimit: 256 } };
    expect(templateFileSchema.parse(base).repository).toBeNull();
    expect(templateFileSchema.parse({ ...base, repository: { url: "https://github.com/acme/app.git", branch: "main", credentialSecret: "GITHUB_TOKEN" } }).repository).toEqual({
      url: "https://github.com/acme/app.git",
      branch: "main",
      credentialSecret: "GITHUB_TOKEN",
    });
    expect(templateFileSchema.safeParse({ ...base, repository: { url: "ssh://git@github.com/acme/app.git" } }).success).toBe(false);
    expect(templateFileSchema.parse({ ...base, repository: { url: "git@github.com:acme/app.git", credentialSecret: "DEPLOY_KEY" } }).repository).toEqual({
      url: "git@github.com:acme/app.git",
      credentialSecret: "DEPLOY_KEY",
    });
    expect(templateFileSchema.safeParse({ ...base, repository: { url: "ftp://github.com/acme/app.git" } }).success).toBe(false);
  });
});
