import { describe, expect, it } from "vitest";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { buildTranscript } from "./transcript";

let seq = 0;
const ev = (type: string, data: unknown): ChatStreamEvent => ({ seq: ++seq, runId: "r1", type, data, at: new Date(1_700_000_000_000 + seq * 1000) });
const toolUse = (id: string) => ev("assistant", { message: { id: `m-${id}`, content: [{ type: "tool_use", id, name: "Bash", input: { command: "touch /workspace/x" } }] } });
const requested = (approvalId: string, toolUseId: string | null) =>
  ev("approval_requested", { approvalId, toolName: "Bash", toolUseId, input: { command: "touch /workspace/x" }, summary: "touch /workspace/x", diff: null, suggestedRule: "Bash(touch:*)", expiresAt: "2030-01-01T00:00:00.000Z" });

describe("approvals in the transcript", () => {
  it("puts the card right under its tool call, waiting, then shows how it was decided", () => {
    const events = [ev("user_message", { text: "run it" }), toolUse("t1"), ev("stream_event", { event: { type: "message_start", message: { id: "m2" } } }), requested("a1", "t1")];
    let [turn] = buildTranscript(events);
    expect(turn!.items.map((i) => i.kind)).toEqual(["tool", "approval"]);
    const tool = turn!.items[0]!;
    expect(tool.kind === "tool" && tool.approvalStatus).toBe("pending");
    const card = turn!.items[1]!;
    expect(card.kind === "approval" && card.approval).toMatchObject({ approvalId: "a1", status: "pending", suggestedRule: "Bash(touch:*)", expiresAt: new Date("2030-01-01T00:00:00.000Z") });

    events.push(ev("approval_decided", { approvalId: "a1", status: "denied", decidedBy: { kind: "user", id: "u1", name: "Ada" }, remember: null, rule: null, message: "no" }));
    [turn] = buildTranscript(events);
    const decided = turn!.items[1]!;
    expect(decided.kind === "approval" && decided.approval).toMatchObject({ status: "denied", message: "no", decidedBy: { name: "Ada" } });
    expect(decided.kind === "approval" && decided.approval.decidedAt).toBeInstanceOf(Date);
    const t = turn!.items[0]!;
    expect(t.kind === "tool" && t.approvalStatus).toBe("denied");
  });

  it("an approval asked before its tool call was shown: the call goes above the card; unknown and repeated events change nothing", () => {
    const events = [ev("user_message", { text: "run it" }), requested("a2", "t2"), toolUse("t2"), requested("a2", "t2"), ev("approval_decided", { approvalId: "nope", status: "allowed" })];
    const [turn] = buildTranscript(events);
    expect(turn!.items.map((i) => i.kind)).toEqual(["tool", "approval"]);
    const tool = turn!.items[0]!;
    expect(tool.kind === "tool" && tool.approvalStatus).toBe("pending");
  });
});
