// The `armory` CLI end to end (Docker suite): the real binary as a child process drives a running
// Armory with one real agent container (shared by the file): create with live progress, chat with
// the real Claude Code CLI answered by the demo model, files put/get/ls, logs -f seeing a line
// written after it started, stop/start, and rm.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttp, type TestArmory } from "../support/armory";
import { writeContainerLog } from "../support/agent-exec";
import { startChatArmory, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { makeToken } from "../support/trust";
import { cliEnv, collectOutput, runCli, startCli } from "./run-cli";

describe("armory CLI with a real agent", () => {
  let fixture: ChatArmory | undefined;
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let agentId: string;

  beforeAll(async () => {
    fixture = await startChatArmory({ db: suiteDb("pglite"), name: "CLI e2e", env: { ARMORY_CHAT_IDLE_SECONDS: "120" } });
    armory = fixture.armory;
    http = await startHttp(() => armory.services);
    const { token } = await makeToken(armory.services, fixture.owner.id, { name: "cli e2e" });
    home = await mkdtemp(path.join(os.tmpdir(), "armory-cli-e2e-"));
    env = cliEnv(home);
    const login = await runCli(["login", http.url, "--token", token], env);
    expect(login.code).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await http?.close();
    await fixture?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("agents create --start shows the lifecycle as it happens and ends running", async () => {
    const r = await runCli(["agents", "create", "cli-agent", "--template", "claude-coder", "--memory", "1024", "--start"], env);
    expect(r.stderr).toContain("Creating cli-agent from claude-coder");
    // Live states from agent.onStatus, then the outcome.
    expect(r.stderr).toMatch(/cli-agent: (creating|created|running)/);
    expect(r.stderr).toContain("running.");
    expect(r.code).toBe(0);
    const ls = await runCli(["agents", "ls", "--json"], env);
    const agents = JSON.parse(ls.stdout) as { id: string; name: string; observedState: string }[];
    expect(agents).toEqual([expect.objectContaining({ name: "cli-agent", observedState: "running" })]);
    agentId = agents[0]!.id;
    await armory.services.hub.waitFor(agentId, { timeoutMs: 60_000 });
  }, 300_000);

  it("chat streams the agent's reply (the real CLI, the demo model) and names the session", async () => {
    const r = await runCli(["chat", "cli-agent", "Hello from the command line"], env);
    expect(r.stdout).toContain('You said: "Hello from the command line"');
    expect(r.stderr).toMatch(/\(session [0-9a-f-]{36}\)/);
    expect(r.code).toBe(0);
    // --json: one event per line, ending with the run's completion.
    const j = await runCli(["chat", agentId, "Again, as JSON", "--json"], env);
    const events = j.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string });
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(j.code).toBe(0);
  }, 240_000);

  it("Ctrl-C interrupts the running turn (exit 130); piped lines are one turn each, in one session", async () => {
    const child = startCli(["chat", "cli-agent", "run `sleep 60`"], env);
    let stderr = "";
    const toolStarted = new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes("→ Bash: sleep 60")) resolve();
      });
      child.once("close", (code) => reject(new Error(`exited ${code} before the tool call: ${stderr}`)));
    });
    const output = collectOutput(child);
    await toolStarted;
    const started = performance.now();
    child.kill("SIGINT");
    expect(await output.exitCode()).toBe(130);
    expect(stderr).toContain("interrupting the turn");
    // The turn ended by the interrupt, well before the command would have.
    expect(performance.now() - started).toBeLessThan(30_000);
    // The CLI exits once it asked for the interrupt; the server ends the turn right after (on a
    // loaded machine, after the next command could start): wait until no session is running.
    const { caller, projectId } = fixture!;
    await expect.poll(async () => (await caller.chat.sessions({ projectId, agentId })).sessions.some((s) => s.running), { timeout: 30_000 }).toBe(false);

    const piped = await runCli(["chat", "cli-agent"], env, { input: "First piped line\nSecond piped line\n" });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain('You said: "First piped line"');
    expect(piped.stdout).toContain('You said: "Second piped line"');
    expect(piped.stdout.indexOf("First piped line")).toBeLessThan(piped.stdout.indexOf("Second piped line"));
  }, 240_000);

  it("approve lists the pending approval of a running turn and allows it; the turn then completes", async () => {
    const { caller, projectId } = fixture!;
    await caller.agent.update({ projectId, agentId, toolPolicy: { allow: [], ask: ["Bash"], deny: [] } });
    try {
      const turn = startCli(["chat", "cli-agent", "run `echo approved-by-cli`"], env);
      const output = collectOutput(turn);
      let pending: { id: string; toolName: string; agentName: string }[] = [];
      await expect
        .poll(
          async () => {
            const r = await runCli(["approve", "--json"], env);
            pending = JSON.parse(r.stdout) as typeof pending;
            return pending.length;
          },
          { timeout: 90_000, interval: 500 },
        )
        .toBe(1);
      expect(pending[0]).toMatchObject({ toolName: "Bash", agentName: "cli-agent" });
      const table = await runCli(["approve"], env);
      expect(table.stdout).toContain(pending[0]!.id);
      const allow = await runCli(["approve", pending[0]!.id], env);
      expect(allow.stderr).toContain("Allowed: Bash for cli-agent.");
      expect(allow.code).toBe(0);
      expect(await output.exitCode()).toBe(0);
      expect((await runCli(["approve", "--json"], env)).stdout.trim()).toBe("[]");
    } finally {
      await caller.agent.update({ projectId, agentId, toolPolicy: null });
    }
  }, 240_000);

  it("files put, then files get returns the same bytes; files ls --json lists it", async () => {
    const local = path.join(home, "upload.txt");
    const text = `uploaded by the CLI ${Date.now()}\nsecond line ✓\n`;
    await writeFile(local, text);
    const put = await runCli(["files", "put", "cli-agent", local, "notes/upload.txt"], env);
    expect(put.code).toBe(0);
    expect(put.stderr).toContain("/workspace/notes/upload.txt");
    const get = await runCli(["files", "get", "cli-agent", "notes/upload.txt"], env);
    expect(get.code).toBe(0);
    expect(get.stdout).toBe(text);
    const dest = path.join(home, "download.txt");
    expect((await runCli(["files", "get", "cli-agent", "/workspace/notes/upload.txt", dest], env)).code).toBe(0);
    expect(await readFile(dest, "utf8")).toBe(text);
    const ls = await runCli(["files", "ls", "cli-agent", "notes", "--json"], env);
    expect(JSON.parse(ls.stdout).entries).toEqual([expect.objectContaining({ name: "upload.txt", type: "file", size: Buffer.byteLength(text) })]);
    const missing = await runCli(["files", "get", "cli-agent", "notes/none.txt"], env);
    expect(missing.code).toBe(3);
  }, 120_000);

  it("logs -f prints a line written to the container after it started", async () => {
    const cid = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    const child = startCli(["logs", "cli-agent", "-f", "--tail", "5"], env);
    const output = collectOutput(child);
    try {
      // The history comes first: the subscription is live.
      await output.waitFor(/\S/);
      const before = output.text.length;
      const marker = `cli-follow-${Date.now()}`;
      expect(output.text).not.toContain(marker);
      await writeContainerLog(cid, `echo ${marker}`);
      await output.waitFor(new RegExp(`^${marker}$`, "m"), before);
    } finally {
      child.kill("SIGINT");
    }
    const code = await output.exitCode();
    expect(code).toBe(130);
  }, 120_000);

  it("stop and start follow the lifecycle; rm removes the agent and then it is not found", async () => {
    const stop = await runCli(["agents", "stop", "cli-agent"], env);
    expect(stop.stderr).toContain("cli-agent is stopped.");
    expect(stop.code).toBe(0);
    const start = await runCli(["agents", "start", "cli-agent", "--json"], env);
    expect(start.code).toBe(0);
    expect(JSON.parse(start.stdout)).toMatchObject({ name: "cli-agent", desiredState: "running" });
    const removed = await runCli(["agents", "rm", "cli-agent", "--json"], env);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ id: agentId, removed: true });
    expect((await runCli(["logs", "cli-agent"], env)).code).toBe(3);
  }, 240_000);
});
