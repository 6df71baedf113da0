// The `armory` CLI against a running Armory (no agent containers): login stores the URL and token
// with mode 0600 and the environment wins over it, projects and --json, and the exit codes:
// 2 usage, 3 not found, 4 authentication failed, 7 unreachable. Completion scripts for bash/zsh.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory } from "../support/armory";
import { makeToken } from "../support/trust";
import { cliEnv, runCli } from "./run-cli";

describe("armory CLI basics", () => {
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let token: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let projectId: string;

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    http = await startHttp(() => armory.services);
    const user = await signUp(armory.services);
    projectId = (await (await callerFor(armory.services, user)).project.create({ name: "CLI basics" })).id;
    token = (await makeToken(armory.services, user.id, { name: "cli" })).token;
    home = await mkdtemp(path.join(os.tmpdir(), "armory-cli-"));
    env = cliEnv(home);
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await armory?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("without a login it says how to log in and exits 2", async () => {
    const r = await runCli(["projects"], env);
    expect(r.stderr).toContain("armory login");
    expect(r.code).toBe(2);
  });

  it("login stores URL, token and the only project in $XDG_CONFIG_HOME/armory/config.json with mode 0600", async () => {
    const r = await runCli(["login", http.url, "--token", token], env);
    expect(r.stderr).toContain("Logged in");
    expect(r.code).toBe(0);
    const file = path.join(home, ".config/armory/config.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ url: http.url, token, project: { id: projectId, name: "CLI basics" } });
    // The token never appears in output.
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it("projects --json parses and lists the project; the table marks the default", async () => {
    const json = await runCli(["projects", "--json"], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id: projectId, name: "CLI basics" })]);
    const human = await runCli(["projects"], env);
    expect(human.stdout).toMatch(/^\*\s+CLI basics/m);
  });

  it("agents ls and approve list work on an empty project (--json: [])", async () => {
    const agents = await runCli(["agents", "ls", "--json"], env);
    expect([agents.code, JSON.parse(agents.stdout)]).toEqual([0, []]);
    const approvals = await runCli(["approve", "--json"], env);
    expect([approvals.code, JSON.parse(approvals.stdout)]).toEqual([0, []]);
  });

  it("a wrong token exits 4; ARMORY_TOKEN in the environment wins over the stored one", async () => {
    const r = await runCli(["projects", "--json"], { ...env, ARMORY_TOKEN: `${token.slice(0, -2)}xx` });
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: "UNAUTHORIZED", exitCode: 4 } });
    const login = await runCli(["login", http.url, "--token", "arm_not_a_real_token"], cliEnv(home, {}));
    expect(login.code).toBe(4);
    // The failed login left the stored one alone.
    expect(JSON.parse(await readFile(path.join(home, ".config/armory/config.json"), "utf8")).token).toBe(token);
  });

  it("an unknown agent or project exits 3; a bad command exits 2; an unreachable Armory exits 7", async () => {
    const agent = await runCli(["chat", "no-such-agent", "hello"], env);
    expect(agent.stderr).toContain("agent not found: no-such-agent");
    expect(agent.code).toBe(3);
    expect((await runCli(["agents", "ls", "--project", "nope"], env)).code).toBe(3);
    expect((await runCli(["agents", "frobnicate"], env)).code).toBe(2);
    expect((await runCli(["files", "get", "x"], env)).code).toBe(2);
    expect((await runCli(["projects"], { ...env, ARMORY_URL: "http://127.0.0.1:9" })).code).toBe(7);
  });

  it("completion prints bash and zsh scripts that call back into armory", async () => {
    const bash = await runCli(["completion", "bash"], env);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain("complete -o bashdefault -o default -F _armory_yargs_completions armory");
    const zsh = await runCli(["completion", "zsh"], env);
    expect(zsh.stdout).toContain("compdef _armory_yargs_completions armory");
    const words = await runCli(["--get-yargs-completions", "armory", "agents", ""], env);
    expect(words.stdout.split("\n")).toEqual(expect.arrayContaining(["ls", "create", "start", "stop", "restart", "rm"]));
  });
});
