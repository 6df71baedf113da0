// Usage records and budgets in the model gateway, over real HTTP against the demo model as the
// upstream (no container): each request is added to the agent's usage of the day with its cost at
// list price; a request over the agent's or the project's monthly budget is refused before it
// reaches the upstream, with an error the Claude Code CLI does not retry; budget.reached is
// published once per budget and limit; members read usage, only admins set budgets.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProjectEvent } from "@/contracts/project-events";
import { GATEWAY_PATH } from "@/server/gateway/gateway";
import { startDemoModelServer, type DemoModelServer } from "@/server/gateway/demo-model";
import { costOf } from "@/server/gateway/pricing";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;

async function serve(armory: TestArmory) {
  const server = http.createServer((req, res) => {
    if (armory.services.gateway.handles(req.url)) void armory.services.gateway.handle(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}${GATEWAY_PATH}`;
  return { url, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

describe.each(["pglite", "postgres"] as const)("budgets and usage in the model gateway (%s)", (backend) => {
  let upstream: DemoModelServer;
  let armory: TestArmory;
  let gw: Awaited<ReturnType<typeof serve>>;
  let owner: TestUser;
  let caller: Caller;
  let viewer: Caller;
  let projectId: string;
  let templateId: string;
  const events: ProjectEvent[] = [];

  async function makeAgent(name: string): Promise<{ id: string; token: string }> {
    const agent = await armory.services.db.prisma.agent.create({
      data: { projectId, templateId, name, image: "x", model: "claude-sonnet-4-5", memoryMb: 256, cpus: 1, pidsLimit: 64, permissionMode: "acceptEdits", workspaceVolume: `w-${name}`, sessionVolume: `s-${name}` },
    });
    return { id: agent.id, token: (await armory.services.gateway.agentEnv(agent.id)).ANTHROPIC_API_KEY! };
  }

  /** One model request as the CLI makes it; answers with the status and the parsed body (SSE as text). */
  async function ask(token: string, text = "hello", model = "claude-sonnet-4-5", stream = true) {
    const res = await fetch(`${gw.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": token, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model, stream, max_tokens: 100, messages: [{ role: "user", content: text }] }),
    });
    const body = await res.text();
    return { status: res.status, headers: res.headers, body, error: res.ok ? null : (JSON.parse(body) as { type: string; error: { type: string; message: string } }) };
  }

  beforeAll(async () => {
    upstream = await startDemoModelServer();
    armory = await startTestArmory(backend, { ANTHROPIC_BASE_URL: upstream.url, ANTHROPIC_API_KEY: "sk-upstream", ARMORY_GATEWAY_URL: "http://gateway.invalid/api/gateway/anthropic" });
    gw = await serve(armory);
    owner = await signUp(armory.services, { name: "Budget Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Budgets" })).id;
    templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    const v = await signUp(armory.services, { name: "Budget Viewer" });
    await caller.project.members.add({ projectId, email: v.email, role: "viewer" });
    viewer = await callerFor(armory.services, v);
    armory.services.projectEvents.on((e) => events.push(e));
  });
  afterAll(async () => {
    await gw?.close();
    await armory?.close();
    await upstream?.close();
  });

  it("records each request in the agent's usage of the day, priced as the model asked for", async () => {
    const a = await makeAgent("recorder");
    // The usage page's live feed: a viewer's subscription hears of the recorded request.
    const changes = (await viewer.usage.onChange({ projectId }))[Symbol.asyncIterator]();
    const firstChange = changes.next();
    const r1 = await ask(a.token, "hello there");
    expect((await firstChange).value).toMatchObject({ projectId, agentId: a.id, kind: "usage" });
    await changes.return?.();
    expect(r1.status).toBe(200);
    const r2 = await ask(a.token, "and again", "claude-sonnet-4-5", false);
    expect(r2.status).toBe(200);
    const r3 = await ask(a.token, "unknown model", "some-local-model");
    expect(r3.status).toBe(200);

    const prisma = armory.services.db.prisma;
    // Recorded when the reply closes: wait for the third row update.
    await expect.poll(async () => (await prisma.usageDay.aggregate({ where: { agentId: a.id }, _sum: { requests: true } }))._sum.requests).toBe(3);
    const rows = await prisma.usageDay.findMany({ where: { agentId: a.id }, orderBy: { model: "asc" } });
    expect(rows.map((r) => r.model)).toEqual(["claude-sonnet-4-5", "some-local-model"]);
    const today = new Date().toISOString().slice(0, 10);
    expect(rows.every((r) => r.day.toISOString().slice(0, 10) === today)).toBe(true);
    const [sonnet, unknown] = rows as [(typeof rows)[0], (typeof rows)[0]];
    expect(sonnet).toMatchObject({ projectId, agentName: "recorder", requests: 2 });
    expect(Number(sonnet.inputTokens)).toBeGreaterThan(0);
    expect(Number(sonnet.outputTokens)).toBeGreaterThan(0);
    expect(sonnet.costUsd).toBeGreaterThan(0);
    expect(sonnet.costUsd).toBeCloseTo(costOf("claude-sonnet-4-5", { inputTokens: Number(sonnet.inputTokens), outputTokens: Number(sonnet.outputTokens), cacheReadTokens: 0, cacheCreationTokens: 0 }), 12);
    expect(unknown.costUsd).toBe(0);

    const summary = await viewer.usage.summary({ projectId });
    expect(summary.to).toBe(today);
    expect(summary.days.at(-1)).toMatchObject({ day: today, requests: 3 });
    const row = summary.agents.find((x) => x.agentId === a.id)!;
    expect(row).toMatchObject({ agentName: "recorder", deleted: false, priceUnknown: true, requests: 3 });
    expect(row.costUsd).toBeCloseTo(sonnet.costUsd, 12);
    expect(row.tokens).toBe(rows.reduce((s, r) => s + Number(r.inputTokens + r.outputTokens + r.cacheReadTokens + r.cacheCreationTokens), 0));
    expect(summary.models.find((m) => m.model === "some-local-model")).toMatchObject({ priceKnown: false, costUsd: 0 });
    expect(summary.month.costUsd).toBeCloseTo(summary.totals.costUsd, 12);

    // Deleting the agent keeps its usage in the project's (by id and name).
    await prisma.agent.delete({ where: { id: a.id } });
    const after = await caller.usage.summary({ projectId });
    expect(after.agents.find((x) => x.agentId === a.id)).toMatchObject({ agentName: "recorder", deleted: true, requests: 3 });
    expect(after.totals.costUsd).toBeCloseTo(summary.totals.costUsd, 12);
  });

  it("refuses a request over the agent's token budget with 402 billing_error, and announces it once", async () => {
    const a = await makeAgent("thrifty");
    const set = await caller.budget.set({ projectId, agentId: a.id, monthlyCostUsd: null, monthlyTokens: 5 });
    expect(set).toMatchObject({ agentId: a.id, monthlyTokens: 5, monthlyCostUsd: null, used: { tokens: 0 } });
    const before = upstream.requests.length;
    expect((await ask(a.token)).status).toBe(200);
    await expect.poll(async () => (await caller.budget.get({ projectId, agentId: a.id })).used.tokens).toBeGreaterThan(5);

    const eventsBefore = events.length;
    const refused = await ask(a.token);
    expect(refused.status).toBe(402);
    expect(refused.headers.get("x-should-retry")).toBe("false");
    expect(refused.error!.error.type).toBe("billing_error");
    expect(refused.error!.error.message).toMatch(/^Armory budget reached: agent thrifty used \d[\d,]* of its 5 monthly tokens\.$/);
    expect(upstream.requests.length).toBe(before + 1); // the refused one never reached the model
    expect((await ask(a.token)).status).toBe(402);
    expect((await ask(a.token)).status).toBe(402);
    const reached = events.slice(eventsBefore).filter((e) => e.type === "budget.reached");
    expect(reached).toHaveLength(1);
    expect(reached[0]).toMatchObject({ type: "budget.reached", projectId, agentId: a.id, agentName: "thrifty", scope: "agent", limit: "tokens", max: 5, path: `/projects/${projectId}/usage`, sessionId: null });
    // What a failed chat turn asks the gateway.
    expect(armory.services.gateway.budgetRefusal(a.id, new Date(Date.now() - 60_000))).toMatchObject({ scope: "agent", limit: "tokens" });
    expect(armory.services.gateway.budgetRefusal(a.id, new Date(Date.now() + 1000))).toBeNull();

    // Raising the budget lets requests through again; reaching it again is announced again.
    await caller.budget.set({ projectId, agentId: a.id, monthlyCostUsd: null, monthlyTokens: 1_000_000 });
    expect((await ask(a.token)).status).toBe(200);
    // Removing both limits removes the budget.
    const none = await caller.budget.set({ projectId, agentId: a.id, monthlyCostUsd: null, monthlyTokens: null });
    expect(none).toMatchObject({ monthlyCostUsd: null, monthlyTokens: null });
    expect(await armory.services.db.prisma.budget.findUnique({ where: { id: a.id } })).toBeNull();
  });

  it("refuses every agent of a project whose cost budget is reached, naming the project budget", async () => {
    const a = await makeAgent("spender");
    const b = await makeAgent("bystander");
    // The project has spent money this month already (the recorder's turns): a budget just under it.
    const spent = (await caller.budget.get({ projectId })).used.costUsd;
    expect(spent).toBeGreaterThan(0);
    const eventsBefore = events.length;
    const set = await caller.budget.set({ projectId, monthlyCostUsd: spent / 2, monthlyTokens: null });
    expect(set).toMatchObject({ agentId: null, monthlyCostUsd: spent / 2 });
    for (const agent of [a, b, a]) {
      const r = await ask(agent.token);
      expect(r.status).toBe(402);
      expect(r.error!.error.message).toMatch(/^Armory budget reached: agent (spender|bystander)'s project used \$\d+\.\d{2,4} of its \$\d+\.\d{2,4} monthly budget\.$/);
    }
    const reached = events.slice(eventsBefore).filter((e) => e.type === "budget.reached");
    expect(reached).toHaveLength(1);
    expect(reached[0]).toMatchObject({ scope: "project", limit: "cost", agentId: a.id });
    expect((await viewer.usage.summary({ projectId })).month.budget).toEqual({ monthlyCostUsd: spent / 2, monthlyTokens: null });
    await caller.budget.set({ projectId, monthlyCostUsd: null, monthlyTokens: null });
    expect((await ask(b.token)).status).toBe(200);
  });

  it("lets members read usage and budgets, only admins set budgets, and rejects bad input with 400", async () => {
    await expect(viewer.budget.get({ projectId })).resolves.toMatchObject({ projectId, agentId: null });
    await expectTrpcError(viewer.budget.set({ projectId, monthlyCostUsd: 1, monthlyTokens: null }), "FORBIDDEN");
    const a = await makeAgent("guarded");
    await expectTrpcError(viewer.budget.set({ projectId, agentId: a.id, monthlyCostUsd: 1, monthlyTokens: null }), "FORBIDDEN");
    expect(await armory.services.db.prisma.auditEvent.findFirst({ where: { action: "budget.set", allowed: false } })).not.toBeNull();
    expect(await armory.services.db.prisma.auditEvent.findFirst({ where: { action: "budget.set", allowed: true, projectId } })).not.toBeNull();

    await expectTrpcError(caller.budget.set({ projectId, monthlyCostUsd: -1, monthlyTokens: null }), "BAD_REQUEST", /monthlyCostUsd must be 0 or more/);
    await expectTrpcError(caller.budget.set({ projectId, monthlyCostUsd: null, monthlyTokens: 1.5 }), "BAD_REQUEST", /whole number/);
    await expectTrpcError(caller.budget.get({ projectId, agentId: crypto.randomUUID() }), "NOT_FOUND");
    await expectTrpcError(caller.usage.summary({ projectId, from: "2026-12-05", to: "2026-12-01" }), "BAD_REQUEST", /on or before/);
    await expectTrpcError(caller.usage.summary({ projectId, from: "2026-02-30" }), "BAD_REQUEST", /calendar date/);
    await expectTrpcError(caller.usage.summary({ projectId, from: "2020-01-01", to: "2026-01-01" }), "BAD_REQUEST", /at most 400 days/);
    // Another project's agent is not this project's.
    const other = (await caller.project.create({ name: "Elsewhere" })).id;
    await expectTrpcError(caller.budget.set({ projectId: other, agentId: a.id, monthlyCostUsd: 1, monthlyTokens: null }), "NOT_FOUND");
  });

  it("sums a range of days and fills days without usage", async () => {
    const s = await caller.usage.summary({ projectId, from: "2026-11-20", to: "2026-11-22" });
    expect(s.days.map((d) => d.day)).toEqual(["2026-11-20", "2026-11-21", "2026-11-22"]);
    expect(s.totals.requests).toBe(0);
  });
});
