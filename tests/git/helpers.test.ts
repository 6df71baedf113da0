// The git service's pure parts and armoryd's exec.run on this machine (real processes, real git).
import { describe, expect, it } from "vitest";
import { Execs } from "@/armoryd/exec";
import type { DaemonEvent } from "@/contracts/armoryd";
import { repositoryInput } from "@/contracts/git";
import { redact } from "@/server/git/exec";
import { branchSlug, clonePercent, repoPath } from "@/server/git/service";

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

  it("accepts https repository URLs only, without credentials in them", () => {
    expect(repositoryInput.safeParse({ url: "https://github.com/acme/app.git", branch: "main", credentialSecret: "GITHUB_TOKEN" }).success).toBe(true);
    expect(repositoryInput.safeParse({ url: "https://x:tok@github.com/acme/app.git" }).success).toBe(false);
    expect(repositoryInput.safeParse({ url: "git@github.com:acme/app.git" }).success).toBe(false);
    expect(repositoryInput.safeParse({ url: "https://github.com/acme/app.git", branch: "-x" }).success).toBe(false);
    expect(repositoryInput.safeParse({ url: "https://github.com/acme/app.git", branch: "a..b" }).success).toBe(false);
  });

  it("removes the token and URL credentials from git's words", () => {
    expect(redact("fatal: could not read https://u:tok123@host/x and tok123", { username: "u", password: "tok123" })).toBe("fatal: could not read https://***@host/x and ***");
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
});

describe("a template's repository", () => {
  it("is read from a template file and refused when it is not an https URL", async () => {
    const { templateFileSchema } = await import("@/server/domain/templates");
    const base = { name: "repo-coder", model: "claude-sonnet-4-5", resources: { memoryMb: 1024, cpus: 1, pidsLimit: 256 } };
    expect(templateFileSchema.parse(base).repository).toBeNull();
    expect(templateFileSchema.parse({ ...base, repository: { url: "https://github.com/acme/app.git", branch: "main", credentialSecret: "GITHUB_TOKEN" } }).repository).toEqual({
      url: "https://github.com/acme/app.git",
      branch: "main",
      credentialSecret: "GITHUB_TOKEN",
    });
    expect(templateFileSchema.safeParse({ ...base, repository: { url: "ssh://git@github.com/acme/app.git" } }).success).toBe(false);
  });
});
