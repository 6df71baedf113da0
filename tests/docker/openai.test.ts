// The OpenAI-compatible endpoint end to end: the official `openai` npm client against a running
// Armory (the same handler the Next route uses, over real HTTP), the real Claude Code CLI in the
// real agent container, answered by the scripted demo model through Armory's model gateway.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHttp, type TestArmory, type TestUser } from "../support/armory";
import { startChatArmory, type Caller, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { makeToken } from "../support/trust";

describe("OpenAI-compatible endpoint with the real CLI in a container", () => {
  let fixture: ChatArmory | undefined;
  let owner: TestUser;
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  let openai: OpenAI;

  beforeAll(async () => {
    fixture = await startChatArmory({ db: suiteDb("pglite"), name: "OpenAI e2e", env: { ARMORY_CHAT_IDLE_SECONDS: "120" } });
    ({ armory, owner, caller, projectId } = fixture);
    http = await startHttp(() => armory.services);
    const template = (await caller.template.list({ projectId })).find((t) => t.id === fixture!.coderTemplateId)!;
    // The CLI only offers its tools to real Claude model ids.
    expect(template.model).toMatch(/^claude-/);
    const agent = await caller.agent.create({ projectId, templateId: template.id, name: "helper", overrides: { memoryMb: 1024 }, start: true });
    agentId = agent.id;
    const { token } = await makeToken(armory.services, owner.id, { name: "openai client" });
    openai = new OpenAI({ apiKey: token, baseURL: `${http.url}/api/openai/${projectId}/v1`, maxRetries: 0, timeout: 120_000 });
  }, 600_000);

  afterAll(async () => {
    await http?.close();
    await fixture?.close();
  });

  let answer: string;

  it("models.list shows the agent", async () => {
    const models = await openai.models.list();
    expect(models.data).toEqual([expect.objectContaining({ id: "helper", object: "model", owned_by: "armory" })]);
  });

  it("a non-streamed completion returns the model's answer and the turn's usage", async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: "helper", messages: [{ role: "user", content: "What is two plus two?" }], temperature: 0.2 })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe("helper");
    expect(data.choices).toHaveLength(1);
    expect(data.choices[0]!.finish_reason).toBe("stop");
    expect(data.choices[0]!.message.role).toBe("assistant");
    answer = data.choices[0]!.message.content!;
    expect(answer).toContain('You said: "What is two plus two?"');
    expect(data.usage!.completion_tokens).toBeGreaterThan(0);
    expect(data.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    // The session it ran in, and the run's recorded answer and usage.
    const sessionId = response.headers.get("x-armory-session")!;
    const run = await armory.services.db.prisma.chatRun.findFirstOrThrow({ where: { sessionId } });
    expect(data.id).toBe(`chatcmpl-${run.id}`);
    expect(run).toMatchObject({ status: "completed", outputTokens: data.usage!.completion_tokens, inputTokens: data.usage!.prompt_tokens });
    expect((await armory.services.turns.outcomeOf(sessionId, run.id)).result).toBe(answer);
    const audit = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "openai.chat.completions", agentId } });
    expect(audit).toMatchObject({ allowed: true, outcome: "ok", permission: "chat" });
  }, 180_000);

  it("a streamed completion yields chunks whose text is the same answer, then finish_reason stop and the usage", async () => {
    const stream = await openai.chat.completions.create({
      model: "helper",
      messages: [{ role: "user", content: "What is two plus two?" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const withChoices = chunks.filter((c) => c.choices.length > 0);
    expect(withChoices[0]!.choices[0]!.delta.role).toBe("assistant");
    const text = withChoices.map((c) => c.choices[0]!.delta.content ?? "").join("");
    expect(text).toBe(answer);
    // More than one text chunk: it streamed.
    expect(withChoices.filter((c) => c.choices[0]!.delta.content).length).toBeGreaterThan(1);
    expect(withChoices.at(-1)!.choices[0]!.finish_reason).toBe("stop");
    expect(withChoices.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "helper")).toBe(true);
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage!.completion_tokens).toBeGreaterThan(0);
  }, 180_000);

  it("the same `user` lands in the same chat session, which the agent's conversations show", async () => {
    const first = await openai.chat.completions
      .create({ model: "helper", user: "customer-42", messages: [{ role: "user", content: "My order is 1234" }] })
      .withResponse();
    const second = await openai.chat.completions
      .create({
        model: "helper",
        user: "customer-42",
        messages: [
          { role: "user", content: "My order is 1234" },
          { role: "assistant", content: first.data.choices[0]!.message.content! },
          { role: "user", content: "Where is it?" },
        ],
      })
      .withResponse();
    const sessionId = first.response.headers.get("x-armory-session")!;
    expect(second.response.headers.get("x-armory-session")).toBe(sessionId);
    // The CLI resumed the session: the model saw the earlier message.
    expect(second.data.choices[0]!.message.content).toContain('Earlier in this conversation you said: "My order is 1234"');
    const { sessions } = await caller.chat.sessions({ projectId, agentId });
    expect(sessions.find((s) => s.id === sessionId)).toMatchObject({ turns: 2, title: "My order is 1234" });
  }, 180_000);

  it("a client that goes away mid-stream ends its stream, not the turn", async () => {
    const controller = new AbortController();
    const { data: stream, response } = await openai.chat.completions
      .create({ model: "helper", messages: [{ role: "user", content: "Take your time [[delay=150]]" }], stream: true }, { signal: controller.signal })
      .withResponse();
    const sessionId = response.headers.get("x-armory-session");
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) {
        controller.abort();
        break;
      }
    }
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    // The endpoint's subscription to the session's events is gone while the turn still runs.
    await vi.waitFor(() => expect(armory.services.chat.bus.subscriberCount(sessionId!)).toBe(0));
    const run = await armory.services.db.prisma.chatRun.findFirstOrThrow({ where: { sessionId: sessionId! } });
    expect(run.status).toBe("running");
    const outcome = await armory.services.turns.outcome(sessionId!, run.id);
    expect(outcome.status).toBe("completed");
    expect(outcome.result).toContain("Take your time");
  }, 180_000);
});
