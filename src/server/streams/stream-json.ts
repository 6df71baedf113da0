// Claude Code's `--output-format stream-json` events, typed. Every line the CLI prints becomes
// exactly one StreamJsonEvent: the known kinds are recognised by shape (the CLI's key order
// varies, so nothing here pattern-matches text), anything else is kept whole as "unknown".
// Browser-safe: no Node imports, so the chat UI folds events with the same types.

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export type ContentBlock =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_use_id: string; content: unknown; is_error?: boolean }
  | { type: string; [key: string]: unknown };

export interface CliSystemEvent {
  type: "system";
  subtype?: string;
  session_id?: string;
  model?: string;
  cwd?: string;
  permissionMode?: string;
  [key: string]: unknown;
}

export interface CliAssistantEvent {
  type: "assistant";
  message: { id?: string; model?: string; content: ContentBlock[]; usage?: Usage; stop_reason?: string | null };
  session_id?: string;
  parent_tool_use_id?: string | null;
  [key: string]: unknown;
}

export interface CliUserEvent {
  type: "user";
  message: { role: "user"; content: string | ContentBlock[] };
  session_id?: string;
  [key: string]: unknown;
}

/** Anthropic streaming events wrapped by --include-partial-messages. */
export interface CliStreamEvent {
  type: "stream_event";
  event: {
    type: string;
    index?: number;
    delta?: { type: string; text?: string; partial_json?: string; thinking?: string; stop_reason?: string | null };
    content_block?: ContentBlock;
    message?: { id?: string; model?: string; usage?: Usage };
    usage?: Usage;
  };
  session_id?: string;
  parent_tool_use_id?: string | null;
  [key: string]: unknown;
}

export interface CliResultEvent {
  type: "result";
  subtype?: string;
  is_error?: boolean;
  result?: string;
  session_id?: string;
  duration_ms?: number;
  duration_api_ms?: number;
  num_turns?: number;
  total_cost_usd?: number;
  usage?: Usage;
  errors?: unknown;
  [key: string]: unknown;
}

export type CliEvent = CliSystemEvent | CliAssistantEvent | CliUserEvent | CliStreamEvent | CliResultEvent;

export type StreamJsonEvent =
  | { kind: "system"; event: CliSystemEvent }
  | { kind: "assistant"; event: CliAssistantEvent }
  | { kind: "user"; event: CliUserEvent }
  | { kind: "stream_event"; event: CliStreamEvent }
  | { kind: "result"; event: CliResultEvent }
  /** Valid JSON the model does not know (a newer CLI's event type, or a known type in an unexpected shape). */
  | { kind: "unknown"; event: unknown };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Classifies one parsed NDJSON value. Never throws. */
export function parseStreamJsonEvent(value: unknown): StreamJsonEvent {
  if (!isObject(value) || typeof value.type !== "string") return { kind: "unknown", event: value };
  switch (value.type) {
    case "system":
      return { kind: "system", event: value as CliSystemEvent };
    case "assistant":
      if (isObject(value.message) && Array.isArray(value.message.content)) return { kind: "assistant", event: value as CliAssistantEvent };
      break;
    case "user":
      if (isObject(value.message) && (Array.isArray(value.message.content) || typeof value.message.content === "string"))
        return { kind: "user", event: value as CliUserEvent };
      break;
    case "stream_event":
      if (isObject(value.event) && typeof value.event.type === "string") return { kind: "stream_event", event: value as CliStreamEvent };
      break;
    case "result":
      return { kind: "result", event: value as CliResultEvent };
  }
  return { kind: "unknown", event: value };
}

/** The text a stream_event adds to the answer, if it is a text delta. */
export function textDelta(e: CliStreamEvent): string | null {
  return e.event.type === "content_block_delta" && e.event.delta?.type === "text_delta" && typeof e.event.delta.text === "string"
    ? e.event.delta.text
    : null;
}

/** Session id carried by an event (init, result and most others carry one). */
export function sessionIdOf(e: StreamJsonEvent): string | null {
  const ev = e.event;
  return isObject(ev) && typeof ev.session_id === "string" ? ev.session_id : null;
}

export interface ResultSummary {
  isError: boolean;
  subtype: string | null;
  text: string | null;
  sessionId: string | null;
  durationMs: number | null;
  numTurns: number | null;
  totalCostUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  errors: string[];
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

export function summarizeResult(e: CliResultEvent): ResultSummary {
  const u = isObject(e.usage) ? (e.usage as Usage) : {};
  const errors = Array.isArray(e.errors) ? e.errors.map((x) => (typeof x === "string" ? x : JSON.stringify(x))) : [];
  return {
    isError: e.is_error === true || (typeof e.subtype === "string" && e.subtype !== "success"),
    subtype: typeof e.subtype === "string" ? e.subtype : null,
    text: typeof e.result === "string" ? e.result : null,
    sessionId: typeof e.session_id === "string" ? e.session_id : null,
    durationMs: typeof e.duration_ms === "number" ? e.duration_ms : null,
    numTurns: typeof e.num_turns === "number" ? e.num_turns : null,
    totalCostUsd: num(e.total_cost_usd),
    inputTokens: num(u.input_tokens),
    outputTokens: num(u.output_tokens),
    cacheReadTokens: num(u.cache_read_input_tokens),
    cacheCreationTokens: num(u.cache_creation_input_tokens),
    errors,
  };
}
