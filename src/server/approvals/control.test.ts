// The permission prompt protocol, parsed from a real exchange with Claude Code 2.1.330 in the
// agent image (recorded by tests/docker/approvals.test.ts with ARMORY_RECORD_APPROVAL_FIXTURE=1):
// the CLI's can_use_tool requests, and the tool results after a deny, an allow and a timeout.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { controlErrorLine, controlResponseLine, parseControlLine, suggestedRules } from "./control";

const FIXTURE = path.resolve(import.meta.dirname, "../../../tests/fixtures/claude-code-stream-json/30-permission-prompt.ndjson");
const lines = fs
  .readFileSync(FIXTURE, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("Claude Code's permission prompt over stream-json", () => {
  const controls = lines.map(parseControlLine).filter((c) => c !== null);

  it("finds every can_use_tool request of the recorded session, with the tool, its input and the tool_use id", () => {
    const requests = controls.filter((c) => c.kind === "can_use_tool").map((c) => c.request);
    expect(requests.length).toBeGreaterThanOrEqual(6);
    expect(requests[0]).toMatchObject({
      toolName: "Bash",
      input: { command: "touch /workspace/denied.txt" },
      toolUseId: expect.stringMatching(/^toolu_/),
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    // Every request's tool_use id is one the model asked for (an assistant tool_use block).
    const toolUses = new Set(
      lines
        .filter((l) => l.type === "assistant")
        .flatMap((l) => ((l.message as { content: { type: string; id?: string }[] }).content ?? []).filter((b) => b.type === "tool_use").map((b) => b.id)),
    );
    for (const r of requests) expect(toolUses.has(r.toolUseId!)).toBe(true);
    // Nothing else in the stream is taken for a control line.
    expect(controls).toHaveLength(requests.length);
  });

  /** The tool result the CLI reported for a tool_use id. */
  function resultFor(toolUseId: string) {
    for (const l of lines) {
      if (l.type !== "user") continue;
      const content = (l.message as { content: unknown }).content;
      if (!Array.isArray(content)) continue;
      const block = content.find((b: { type?: string; tool_use_id?: string }) => b.type === "tool_result" && b.tool_use_id === toolUseId);
      if (block) return block as { content: string; is_error?: boolean };
    }
    return null;
  }

  it("after a deny the tool result is the denial's message, as an error; after an allow the command ran", () => {
    const requests = controls.filter((c) => c.kind === "can_use_tool").map((c) => c.request);
    const denied = resultFor(requests.find((r) => r.input.command === "touch /workspace/denied.txt")!.toolUseId!);
    expect(denied).toMatchObject({ content: "Not in this workspace, please.", is_error: true });
    const allowed = resultFor(requests.find((r) => r.input.command === "touch /workspace/allowed.txt")!.toolUseId!);
    expect(allowed).toMatchObject({ content: "(Bash completed with no output)", is_error: false });
    const late = resultFor(requests.find((r) => r.input.command === "touch /workspace/late.txt")!.toolUseId!);
    expect(late!.is_error).toBe(true);
    expect(late!.content).toMatch(/^No one approved Bash/);
  });

  it("reads the CLI's rule suggestions as rule strings", () => {
    expect(
      suggestedRules([
        { type: "addRules", rules: [{ toolName: "Bash", ruleContent: "ls:*" }], behavior: "allow", destination: "localSettings" },
        { type: "addRules", rules: [{ toolName: "Read" }], behavior: "allow" },
        { type: "addRules", rules: [{ toolName: "Bash", ruleContent: "rm:*" }], behavior: "deny" },
        { type: "setMode", mode: "acceptEdits" },
      ]),
    ).toEqual(["Bash(ls:*)", "Read"]);
    const parsed = parseControlLine({
      type: "control_request",
      request_id: "r1",
      request: { subtype: "can_use_tool", tool_name: "Bash", input: { command: "ls /" }, permission_suggestions: [{ type: "addRules", rules: [{ toolName: "Bash", ruleContent: "ls:*" }], behavior: "allow" }], blocked_path: "/" },
    });
    expect(parsed).toMatchObject({ kind: "can_use_tool", request: { suggestedRules: ["Bash(ls:*)"], blockedPath: "/", toolUseId: null } });
  });

  it("tells other control lines apart and ignores everything else", () => {
    expect(parseControlLine({ type: "control_cancel_request", request_id: "r9" })).toEqual({ kind: "cancel", requestId: "r9" });
    expect(parseControlLine({ type: "control_request", request_id: "r2", request: { subtype: "hook_callback" } })).toEqual({ kind: "other_request", requestId: "r2", subtype: "hook_callback" });
    expect(parseControlLine({ type: "assistant", message: { content: [] } })).toBeNull();
    expect(parseControlLine({ type: "control_request", request: {} })).toBeNull();
    expect(parseControlLine("control_request")).toBeNull();
  });

  it("writes answers the CLI accepts: allow with the input (and rules to remember), deny with a message", () => {
    expect(JSON.parse(controlResponseLine("r1", { behavior: "allow", updatedInput: { command: "ls /" } }))).toEqual({
      type: "control_response",
      response: { subtype: "success", request_id: "r1", response: { behavior: "allow", updatedInput: { command: "ls /" } } },
    });
    expect(JSON.parse(controlResponseLine("r1", { behavior: "allow", updatedInput: {}, rememberRules: ["Bash(ls:*)", "Read"] })).response.response.updatedPermissions).toEqual([
      { type: "addRules", rules: [{ toolName: "Bash", ruleContent: "ls:*" }, { toolName: "Read" }], behavior: "allow", destination: "session" },
    ]);
    const deny = controlResponseLine("r2", { behavior: "deny", message: "No." });
    expect(deny.endsWith("\n")).toBe(true);
    expect(deny.trim()).not.toContain("\n");
    expect(JSON.parse(deny).response.response).toEqual({ behavior: "deny", message: "No." });
    expect(JSON.parse(controlErrorLine("r3", "unsupported")).response).toEqual({ subtype: "error", request_id: "r3", error: "unsupported" });
  });
});
