// Folds a session's persisted chat events (in seq order) into turns the chat UI renders: the
// user's message, streamed text, tool calls with their results, approvals (a tool call waiting
// for a person, then how it was decided), and how the turn ended. Pure and incremental-friendly:
// the same events always give the same transcript.
import type { ApprovalDecidedEventData, ApprovalRequestedEventData, ApprovalStatus } from "@/contracts/approvals";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { formatTokens as formatCompactTokens, formatUsd } from "@/lib/format";

/** An approval as the chat shows it: the request, then (once decided) the outcome. */
export interface ChatApproval {
  approvalId: string;
  toolName: string;
  toolUseId: string | null;
  input: unknown;
  summary: string;
  diff: string | null;
  suggestedRule: string | null;
  requestedAt: Date;
  expiresAt: Date;
  status: ApprovalStatus;
  decidedBy: ApprovalDecidedEventData["decidedBy"] | null;
  remember: ApprovalDecidedEventData["remember"];
  rule: string | null;
  message: string | null;
  decidedAt: Date | null;
}

export type TurnItem =
  | { kind: "text"; key: string; text: string }
  | {
      kind: "tool";
      key: string;
      id: string;
      name: string;
      input: unknown;
      inputPreview: string;
      result: string | null;
      isError: boolean;
      /** Claude Code's structured result of the call (for Write: the file's previous content as originalFile). */
      toolUseResult: unknown;
      /** Set when the call needed a person's approval: where that stands. */
      approvalStatus?: ApprovalStatus;
    }
  | { kind: "approval"; key: string; approval: ChatApproval }
  | { kind: "notice"; key: string; tone: "warn" | "muted"; text: string };

export type TurnStatus = "running" | "completed" | "failed" | "interrupted";

export interface Turn {
  runId: string;
  userText: string;
  items: TurnItem[];
  status: TurnStatus;
  message: string | null;
  durationMs: number | null;
  firstTokenMs: number | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  demoModel: boolean;
  startedAt: Date;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((c) => (isObj(c) && typeof c.text === "string" ? c.text : JSON.stringify(c))).join("\n");
  return content == null ? "" : JSON.stringify(content, null, 2);
}

export function toolPreview(name: string, input: unknown): string {
  if (!isObj(input)) return "";
  const pick = (k: string) => (typeof input[k] === "string" ? (input[k] as string) : null);
  const v = pick("command") ?? pick("file_path") ?? pick("path") ?? pick("pattern") ?? pick("url") ?? pick("description");
  if (v) return v.length > 120 ? `${v.slice(0, 117)}…` : v;
  void name;
  return "";
}

export function buildTranscript(events: ChatStreamEvent[]): Turn[] {
  const turns: Turn[] = [];
  const byRun = new Map<string, Turn>();
  // Per turn: which messages had their text streamed (so the full assistant event does not repeat it).
  const streamed = new Map<string, Set<string>>();
  const currentMsg = new Map<string, string>();
  const tools = new Map<string, Extract<TurnItem, { kind: "tool" }>>();
  const approvals = new Map<string, ChatApproval>();

  const turnOf = (e: ChatStreamEvent): Turn => {
    let t = byRun.get(e.runId);
    if (!t) {
      t = { runId: e.runId, userText: "", items: [], status: "running", message: null, durationMs: null, firstTokenMs: null, costUsd: null, inputTokens: null, outputTokens: null, demoModel: false, startedAt: e.at };
      byRun.set(e.runId, t);
      turns.push(t);
    }
    return t;
  };

  for (const e of events) {
    const t = turnOf(e);
    const d = isObj(e.data) ? e.data : {};
    switch (e.type) {
      case "user_message":
        t.userText = typeof d.text === "string" ? d.text : "";
        t.startedAt = e.at;
        break;
      case "run_started":
        t.demoModel = d.demoModel === true;
        break;
      case "stream_event": {
        const ev = isObj(d.event) ? d.event : {};
        if (ev.type === "message_start" && isObj(ev.message) && typeof ev.message.id === "string") currentMsg.set(t.runId, ev.message.id);
        if (ev.type === "content_block_delta" && isObj(ev.delta) && ev.delta.type === "text_delta" && typeof ev.delta.text === "string") {
          const msg = currentMsg.get(t.runId) ?? "m";
          const key = `${msg}:${String(ev.index ?? 0)}`;
          let set = streamed.get(t.runId);
          if (!set) streamed.set(t.runId, (set = new Set()));
          set.add(msg);
          const last = t.items[t.items.length - 1];
          if (last && last.kind === "text" && last.key === key) last.text += ev.delta.text;
          else t.items.push({ kind: "text", key, text: ev.delta.text });
        }
        break;
      }
      case "assistant": {
        const msg = isObj(d.message) ? d.message : {};
        const id = typeof msg.id === "string" ? msg.id : `seq${e.seq}`;
        const content = Array.isArray(msg.content) ? msg.content : [];
        content.forEach((b, i) => {
          if (!isObj(b)) return;
          if (b.type === "text" && typeof b.text === "string" && !streamed.get(t.runId)?.has(id)) {
            t.items.push({ kind: "text", key: `${id}:full:${i}:${e.seq}`, text: b.text });
          } else if (b.type === "tool_use" && typeof b.id === "string" && !tools.has(b.id)) {
            const name = typeof b.name === "string" ? b.name : "tool";
            const item: Extract<TurnItem, { kind: "tool" }> = { kind: "tool", key: b.id, id: b.id, name, input: b.input, inputPreview: toolPreview(name, b.input), result: null, isError: false, toolUseResult: null };
            tools.set(b.id, item);
            // An approval asked before its tool call was shown: the call goes above the card.
            const waiting = [...approvals.values()].find((a) => a.toolUseId === b.id);
            const at = waiting ? t.items.findIndex((x) => x.kind === "approval" && x.approval === waiting) : -1;
            if (waiting) item.approvalStatus = waiting.status;
            if (at >= 0) t.items.splice(at, 0, item);
            else t.items.push(item);
          }
        });
        break;
      }
      case "user": {
        const msg = isObj(d.message) ? d.message : {};
        const content = Array.isArray(msg.content) ? msg.content : [];
        const results = content.filter((b): b is Obj => isObj(b) && b.type === "tool_result" && typeof b.tool_use_id === "string");
        for (const b of results) {
          const tool = tools.get(b.tool_use_id as string);
          if (tool) {
            tool.result = resultText(b.content);
            tool.isError = b.is_error === true;
            // The structured result belongs to the message's one tool result.
            if (results.length === 1 && d.tool_use_result !== undefined) tool.toolUseResult = d.tool_use_result;
          }
        }
        break;
      }
      case "approval_requested": {
        const a = d as Partial<ApprovalRequestedEventData>;
        if (typeof a.approvalId !== "string" || approvals.has(a.approvalId)) break;
        const approval: ChatApproval = {
          approvalId: a.approvalId,
          toolName: typeof a.toolName === "string" ? a.toolName : "tool",
          toolUseId: typeof a.toolUseId === "string" ? a.toolUseId : null,
          input: a.input,
          summary: typeof a.summary === "string" ? a.summary : "",
          diff: typeof a.diff === "string" ? a.diff : null,
          suggestedRule: typeof a.suggestedRule === "string" ? a.suggestedRule : null,
          requestedAt: e.at,
          expiresAt: new Date(typeof a.expiresAt === "string" ? a.expiresAt : e.at),
          status: "pending",
          decidedBy: null,
          remember: null,
          rule: null,
          message: null,
          decidedAt: null,
        };
        approvals.set(approval.approvalId, approval);
        const item: TurnItem = { kind: "approval", key: `approval:${approval.approvalId}`, approval };
        // Right under the tool call it is about, when that call is in this turn.
        const tool = approval.toolUseId ? tools.get(approval.toolUseId) : undefined;
        const at = tool ? t.items.indexOf(tool) : -1;
        if (tool) tool.approvalStatus = "pending";
        if (at >= 0) t.items.splice(at + 1, 0, item);
        else t.items.push(item);
        break;
      }
      case "approval_decided": {
        const a = d as Partial<ApprovalDecidedEventData>;
        const approval = typeof a.approvalId === "string" ? approvals.get(a.approvalId) : undefined;
        if (!approval || typeof a.status !== "string") break;
        approval.status = a.status;
        approval.decidedBy = a.decidedBy ?? null;
        approval.remember = a.remember ?? null;
        approval.rule = typeof a.rule === "string" ? a.rule : null;
        approval.message = typeof a.message === "string" ? a.message : null;
        approval.decidedAt = e.at;
        const tool = approval.toolUseId ? tools.get(approval.toolUseId) : undefined;
        if (tool) tool.approvalStatus = a.status;
        break;
      }
      case "invalid_line":
        t.items.push({ kind: "notice", key: `n${e.seq}`, tone: "muted", text: `Unparsed output: ${String(d.line ?? "").slice(0, 300)}` });
        break;
      case "overflow":
        t.items.push({ kind: "notice", key: `n${e.seq}`, tone: "warn", text: String(d.message ?? "An over-long line was dropped.") });
        break;
      case "run_completed":
      case "run_failed":
      case "run_interrupted":
        t.status = e.type === "run_completed" ? "completed" : e.type === "run_failed" ? "failed" : "interrupted";
        t.message = typeof d.message === "string" ? d.message : null;
        t.durationMs = typeof d.durationMs === "number" ? d.durationMs : null;
        t.firstTokenMs = typeof d.firstTokenMs === "number" ? d.firstTokenMs : null;
        t.costUsd = typeof d.costUsd === "number" ? d.costUsd : null;
        t.inputTokens = typeof d.inputTokens === "number" ? d.inputTokens : null;
        t.outputTokens = typeof d.outputTokens === "number" ? d.outputTokens : null;
        break;
      default:
        break; // system, result, stderr, unknown: kept in history, not shown as chat content
    }
  }
  return turns;
}

export function formatDuration(ms: number | null): string {
  if (ms == null) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** What a cost reads as; with the demo model (which costs nothing) "demo, no cost" rather than $0. */
export function formatCost(usd: number | null, opts: { demo?: boolean } = {}): string {
  if (opts.demo && !usd) return "demo, no cost";
  if (usd == null) return "";
  return formatUsd(usd);
}

export function formatTokens(n: number | null): string {
  return n == null ? "" : formatCompactTokens(n);
}
