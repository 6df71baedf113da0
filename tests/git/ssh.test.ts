// ssh repositories with deploy keys, end to end with real ssh and git: an ssh git server (ssh2,
// tests/support/git-ssh-server.ts) that accepts one deploy key, agents whose daemon clones over
// ssh through Armory's egress proxy (ProxyCommand `armoryd connect`). Proves: clone at create with
// the key (host key trusted on first use), commit + push arriving on the server, the key never in
// .git/config, the container's env or on disk afterwards, a changed host key refused, a wrong key
// failing with a clear reason, and a failed clone retried (git.retryClone) after the secret is fixed.
import dns from "node:dns/promises";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sh } from "../support/agent-exec";
import { startChatArmory, type Caller, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { generateDeployKey, startGitSshServer, type GitSshServer } from "../support/git-ssh-server";

describe("ssh repositories with deploy keys (real ssh, real agent containers)", () => {
  let fixture: ChatArmory | undefined;
  let server: GitSshServer | undefined;
  let caller: Caller;
  let projectId = "";
  const deployKey = generateDeployKey("deploy");
  const otherKey = generateDeployKey("not-authorized");
  /** One line from the middle of the private key: what would be there if it leaked. */
  const keyLine = deployKey.privateKey.split("\n")[2]!;

  const waitClone = (agentId: string) =>
    expect.poll(async () => (await caller.agent.get({ projectId, agentId })).repository?.cloneState, { timeout: 120_000, interval: 200 });

  beforeAll(async () => {
    const host = os.hostname();
    const { address } = await dns.lookup(host);
    expect(address).toMatch(/^127\./);
    server = await startGitSshServer({ host, authorizedKeys: [deployKey.publicKey] });
    server.createRepo("acme/app", { "README.md": "# App\n", "src/greeting.txt": "hello over ssh\n" });
    fixture = await startChatArmory({ db: suiteDb("pglite"), name: "Git over ssh", env: { ARMORY_EGRESS_ALLOW_PRIVATE: "true" } });
    ({ caller, projectId } = fixture);
    fixture.armory.services.startBackground();
    await fixture.armory.services.db.prisma.template.update({ where: { id: fixture.coderTemplateId }, data: { egressAllowlist: [host] } });
    await caller.secret.set({ projectId, name: "DEPLOY_KEY", value: deployKey.privateKey });
    expect(keyLine.length).toBeGreaterThan(20);
  }, 600_000);

  afterAll(async () => {
    await fixture?.close();
    await server?.close();
  });

  it("accepts ssh:// and scp-like URLs with a key secret, and refuses an ssh URL without one", async () => {
    await expect(caller.agent.create({ projectId, templateId: fixture!.coderTemplateId, name: "no-key", repository: { url: server!.url("acme/app") } })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("an ssh repository needs credentialSecret"),
    });
    await expect(
      caller.agent.create({ projectId, templateId: fixture!.coderTemplateId, name: "bad-pin", repository: { url: server!.url("acme/app"), credentialSecret: "DEPLOY_KEY", knownHosts: "not a key line" } }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("knownHosts must be known_hosts lines") });
    await expect(
      caller.agent.create({ projectId, templateId: fixture!.coderTemplateId, name: "dash-host", repository: { url: "ssh://-oProxyCommand=touch%20x/repo.git", credentialSecret: "DEPLOY_KEY" } }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  let agentId = "";
  let containerId = "";

  it("clones over ssh with the deploy key at create; the key is not in .git/config, the env or on disk", async () => {
    const agent = await caller.agent.create({
      projectId,
      templateId: fixture!.coderTemplateId,
      name: "ssh-coder",
      overrides: { memoryMb: 1024 },
      start: true,
      repository: { url: server!.url("acme/app"), credentialSecret: "DEPLOY_KEY" },
    });
    agentId = agent.id;
    expect(agent.repository).toMatchObject({ url: server!.url("acme/app"), credentialSecret: "DEPLOY_KEY", knownHosts: null });
    containerId = (await fixture!.armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    await waitClone(agentId).toMatch(/^(ready|failed)$/);
    const repo = (await caller.agent.get({ projectId, agentId })).repository!;
    expect(repo.cloneError).toBeNull();
    expect(repo).toMatchObject({ cloneState: "ready", branch: "main", clonePercent: 100 });
    expect(await sh(containerId, "cat /workspace/src/greeting.txt")).toBe("hello over ssh\n");
    // The server saw the deploy key, and git asked it for upload-pack.
    expect(server!.auths.some((a) => a.accepted)).toBe(true);
    expect(server!.commands).toContain("git-upload-pack '/acme/app.git'");
    // Trust on first use: the server's host key is kept in the workspace.
    expect((await sh(containerId, "cat /workspace/.armory/known_hosts")).trim()).toBe(server!.knownHostsLine());
    // The key: not in the repository's config, not in any environment, no file holds it.
    const config = await sh(containerId, "cat /workspace/.git/config");
    expect(config).toContain(`url = ${server!.url("acme/app")}`);
    expect(config).not.toContain("sshCommand");
    expect(await sh(containerId, "env; cat /proc/$(pgrep -x armoryd)/environ | tr '\\0' '\\n'")).not.toContain(keyLine);
    expect(await sh(containerId, `grep -rlF '${keyLine}' /tmp /workspace /home/agent 2>/dev/null || true`)).toBe("");
    expect(await sh(containerId, "ls -A /tmp | grep armoryd-exec || true")).toBe("");
  }, 300_000);

  it("commits and pushes a session's branch over ssh: it arrives on the server", async () => {
    const s = await caller.git.createSession({ projectId, agentId, title: "Ssh change" });
    await sh(containerId, `echo pushed over ssh > ${s.worktree}/src/greeting.txt`);
    await caller.git.commit({ projectId, agentId, sessionId: s.sessionId, message: "Change over ssh" });
    expect(await caller.git.push({ projectId, agentId, sessionId: s.sessionId })).toEqual({ branch: "armory/ssh-change", remote: server!.url("acme/app") });
    expect(server!.commands).toContain("git-receive-pack '/acme/app.git'");
    expect(server!.git("acme/app", ["show", "armory/ssh-change:src/greeting.txt"])).toBe("pushed over ssh\n");
    expect(server!.git("acme/app", ["log", "-1", "--format=%s", "armory/ssh-change"]).trim()).toBe("Change over ssh");
    // A pull request needs a token: a deploy key cannot call the provider's API.
    await expect(caller.git.openPullRequest({ projectId, agentId, sessionId: s.sessionId })).rejects.toMatchObject({ code: "PRECONDITION_FAILED" });
    expect(await sh(containerId, `grep -rlF '${keyLine}' /tmp /workspace /home/agent 2>/dev/null || true`)).toBe("");
  }, 120_000);

  it("refuses a server whose host key changed since the first clone", async () => {
    await server!.rotateHostKey();
    const s = (await caller.chat.sessions({ projectId, agentId })).sessions.find((x) => x.git?.branch === "armory/ssh-change")!;
    await expect(caller.git.push({ projectId, agentId, sessionId: s.id })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
      message: expect.stringContaining("the ssh server's host key is not the one seen at the first connection (kept in /workspace/.armory/known_hosts)"),
    });
    // The stored key was not replaced by the new one.
    expect((await sh(containerId, "cat /workspace/.armory/known_hosts")).trim()).not.toBe(server!.knownHostsLine());
  }, 120_000);

  it("a wrong key fails with a clear reason; after the secret is fixed, Retry clones (pinned host key)", async () => {
    await caller.secret.set({ projectId, name: "OTHER_KEY", value: otherKey.privateKey });
    const agent = await caller.agent.create({
      projectId,
      templateId: fixture!.coderTemplateId,
      name: "ssh-retry",
      overrides: { memoryMb: 1024 },
      start: true,
      repository: { url: server!.url("acme/app"), credentialSecret: "OTHER_KEY", knownHosts: server!.knownHostsLine().replace(/^\S+ /, "") },
    });
    await waitClone(agent.id).toBe("failed");
    const failed = (await caller.agent.get({ projectId, agentId: agent.id })).repository!;
    expect(failed.cloneError).toMatch(/^the ssh server refused the deploy key \(.*Permission denied \(publickey\)\)/);
    expect(server!.auths.some((a) => !a.accepted && a.key === otherKey.publicKey.split(" ")[1])).toBe(true);
    await expect(caller.git.status({ projectId, agentId: agent.id })).rejects.toMatchObject({ code: "PRECONDITION_FAILED", message: expect.stringContaining("Retry the clone") });

    // Fix the secret (the authorized key), then retry without restarting the agent.
    await caller.secret.set({ projectId, name: "OTHER_KEY", value: deployKey.privateKey });
    const seen = new Set<string>();
    expect(await caller.git.retryClone({ projectId, agentId: agent.id })).toEqual({ cloneState: "pending" });
    await expect
      .poll(
        async () => {
          const r = (await caller.agent.get({ projectId, agentId: agent.id })).repository!;
          seen.add(r.cloneState);
          return r.cloneState;
        },
        { timeout: 120_000, interval: 100 },
      )
      .toMatch(/^(ready|failed)$/);
    const ready = (await caller.agent.get({ projectId, agentId: agent.id })).repository!;
    expect(ready.cloneError).toBeNull();
    expect(ready.cloneState).toBe("ready");
    expect(seen.has("failed")).toBe(false);
    const cid = (await fixture!.armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } })).containerId!;
    expect(await sh(cid, "cat /workspace/README.md")).toBe("# App\n");
    // Pinned: nothing was trusted on first use.
    expect(await sh(cid, "test -e /workspace/.armory/known_hosts && echo yes || echo no")).toBe("no\n");
    // Retrying a ready clone is refused with a sentence.
    await expect(caller.git.retryClone({ projectId, agentId: agent.id })).rejects.toMatchObject({ code: "PRECONDITION_FAILED", message: "The repository is cloned already: there is nothing to retry." });
  }, 300_000);

  it("a pinned host key that does not match refuses the clone", async () => {
    const agent = await caller.agent.create({
      projectId,
      templateId: fixture!.coderTemplateId,
      name: "ssh-pinned-wrong",
      overrides: { memoryMb: 512 },
      start: true,
      repository: { url: server!.url("acme/app"), credentialSecret: "DEPLOY_KEY", knownHosts: `ssh-ed25519 ${generateDeployKey().publicKey.split(" ")[1]}` },
    });
    await waitClone(agent.id).toBe("failed");
    expect((await caller.agent.get({ projectId, agentId: agent.id })).repository!.cloneError).toMatch(/host key .*pinned in the repository's knownHosts/);
  }, 300_000);
});
