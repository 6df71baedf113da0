// The model gateway over real HTTP: per-agent token checks, forwarding to an upstream with
// Armory's key, SSE passed through as it arrives (not buffered), usage counted per agent, a down
// upstream answered with a clear error, and the demo model when no key is configured.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GATEWAY_PATH } from "@/server/gateway/gateway";
import { startDemoModelServer, type DemoModelServer } from "@/server/gateway/demo-model";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { DB_KINDS } from "../support/databases";

async function serve(armory: TestArmory) {
  const server = http.createServer((req, res) => {
    if (armory.services.gateway.handles(req.url)) void armory.services.gateway.handle(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}${GATEWAY_PATH}`;
  return { url, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** An agent row (no container: the gateway only needs the row), in a new project unless one is given. */
async function makeAgent(armory: TestArmory, at?: { projectId: string; templateId: string }): Promise<string> {
  const prisma = armory.services.db.prisma;
  if (!at) {
    const user = await signUp(armory.services);
    const project = await prisma.project.create({ data: { name: "gw", createdById: user.id } });
    const template = await prisma.template.findFirstOrThrow({ where: { projectId: null } });
    at = { projectId: project.id, templateId: template.id };
  }
  const agent = await prisma.agent.create({
    data: { ...at, name: `gw-${Date.now()}`, image: "x", model: "m", memoryMb: 256, cpus: 1, pidsLimit: 64, permissionMode: "acceptEdits", workspaceVolume: "w", sessionVolume: "s" },
  });
  return agent.id;
}

const body = (text: string, stream = true) => JSON.stringify({ model: "claude-test", stream, max_tokens: 100, messages: [{ role: "user", content: text }] });

describe.each(DB_KINDS)("model gateway on %s", (kind) => {
  let upstream: DemoModelServer;
  let armory: TestArmory;
  let gw: Awaited<ReturnType<typeof serve>>;
  let agentId: string;
  let token: string;

  beforeAll(async () => {
    upstream = await startDemoModelServer();
    armory = await startTestArmory(kind, { ANTHROPIC_BASE_URL: upstream.url, ANTHROPIC_API_KEY: "sk-real-upstream-key", ARMORY_GATEWAY_URL: "http://gateway.invalid/api/gateway/anthropic" });
    gw = await serve(armory);
    agentId = await makeAgent(armory);
    token = (await armory.services.gateway.agentEnv(agentId)).ANTHROPIC_API_KEY!;
  });
  afterAll(async () => {
    await gw?.close();
    await armory?.close();
    await upstream?.close();
  });

  it("refuses missing, malformed and forged tokens with 401", async () => {
    for (const key of [undefined, "nope", token.slice(0, -2) + "AA", `armgw_${crypto.randomUUID()}_${"a".repeat(43)}`]) {
      const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}) }, body: body("hi") });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    }
    // Only a hash is stored.
    const row = await armory.services.db.prisma.agentGateway.findUniqueOrThrow({ where: { agentId } });
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.tokenHash).not.toContain(token);
  });

  it("forwards with Armory's key and streams SSE through as it arrives; counts usage", async () => {
    const before = await armory.services.gateway.usage(agentId);
    const started = performance.now();
    const res = await fetch(`${gw.url}/v1/messages?beta=true`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": token, "anthropic-version": "2023-06-01" }, body: body("a slow reply please [[delay=60]]") });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const arrivals: number[] = [];
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push(performance.now() - started);
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain("event: message_stop");
    // Not buffered: chunks arrive spread over the reply (each delta is 60 ms apart upstream).
    expect(arrivals.length).toBeGreaterThan(5);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(300);
    expect(upstream.headers.at(-1)!["x-api-key"]).toBe("sk-real-upstream-key");
    // Usage is written when the response has closed (off the reply's path): on PostgreSQL the
    // read can come first, so wait for it.
    await expect.poll(async () => (await armory.services.gateway.usage(agentId)).requests).toBe(before.requests + 1);
    const after = await armory.services.gateway.usage(agentId);
    expect(after.outputTokens).toBeGreaterThan(before.outputTokens);
    expect(after.inputTokens).toBeGreaterThan(before.inputTokens);
    expect(armory.logs.text).not.toContain(token);
    expect(armory.logs.text).not.toContain("sk-real-upstream-key");
  });

  it("passes upstream errors through", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": token }, body: body("[[fail=529]]") });
    expect(res.status).toBe(529);
  });
});

// Configurations of the gateway (an upstream that is down, a template's provider, no key at all):
// each test starts an Armory of its own; what they exercise is routing, not storage, so they run
// on the embedded database only (the storage paths run on both above).
describe("model gateway configurations", () => {
  const kind = "pglite";

  it("answers 502 when the upstream is down", async () => {
    const down = await startTestArmory(kind, { ANTHROPIC_BASE_URL: "http://127.0.0.1:9", ANTHROPIC_API_KEY: "k", ARMORY_GATEWAY_URL: "http://gateway.invalid/x" });
    const downGw = await serve(down);
    try {
      const id = await makeAgent(down);
      const t = (await down.services.gateway.agentEnv(id)).ANTHROPIC_API_KEY!;
      const r = await fetch(`${downGw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": t }, body: body("hi") });
      expect(r.status).toBe(502);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/could not reach the model upstream/);
    } finally {
      await downGw.close();
      await down.close();
    }
  });

  it("sends an agent whose template names a provider there, with the key from the project's secret", async () => {
    const provider = await startDemoModelServer();
    // No Armory key: without the template's provider this agent would get the demo model.
    const armory2 = await startTestArmory(kind, { ARMORY_GATEWAY_URL: "http://gateway.invalid/x" });
    const gw2 = await serve(armory2);
    try {
      const caller = await callerFor(armory2.services, await signUp(armory2.services));
      const projectId = (await caller.project.create({ name: "Provider" })).id;
      const builtin = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!;
      // Registered by the instance admin (on 127.0.0.1 exactly, so the loopback address is allowed).
      await armory2.services.db.prisma.provider.create({ data: { name: "scripted", baseUrl: provider.url, keySecret: "LLM_KEY" } });
      const template = await caller.template.create({ projectId, copyFrom: builtin.id, name: "via-provider", provider: "scripted" });
      const id = await makeAgent(armory2, { projectId, templateId: template.id });
      const env = await armory2.services.gateway.agentEnv(id);
      expect(env.ARMORY_DEMO_MODEL).toBe("0");
      expect((await caller.chat.sessions({ projectId, agentId: id })).demoModel).toBe(false);
      const call = () => fetch(`${gw2.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": env.ANTHROPIC_API_KEY! }, body: body("hello provider", false) });

      // The secret is not set yet: refused (not retried by the CLI), naming the secret to set.
      const refused = await call();
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/secret LLM_KEY .*not set/);
      expect(provider.requests).toHaveLength(0);

      await caller.secret.set({ projectId, name: "LLM_KEY", value: "sk-provider-key" });
      const ok = await call();
      expect(ok.status).toBe(200);
      expect(provider.headers.at(-1)!["x-api-key"]).toBe("sk-provider-key");
      await expect.poll(async () => (await armory2.services.gateway.usage(id)).requests).toBe(1); // the refused one never reached a model

      // The agent's own secret of that name wins over the project's.
      await caller.secret.agent.set({ projectId, agentId: id, name: "LLM_KEY", value: "sk-agent-own-key" });
      expect((await call()).status).toBe(200);
      expect(provider.headers.at(-1)!["x-api-key"]).toBe("sk-agent-own-key");
      expect(armory2.logs.text).not.toContain("sk-provider-key");
      expect(armory2.logs.text).not.toContain("sk-agent-own-key");
    } finally {
      await gw2.close();
      await armory2.close();
      await provider.close();
    }
  });

  it("serves the demo model when no upstream key is configured", async () => {
    const demo = await startTestArmory(kind, { ARMORY_GATEWAY_URL: "http://gateway.invalid/x" });
    const demoGw = await serve(demo);
    try {
      expect(demo.services.gateway.demo).toBe(true);
      const id = await makeAgent(demo);
      const env = await demo.services.gateway.agentEnv(id);
      expect(env.ARMORY_DEMO_MODEL).toBe("1");
      const r = await fetch(`${demoGw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${env.ANTHROPIC_API_KEY}` }, body: body("hello demo", false) });
      expect(r.status).toBe(200);
      const msg = (await r.json()) as { content: { text: string }[]; usage: { output_tokens: number } };
      expect(msg.content[0]!.text).toContain("demo model");
      await expect.poll(async () => (await demo.services.gateway.usage(id)).outputTokens).toBe(msg.usage.output_tokens);
    } finally {
      await demoGw.close();
      await demo.close();
    }
  });
});
