// Git workspaces end to end, with real git everywhere: a git server (`git http-backend` behind an
// HTTPS server that wants a token), one agent container created with that repository and the
// token as a project secret, cloned by its daemon through Armory's egress proxy. Then two chat
// sessions (the real Claude Code CLI, answered by the demo model) edit the same file on their own
// branches, the diff shows it, a commit and a push arrive on the server, a discard restores.
import os from "node:os";
import dns from "node:dns/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sh } from "../support/agent-exec";
import { startChatArmory, type Caller, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { startGitServer, type GitServer } from "../support/git-server";
import { startGitProviderServer, type GitProviderServer } from "../support/git-provider-server";

const TOKEN = "ghp_test_token_never_in_config_4f9a1c";

describe("git workspaces (real git, real agent container)", () => {
  let fixture: ChatArmory | undefined;
  let server: GitServer | undefined;
  let provider: GitProviderServer | undefined;
  let sessionA: { sessionId: string; branch: string } | null = null;
  let caller: Caller;
  let projectId = "";
  let agentId = "";
  let containerId = "";
  let createdAt = 0;

  beforeAll(async () => {
    // The agent reaches the server through the egress proxy by a host name on the allowlist that
    // resolves (on Armory's side) to this machine: its own host name.
    const host = os.hostname();
    const { address } = await dns.lookup(host);
    expect(address).toMatch(/^127\./);
    server = await startGitServer({ host, token: TOKEN });
    server.createRepo("acme/app", { "README.md": "# App\n", "src/greeting.txt": "hello\n" });
    // The scripted GitHub API (the only stand-in): Enterprise-style, allowed for the git server's host.
    provider = await startGitProviderServer({ token: TOKEN, repositories: ["acme/app"] });
    fixture = await startChatArmory({
      db: suiteDb("pglite"),
      name: "Git workspaces",
      env: { ARMORY_EGRESS_ALLOW_PRIVATE: "true", ARMORY_GIT_PROVIDERS: `github=${host}:${server.port}=${provider.apiUrl("github")}` },
    });
    ({ caller, projectId } = fixture);
    fixture.armory.services.startBackground();
    await fixture.armory.services.db.prisma.template.update({ where: { id: fixture.coderTemplateId }, data: { egressAllowlist: [host] } });
    await caller.secret.set({ projectId, name: "GIT_TOKEN", value: TOKEN });
    const t0 = performance.now();
    const agent = await caller.agent.create({
      projectId,
      templateId: fixture.coderTemplateId,
      name: "coder",
      // The server's certificate is self-signed: this test agent does not verify it.
      overrides: { memoryMb: 1024, env: { GIT_SSL_NO_VERIFY: "1" } },
      start: true,
      repository: { url: `${server.origin}/acme/app.git`, credentialSecret: "GIT_TOKEN" },
    });
    agentId = agent.id;
    expect(agent.repository).toMatchObject({ url: `${server.origin}/acme/app.git`, credentialSecret: "GIT_TOKEN" });
    createdAt = t0;
    containerId = (await fixture.armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
  }, 600_000);

  afterAll(async () => {
    await fixture?.close();
    await server?.close();
    await provider?.close();
  });

  it("clones at create; the token is in neither .git/config nor the container's environment", async () => {
    // The clone's progress shows on the agent while it runs; it ends ready.
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          const r = (await caller.agent.get({ projectId, agentId })).repository;
          if (r) seen.add(r.cloneState);
          if (r?.cloneState === "failed") throw new Error(`clone failed: ${r.cloneError}`);
          return r?.cloneState;
        },
        { timeout: 120_000, interval: 200 },
      )
      .toBe("ready");
    console.log(`agent created and repository cloned in ${Math.round(performance.now() - createdAt)} ms (states seen: ${[...seen].join(", ")})`);
    const view = await caller.agent.get({ projectId, agentId });
    expect(view.repository).toMatchObject({ cloneState: "ready", clonePercent: 100, branch: "main", cloneError: null });
    expect(await sh(containerId, "cat /workspace/src/greeting.txt")).toBe("hello\n");
    const config = await sh(containerId, "cat /workspace/.git/config");
    expect(config).toContain(`url = ${server!.origin}/acme/app.git`);
    expect(config).not.toContain(TOKEN);
    expect(await sh(containerId, "grep -rl 'test_token' /workspace/.git /home/agent 2>/dev/null || true")).toBe("");
    // Not in the container's environment, nor in armoryd's (what every process inherits).
    const inspect = await fixture!.armory.services.runtime.inspectContainer(containerId);
    expect(inspect).not.toBeNull();
    expect(await sh(containerId, "env; cat /proc/$(pgrep -x armoryd)/environ | tr '\\0' '\\n'")).not.toContain(TOKEN);
    // The server saw the token (the clone was authorised) and refused the first, anonymous ask.
    expect(server!.requests.some((r) => r.authorized)).toBe(true);
    // The template's instructions became the agent user's memory, not a file in the checkout
    // (where they would be committed with the agent's work).
    await expect.poll(() => sh(containerId, "test -s /home/agent/.claude/CLAUDE.md && echo yes || echo no"), { timeout: 30_000 }).toBe("yes\n");
    expect(await sh(containerId, "test -e /workspace/CLAUDE.md && echo yes || echo no")).toBe("no\n");
    // The workspace is clean: .armory/ is not a "change" of the repository.
    const status = await caller.git.status({ projectId, agentId });
    expect(status.branch).toBe("main");
    expect(status.files).toEqual([]);
  });

  it("two sessions edit the same file on their own branches without seeing each other's change", async () => {
    const a = await caller.git.createSession({ projectId, agentId, title: "Fix the greeting" });
    const b = await caller.git.createSession({ projectId, agentId, title: "Fix the greeting" });
    expect(a).toMatchObject({ branch: "armory/fix-the-greeting", base: "main", worktree: "/workspace/.armory/worktrees/fix-the-greeting" });
    expect(b.branch).toBe("armory/fix-the-greeting-2");
    const turns = fixture!.armory.services.turns;
    const ra = await turns.run({ projectId, agentId, sessionId: a.sessionId, userId: fixture!.owner.id, message: "run `echo from-session-a | tee src/greeting.txt`" });
    const rb = await turns.run({ projectId, agentId, sessionId: b.sessionId, userId: fixture!.owner.id, message: "run `echo from-session-b > src/greeting.txt`" });
    expect((await ra.outcome).status).toBe("completed");
    expect((await rb.outcome).status).toBe("completed");
    expect(await sh(containerId, `cat ${a.worktree}/src/greeting.txt`)).toBe("from-session-a\n");
    expect(await sh(containerId, `cat ${b.worktree}/src/greeting.txt`)).toBe("from-session-b\n");
    expect(await sh(containerId, "cat /workspace/src/greeting.txt")).toBe("hello\n");

    // Status and diff per session.
    const sa = await caller.git.status({ projectId, agentId, sessionId: a.sessionId });
    expect(sa).toMatchObject({ branch: "armory/fix-the-greeting", base: "main", cwd: a.worktree });
    expect(sa.files).toEqual([{ path: "src/greeting.txt", from: null, status: "M", additions: 1, deletions: 1, staged: false }]);
    const da = await caller.git.diff({ projectId, agentId, sessionId: a.sessionId, path: "src/greeting.txt" });
    expect(da).toMatchObject({ kind: "file", status: "M", old: { content: "hello\n", exists: true }, new: { content: "from-session-a\n", exists: true } });
    const patch = await caller.git.diff({ projectId, agentId, sessionId: b.sessionId });
    expect(patch.kind === "patch" && patch.patch).toContain("+from-session-b");

    // The session shows its branch and base (chat.history / chat.sessions).
    const h = await caller.chat.history({ projectId, agentId, sessionId: a.sessionId });
    expect(h.session.git).toEqual({ branch: "armory/fix-the-greeting", base: "main", pullRequestUrl: null });

    // Commit on a's branch and push: it arrives on the server.
    const commit = await caller.git.commit({ projectId, agentId, sessionId: a.sessionId, message: "Greet from session a" });
    expect(commit.files).toBe(1);
    expect((await caller.git.status({ projectId, agentId, sessionId: a.sessionId })).files).toEqual([]);
    const pushed = await caller.git.push({ projectId, agentId, sessionId: a.sessionId });
    sessionA = a;
    expect(pushed.branch).toBe("armory/fix-the-greeting");
    expect(server!.git("acme/app", ["log", "--format=%s|%an", "armory/fix-the-greeting"]).split("\n")[0]).toBe("Greet from session a|Git workspaces Owner");
    expect(server!.git("acme/app", ["show", "armory/fix-the-greeting:src/greeting.txt"])).toBe("from-session-a\n");
    expect(server!.git("acme/app", ["show", "main:src/greeting.txt"])).toBe("hello\n");
    expect(await sh(containerId, "cat /workspace/.git/config")).not.toContain(TOKEN);

    // Discard b's change (and a new file): back to the base.
    await sh(containerId, `echo scratch > ${b.worktree}/scratch.txt`);
    const sb = await caller.git.status({ projectId, agentId, sessionId: b.sessionId });
    expect(sb.files.map((f) => [f.path, f.status, f.additions])).toEqual([
      ["scratch.txt", "?", 1],
      ["src/greeting.txt", "M", 1],
    ]);
    expect(await caller.git.discard({ projectId, agentId, sessionId: b.sessionId, path: "src/greeting.txt" })).toEqual({ path: "src/greeting.txt", discarded: "restored" });
    expect(await caller.git.discard({ projectId, agentId, sessionId: b.sessionId, path: "scratch.txt" })).toEqual({ path: "scratch.txt", discarded: "removed" });
    expect((await caller.git.status({ projectId, agentId, sessionId: b.sessionId })).files).toEqual([]);
    expect(await sh(containerId, `cat ${b.worktree}/src/greeting.txt`)).toBe("hello\n");
  }, 300_000);

  it("opens a pull request for a session's branch and stores its link on the session", async () => {
    expect(sessionA).not.toBeNull();
    const a = sessionA!;
    // A new commit on the branch, then the PR: the branch is pushed again first.
    await sh(containerId, `echo more >> /workspace/.armory/worktrees/fix-the-greeting/README.md`);
    await caller.git.commit({ projectId, agentId, sessionId: a.sessionId, message: "More readme" });
    const pr = await caller.git.openPullRequest({ projectId, agentId, sessionId: a.sessionId });
    expect(pr).toMatchObject({ kind: "github", number: 1, title: "Fix the greeting", state: "open", created: true, branch: a.branch, base: "main" });
    expect(server!.git("acme/app", ["log", "--format=%s", "-1", a.branch]).trim()).toBe("More readme");
    const sent = provider!.requests.filter((r) => r.method === "POST");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe("/api/v3/repos/acme/app/pulls");
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent[0]!.body).toMatchObject({ head: a.branch, base: "main", title: "Fix the greeting", draft: false });
    // The body carries the agent's last answer (its summary of the turn).
    expect((sent[0]!.body as { body: string }).body).toContain("from-session-a");
    const h = await caller.chat.history({ projectId, agentId, sessionId: a.sessionId });
    expect(h.session.git).toEqual({ branch: a.branch, base: "main", pullRequestUrl: pr.url });
    const listed = (await caller.chat.sessions({ projectId, agentId })).sessions.find((s) => s.id === a.sessionId);
    expect(listed?.git?.pullRequestUrl).toBe(pr.url);
    // Again: the open one is returned, not a second.
    const again = await caller.git.openPullRequest({ projectId, agentId, sessionId: a.sessionId });
    expect(again).toMatchObject({ number: 1, created: false, url: pr.url });
  }, 120_000);

  it("deleting a session removes its worktree and keeps its branch", async () => {
    const b = (await caller.chat.sessions({ projectId, agentId })).sessions.find((s) => s.git?.branch === "armory/fix-the-greeting-2")!;
    const worktree = "/workspace/.armory/worktrees/fix-the-greeting-2";
    await sh(containerId, `echo unsaved > ${worktree}/unsaved.txt`);
    expect(await sh(containerId, "git -C /workspace worktree list --porcelain")).toContain(`worktree ${worktree}`);
    expect(await caller.chat.deleteSession({ projectId, agentId, sessionId: b.id })).toEqual({ deleted: true, sessionId: b.id });
    expect(await sh(containerId, `test -e ${worktree} && echo yes || echo no`)).toBe("no\n");
    expect(await sh(containerId, "git -C /workspace worktree list --porcelain")).not.toContain(worktree);
    expect(await sh(containerId, "git -C /workspace branch --list 'armory/*' --format='%(refname:short)'")).toBe("armory/fix-the-greeting\narmory/fix-the-greeting-2\n");
    // The other session's worktree is untouched.
    expect(await sh(containerId, "cat /workspace/.armory/worktrees/fix-the-greeting/src/greeting.txt")).toBe("from-session-a\n");
  }, 60_000);

  it("refuses bad input with a clear 4xx", async () => {
    await expect(caller.git.discard({ projectId, agentId, path: "../etc/passwd" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(caller.git.commit({ projectId, agentId, message: "   " })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      caller.agent.create({ projectId, templateId: fixture!.coderTemplateId, name: "bad-url", repository: { url: "https://user:secret@example.com/x.git" } }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
