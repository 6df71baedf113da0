// Issue 21, item 3: what the CLI is given. One real turn (the real Claude Code CLI in the agent's
// container, through Armory's gateway, to the demo model as the upstream); the assertions read
// the Messages API request the model server recorded (system prompt, tools, model) and the
// proc.spawn request armoryd received (argv: permission mode, allowed tools, policy).
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_SOUL } from "@/server/chat/prompt";
import type { DemoModelServer } from "@/server/gateway/demo-model";
import type { callerFor, TestArmory } from "../support/armory";
import { startChatArmory, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";
import { chatStreams } from "../support/chat-stream";

type Caller = Awaited<ReturnType<typeof callerFor>>;

const PERSONALITY = "You answer like a lighthouse keeper: short, calm, precise. (personality-marker-7c1)";
const MEMORY = "- The user's cat is called Biscuit. (memory-marker-4e9)\n";
const MODEL = "claude-prompt-test-model-1";
const ALLOWED = ["Read", "Grep", "Glob"];
const DENIED = "WebFetch";

/** The text of a Messages API `system` field (a string or text blocks). */
function systemText(system: unknown): string {
  if (typeof system === "string") return system;
  if (Array.isArray(system)) return system.map((b) => (b && typeof b === "object" && "text" in b ? String((b as { text: unknown }).text) : "")).join("\n");
  return "";
}

describe("what the CLI is given for a turn", () => {
  let fixture: ChatArmory | undefined;
  let armory: TestArmory;
  let model: DemoModelServer;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  const { stream, untilEnd } = chatStreams(() => ({ caller, projectId, agentId }));

  beforeAll(async () => {
    fixture = await startChatArmory({ db: suiteDb("pglite"), name: "Prompt" });
    ({ armory, model, caller, projectId } = fixture);
    const template = await caller.template.create({
      projectId,
      copyFrom: fixture.coderTemplateId,
      name: "prompt-check",
      personality: PERSONALITY,
      allowedTools: ALLOWED,
      toolPolicy: { allow: [], ask: [], deny: [DENIED] },
      permissionMode: "acceptEdits",
    });
    const agent = await caller.agent.create({ projectId, templateId: template.id, name: "keeper", overrides: { model: MODEL, permissionMode: "default" }, start: true });
    agentId = agent.id;
    // The agent's memory notes, written through the files API.
    await caller.files.write({ projectId, agentId, path: "/home/agent/.claude/memory.md", content: MEMORY, createDirs: true });
  }, 600_000);

  afterAll(async () => {
    await fixture?.close();
  });

  it("carries the composed system prompt (soul, personality, memory notes, in that order), the tools, the permission mode and the agent's model", async () => {
    const spawns: { argv: string[]; systemPrompt: string; memoryFile: string | null }[] = [];
    const request = armory.services.hub.request.bind(armory.services.hub);
    // Passes every request through to the real hub, keeping proc.spawn's params.
    const spy = vi.spyOn(armory.services.hub, "request").mockImplementation(((id: string, method: string, params: unknown, opts?: { timeoutMs?: number }) => {
      if (method === "proc.spawn") spawns.push(params as (typeof spawns)[number]);
      return request(id, method as never, params as never, opts);
    }) as typeof armory.services.hub.request);
    const before = model.requests.length;
    try {
      const sent = await caller.chat.send({ projectId, agentId, message: "Hello, keeper" });
      const events = await untilEnd(await stream(sent.sessionId), sent.runId);
      expect(events.at(-1)!.type).toBe("run_completed");
    } finally {
      spy.mockRestore();
    }

    // The turn's request: the one whose system prompt carries Armory's section.
    const turn = model.requests.slice(before).filter((r) => systemText(r.system).includes("# Armory"));
    expect(turn.length).toBeGreaterThanOrEqual(1);
    const req = turn.at(-1)!;
    const system = systemText(req.system);

    // Soul, then the agent's name, then the personality, then the memory notes: in this order.
    const soulAt = system.indexOf(`# Armory\n${DEFAULT_SOUL}`);
    const nameAt = system.indexOf("Your name is keeper.");
    const personalityAt = system.indexOf(`# Personality\n${PERSONALITY}`);
    const memoryAt = system.indexOf(`## Your memory notes (/home/agent/.claude/memory.md)\n${MEMORY.trim()}`);
    expect(soulAt).toBeGreaterThanOrEqual(0);
    expect(nameAt).toBeGreaterThan(soulAt);
    expect(personalityAt).toBeGreaterThan(nameAt);
    expect(memoryAt).toBeGreaterThan(personalityAt);

    // The model the agent is configured with (its override of the template's).
    expect(req.model).toBe(MODEL);

    // Tools: allowedTools only pre-approves (it does not narrow the list the model sees); a bare
    // tool name in the policy's deny list removes the tool from the request.
    const tools = (req.tools ?? []).map((t) => (t as { name: string }).name);
    expect(tools).toEqual(expect.arrayContaining(ALLOWED));
    expect(tools).toContain("Bash"); // not in allowedTools, still offered (it would need an approval)
    expect(tools).not.toContain(DENIED);

    // The permission mode is not in the Messages request: it is in the argv armoryd spawned,
    // with the allowed tools, the policy (as --settings) and the model.
    // The turn's own process: the agent's pre-warmed one (started before the memory notes were
    // written) was discarded, and its replacement (with --session-id) may have started meanwhile.
    const own = spawns.filter((s) => !s.argv.includes("--session-id"));
    expect(own).toHaveLength(1);
    const argv = own[0]!.argv;
    const flag = (name: string) => argv[argv.indexOf(name) + 1];
    expect(argv).toContain("--permission-mode");
    expect(flag("--permission-mode")).toBe("default");
    expect(flag("--allowedTools")).toBe(ALLOWED.join(","));
    expect(JSON.parse(flag("--settings")!)).toEqual({ permissions: { allow: [], ask: [], deny: [DENIED] } });
    expect(flag("--model")).toBe(MODEL);
    expect(own[0]!.memoryFile).toBe("/home/agent/.claude/memory.md");
  });
});
