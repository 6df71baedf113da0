// Teams (issue 18): keyword routing (word boundaries, /regex/ rules, ties, fallback, 422 without
// one), llm routing against a scripted Messages-API server this test starts (its answers are
// {"agent", "reason"}; an unusable answer goes to the fallback, saying why), hybrid, team files
// (team.import and <templates dir>/teams at start), and authorization (a viewer may neither
// create nor send; send needs "chat" on the agent the router chose, checked after routing).
// No container is needed: the turn itself fails (the Docker socket does not exist), the recorded
// TeamMessage with its chat session and run ids proves the routing and the send.
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@/server/logger";
import { TeamService } from "@/server/teams/service";
import { callerFor, LogCapture, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { insertAgentRow } from "../support/trust";
import { expectTrpcError } from "../support/trpc-errors";

/** A Messages API server answering each POST /v1/messages with the next scripted text (JSON, not streamed). */
async function startScriptedModel() {
  const answers: string[] = [];
  const requests: { headers: http.IncomingHttpHeaders; body: { model: string; system?: string; messages: { content: string }[] } }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.startsWith("/v1/messages")) return res.writeHead(404).end();
      requests.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      const text = answers.shift() ?? "no answer scripted";
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: "scripted", content: [{ type: "text", text }], stop_reason: "end_turn", usage: { input_tokens: 120, output_tokens: 18 } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    answers,
    requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe("teams (pglite)", () => {
  let model: Awaited<ReturnType<typeof startScriptedModel>>;
  let armory: TestArmory;
  let owner: TestUser;
  let viewer: TestUser;
  let projectId: string;
  const agents: Record<string, string> = {};
  let caller: Awaited<ReturnType<typeof callerFor>>;

  beforeAll(async () => {
    model = await startScriptedModel();
    const docker = new Docker({ socketPath: `/nonexistent/armory-teams-${process.pid}.sock` });
    armory = await startTestArmory("pglite", { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "sk-team-router-key", ARMORY_GATEWAY_URL: "http://gateway.invalid/api/gateway/anthropic" }, { docker });
    owner = await signUp(armory.services, { name: "Owner" });
    viewer = await signUp(armory.services, { name: "Viewer" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: `Teams ${crypto.randomUUID().slice(0, 8)}` })).id;
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: viewer.id, role: "viewer" } });
    for (const name of ["reviewer", "deployer", "generalist"]) agents[name] = (await insertAgentRow(armory.services, projectId, name)).id;
  });
  afterAll(async () => {
    await armory?.close();
    await model?.close();
  });

  const members = () => [
    { agentId: agents.reviewer!, description: "Reviews pull requests and diffs", keywords: ["review", "pull request", "/\\bPR-\\d+\\b/"] },
    { agentId: agents.deployer!, description: "Deploys services and rolls them back", keywords: ["deploy", "rollback", "review"] },
  ];

  async function keywordTeam(fallback: boolean) {
    return caller.team.create({ projectId, name: `kw-${crypto.randomUUID().slice(0, 8)}`, router: "keyword", fallbackAgentId: fallback ? agents.generalist! : null, members: members() });
  }

  it("keyword: words on word boundaries, case-insensitive; phrases; /regex/ rules; sends and records", async () => {
    const team = await keywordTeam(true);
    const a = await caller.team.send({ projectId, teamId: team.id, message: "Please DEPLOY the api" });
    expect(a.decision).toMatchObject({ agentId: agents.deployer, agentName: "deployer", method: "keyword", reason: "matched keyword 'deploy'" });
    // The message went through the chat service: a real session and run of the chosen agent.
    const run = await armory.services.db.prisma.chatRun.findUniqueOrThrow({ where: { id: a.message.runId } });
    expect(run).toMatchObject({ sessionId: a.message.sessionId, agentId: agents.deployer, message: "Please DEPLOY the api", userId: owner.id });
    // "deployment" is not the word "deploy": no rule matches, the fallback takes it.
    const b = await caller.team.send({ projectId, teamId: team.id, message: "how was the deployment?" });
    expect(b.decision).toMatchObject({ agentId: agents.generalist, method: "fallback", reason: "no keyword rule matched: sent to the fallback agent" });
    const c = await caller.team.send({ projectId, teamId: team.id, message: "can you look at the pull  request for PR-42" });
    expect(c.decision).toMatchObject({ agentId: agents.reviewer, method: "keyword" });
    expect(c.decision.reason).toBe("matched 2 rules: keyword 'pull request', rule /\\bPR-\\d+\\b/");
    // History: newest first, with the decisions.
    const history = await caller.team.messages({ projectId, teamId: team.id });
    expect(history.items.map((m) => [m.agentName, m.method])).toEqual([["reviewer", "keyword"], ["generalist", "fallback"], ["deployer", "keyword"]]);
  });

  it("keyword: more matching rules win; a tie goes to the earlier member", async () => {
    const team = await keywordTeam(false);
    // "review" is a rule of both: a tie, the reviewer is listed first.
    const tie = await caller.team.send({ projectId, teamId: team.id, message: "review this" });
    expect(tie.decision).toMatchObject({ agentName: "reviewer", method: "keyword" });
    expect(tie.decision.reason).toContain("tied with deployer");
    // "review" + "rollback": the deployer has two matching rules, the reviewer one.
    const more = await caller.team.send({ projectId, teamId: team.id, message: "review the rollback plan" });
    expect(more.decision).toMatchObject({ agentName: "deployer", reason: "matched 2 rules: keyword 'rollback', keyword 'review'" });
  });

  it("keyword: no match and no fallback is a clear 422, nothing sent", async () => {
    const team = await keywordTeam(false);
    const runs = await armory.services.db.prisma.chatRun.count();
    await expectTrpcError(caller.team.send({ projectId, teamId: team.id, message: "what's for lunch" }), "UNPROCESSABLE_CONTENT", /No agent matched and the team has no fallback/);
    expect(await armory.services.db.prisma.chatRun.count()).toBe(runs);
    expect((await caller.team.messages({ projectId, teamId: team.id })).items).toHaveLength(0);
  });

  it("a follow-up to the same agent continues its session; another agent has its own", async () => {
    const team = await keywordTeam(true);
    const first = await caller.team.send({ projectId, teamId: team.id, message: "deploy v1" });
    await armory.services.turns.outcome(first.message.sessionId, first.message.runId);
    const other = await caller.team.send({ projectId, teamId: team.id, message: "review v1" });
    await armory.services.turns.outcome(other.message.sessionId, other.message.runId);
    const second = await caller.team.send({ projectId, teamId: team.id, message: "deploy v2" });
    expect(second.message.sessionId).toBe(first.message.sessionId);
    expect(second.message.runId).not.toBe(first.message.runId);
    expect(other.message.sessionId).not.toBe(first.message.sessionId);
  });

  it("rejects bad rules and foreign agents with 400", async () => {
    await expectTrpcError(caller.team.create({ projectId, name: "bad-regex", members: [{ agentId: agents.reviewer!, keywords: ["/([a-z/"] }] }), "BAD_REQUEST", /not a valid regular expression/);
    const other = (await caller.project.create({ name: "Elsewhere" })).id;
    const foreign = (await insertAgentRow(armory.services, other, "foreign")).id;
    await expectTrpcError(caller.team.create({ projectId, name: "foreign", members: [{ agentId: foreign }] }), "BAD_REQUEST", /No agent/);
    await caller.team.create({ projectId, name: "dup-name", members: [{ agentId: agents.reviewer! }] });
    await expectTrpcError(caller.team.create({ projectId, name: "dup-name", members: [{ agentId: agents.reviewer! }] }), "CONFLICT", /already exists/);
  });

  it("llm: the model chooses from the descriptions through Armory's upstream; its reason is recorded", async () => {
    const team = await caller.team.create({ projectId, name: "llm-team", router: "llm", model: "claude-haiku-4-5", fallbackAgentId: agents.generalist!, members: members() });
    model.answers.push('{"agent": "deployer", "reason": "The user wants a service shipped to production."}');
    const before = model.requests.length;
    const sent = await caller.team.send({ projectId, teamId: team.id, message: "ship the billing service to prod" });
    expect(sent.decision).toEqual({ agentId: agents.deployer, agentName: "deployer", method: "llm", reason: "The user wants a service shipped to production." });
    const req = model.requests[before]!;
    expect(req.headers["x-api-key"]).toBe("sk-team-router-key");
    expect(req.body.model).toBe("claude-haiku-4-5");
    expect(req.body.messages[0]!.content).toContain("- reviewer: Reviews pull requests and diffs");
    expect(req.body.messages[0]!.content).toContain("ship the billing service to prod");
    // The routing call's tokens count as the chosen agent's usage.
    const usage = await armory.services.db.prisma.usageDay.findMany({ where: { agentId: agents.deployer, model: "claude-haiku-4-5" } });
    expect(usage.reduce((n, u) => n + Number(u.inputTokens), 0)).toBeGreaterThanOrEqual(120);
    const stored = await armory.services.db.prisma.teamMessage.findUniqueOrThrow({ where: { id: sent.message.id } });
    expect(stored).toMatchObject({ method: "llm", reason: "The user wants a service shipped to production.", agentId: agents.deployer, runId: sent.message.runId });
  });

  it("llm: an answer that is not JSON, or names no member, goes to the fallback saying why", async () => {
    const team = await caller.team.create({ projectId, name: "llm-invalid", router: "llm", fallbackAgentId: agents.generalist!, members: members() });
    model.answers.push("I think the deployer should do it.");
    const a = await caller.team.send({ projectId, teamId: team.id, message: "ship it" });
    expect(a.decision).toMatchObject({ agentId: agents.generalist, method: "fallback" });
    expect(a.decision.reason).toMatch(/^the router model's answer was not JSON: "I think the deployer should do it\."/);
    model.answers.push('```json\n{"agent": "janitor", "reason": "cleaning"}\n```');
    const b = await caller.team.send({ projectId, teamId: team.id, message: "clean up" });
    expect(b.decision).toMatchObject({ agentId: agents.generalist, method: "fallback" });
    expect(b.decision.reason).toMatch(/the router model chose "janitor", which is not one of the candidates \(reviewer, deployer\)/);
    // Without a fallback an unusable answer is a 422 naming the reason.
    const strict = await caller.team.create({ projectId, name: "llm-strict", router: "llm", members: members() });
    model.answers.push("nope");
    await expectTrpcError(caller.team.send({ projectId, teamId: strict.id, message: "x" }), "UNPROCESSABLE_CONTENT", /no fallback \(the router model's answer was not JSON/);
  });

  it("hybrid: keywords first; the model when nothing matched or members tie", async () => {
    const team = await caller.team.create({ projectId, name: "hybrid", router: "hybrid", fallbackAgentId: agents.generalist!, members: members() });
    const asked = model.requests.length;
    const kw = await caller.team.send({ projectId, teamId: team.id, message: "rollback the api" });
    expect(kw.decision).toMatchObject({ agentName: "deployer", method: "keyword", reason: "matched keyword 'rollback'" });
    expect(model.requests.length).toBe(asked); // no model call when a rule decided
    model.answers.push('{"agent": "reviewer", "reason": "It is about code quality."}');
    const none = await caller.team.send({ projectId, teamId: team.id, message: "is this code any good?" });
    expect(none.decision).toMatchObject({ agentName: "reviewer", method: "llm", reason: "no keyword rule matched; the model chose: It is about code quality." });
    // A tie ("review" is both members' rule): the model picks among the tied members only.
    model.answers.push('{"agent": "deployer", "reason": "A release review."}');
    const tie = await caller.team.send({ projectId, teamId: team.id, message: "review the release" });
    expect(tie.decision).toMatchObject({ agentName: "deployer", method: "llm" });
    expect(tie.decision.reason).toContain("keyword rules tied between reviewer, deployer");
    expect(model.requests.length).toBe(asked + 2);
  });

  const goodYaml = (name: string, project = "") => `# a team file
name: ${name}
${project ? `project: ${project}\n` : ""}router: hybrid
model: claude-haiku-4-5
fallback: generalist
members:
  - agent: reviewer
    description: Reviews pull requests
    keywords: [review, "/PR-\\\\d+/"]
  - agent: deployer
    description: Deploys
    keywords:
      - deploy
`;

  it("team.import: a good file creates the team (source yaml); a bad file is a 400 naming the line", async () => {
    const team = await caller.team.import({ projectId, yaml: goodYaml("from-yaml") });
    expect(team).toMatchObject({ name: "from-yaml", router: "hybrid", source: "yaml", fallbackAgentName: "generalist" });
    expect(team.members.map((m) => [m.agentName, m.keywords])).toEqual([["reviewer", ["review", "/PR-\\d+/"]], ["deployer", ["deploy"]]]);
    const routed = await caller.team.send({ projectId, teamId: team.id, message: "see PR-7" });
    expect(routed.decision).toMatchObject({ agentName: "reviewer", method: "keyword" });
    // Importing the same name again replaces the team.
    const again = await caller.team.import({ projectId, yaml: goodYaml("from-yaml").replace("router: hybrid", "router: keyword") });
    expect(again).toMatchObject({ id: team.id, router: "keyword" });
    // Not YAML at all: the parser's line.
    await expectTrpcError(caller.team.import({ projectId, yaml: "name: x\nmembers:\n  - agent: [unclosed\n" }), "BAD_REQUEST", /line \d+: not valid YAML/);
    // Valid YAML, wrong field: the line of that field.
    await expectTrpcError(caller.team.import({ projectId, yaml: "name: bad\nrouter: telepathy\nmembers:\n  - agent: reviewer\n" }), "BAD_REQUEST", /line 2: router: router must be one of keyword, llm, hybrid/);
    await expectTrpcError(caller.team.import({ projectId, yaml: "name: bad\nmembers:\n  - agent: reviewer\n    keywords: ['/([/']\n" }), "BAD_REQUEST", /line 4: members\.0\.keywords/);
    await expectTrpcError(caller.team.import({ projectId, yaml: goodYaml("ghost").replace("agent: deployer", "agent: nobody") }), "BAD_REQUEST", /no agent named nobody/);
    await expectTrpcError(caller.team.import({ projectId, yaml: goodYaml("elsewhere", "Some other project") }), "BAD_REQUEST", /names the project Some other project/);
  });

  it("team files in <templates dir>/teams are loaded (project by name), invalid ones skipped with a warning", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "armory-teams-"));
    try {
      const project = await armory.services.db.prisma.project.findUniqueOrThrow({ where: { id: projectId } });
      await fs.writeFile(path.join(dir, "a.yaml"), goodYaml("file-team", project.name));
      await fs.writeFile(path.join(dir, "b.yaml"), "name: broken\nrouter: [\n");
      await fs.writeFile(path.join(dir, "c.yaml"), goodYaml("orphan", "No such project"));
      const logs = new LogCapture();
      const service = new TeamService({ prisma: armory.services.db.prisma, gateway: armory.services.gateway, turns: armory.services.turns, log: createLogger({ level: "debug", format: "json", destination: logs }) });
      const result = await service.syncFiles(dir);
      expect(result).toEqual({ created: ["file-team"], updated: [], skipped: ["b.yaml", "c.yaml"] });
      expect(logs.text).toMatch(/Skipped team file b\.yaml: line \d+: not valid YAML/);
      const teams = await caller.team.list({ projectId });
      expect(teams.find((t) => t.name === "file-team")).toMatchObject({ source: "yaml", router: "hybrid" });
      expect((await service.syncFiles(dir)).updated).toEqual(["file-team"]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("authorization: a viewer reads but may not create or send; send needs chat on the chosen agent", async () => {
    const team = await keywordTeam(true);
    const asViewer = await callerFor(armory.services, viewer);
    expect((await asViewer.team.list({ projectId })).map((t) => t.id)).toContain(team.id);
    await expectTrpcError(asViewer.team.create({ projectId, name: "viewer-team", members: [{ agentId: agents.reviewer! }] }), "FORBIDDEN");
    await expectTrpcError(asViewer.team.import({ projectId, yaml: goodYaml("viewer-yaml") }), "FORBIDDEN");
    const runs = await armory.services.db.prisma.chatRun.count();
    await expectTrpcError(asViewer.team.send({ projectId, teamId: team.id, message: "deploy it" }), "FORBIDDEN", /deployer/);
    // A grant of chat on the reviewer only: messages routed there go through, the deployer's not.
    await caller.trust.create({ projectId, callerType: "user", callerId: viewer.id, targetType: "agent", target: agents.reviewer!, permissions: { chat: true } });
    const ok = await asViewer.team.send({ projectId, teamId: team.id, message: "review it" });
    expect(ok.decision.agentName).toBe("reviewer");
    const refused = await expectTrpcError(asViewer.team.send({ projectId, teamId: team.id, message: "deploy it" }), "FORBIDDEN");
    expect(refused.message).toMatch(/deployer/);
    // Refused sends left nothing behind; the allowed one made exactly one run.
    expect(await armory.services.db.prisma.chatRun.count()).toBe(runs + 1);
    const audit = await armory.services.db.prisma.auditEvent.findMany({ where: { userId: viewer.id, action: "team.send" }, orderBy: { at: "asc" } });
    expect(audit.map((a) => a.allowed)).toEqual([false, true, false]);
  });
});
