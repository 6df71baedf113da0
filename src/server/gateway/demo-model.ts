// Armory's built-in demo model: a scripted server that speaks the Anthropic Messages API
// (POST /v1/messages, streaming SSE or a JSON message), so chat works end to end without a key.
// It is not a language model; its replies follow a small script:
//   - "write a file NAME [with|containing TEXT]" -> a Write tool call, then a Bash tool call that
//     lists and prints the file, then a short summary of what the tool printed;
//   - "run `COMMAND`"                            -> a Bash tool call, then a summary of its output;
//   - a message that mentions "markdown"         -> a Markdown sample: a heading, a list, a fenced
//                                                   code block with a language, a table and a link;
//   - anything else                              -> a text reply that quotes the message and the
//                                                   previous one (so a resumed turn shows history).
// Claude Code's <system-reminder> blocks in user turns are never quoted back.
// Directives in the message steer it (used by tests and the benchmark): [[delay=MS]] waits MS
// before each streamed chunk, [[fail=STATUS]] answers with that HTTP error, [[hang]] never answers.
// The same server drives Armory's tests (startDemoModelServer).
import http from "node:http";
import { randomBytes } from "node:crypto";

export const DEMO_MODEL_NAME = "armory-demo-model";

type Block =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

interface Message {
  role: "user" | "assistant";
  content: string | { type: string; text?: string; name?: string; input?: unknown; content?: unknown; tool_use_id?: string }[];
}

export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  messages?: Message[];
  tools?: unknown[];
  system?: unknown;
}

export interface DemoReply {
  blocks: Block[];
  stopReason: "end_turn" | "tool_use";
  delayMs: number;
  fail?: number;
  hang?: boolean;
}

const DIRECTIVE = /\[\[(delay|fail|hang)(?:=(\d+))?\]\]/g;

/** `<system-reminder>` blocks Claude Code adds to user turns: context for a model, never the user's words. */
const SYSTEM_REMINDER = /<system-reminder>[\s\S]*?(?:<\/system-reminder>|$)/g;

/** Text with every `<system-reminder>` block removed (an unclosed one runs to the end). */
export function stripSystemReminders(text: string): string {
  return text.replace(SYSTEM_REMINDER, "").replace(/\n{3,}/g, "\n\n").trim();
}

function textOf(content: Message["content"]): string {
  if (typeof content === "string") return stripSystemReminders(content);
  const texts = content
    .filter((b) => b.type === "text" && typeof b.text === "string")
    .map((b) => stripSystemReminders(b.text!))
    .filter(Boolean);
  return texts.join("\n");
}

function toolResultsOf(content: Message["content"]): string[] {
  if (typeof content === "string") return [];
  return content
    .filter((b) => b.type === "tool_result")
    .map((b) => {
      const c = b.content;
      if (typeof c === "string") return c;
      if (Array.isArray(c)) return c.map((x: { text?: string }) => x.text ?? "").join("");
      return JSON.stringify(c ?? "");
    });
}

const toolId = () => `toolu_demo_${randomBytes(8).toString("hex")}`;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The scripted answer to a Messages API request. */
export function demoReply(req: MessagesRequest): DemoReply {
  const messages = Array.isArray(req.messages) ? req.messages : [];
  const userTexts = messages.filter((m) => m.role === "user").map((m) => textOf(m.content)).filter((t) => t.trim());
  const latestUserText = userTexts[userTexts.length - 1] ?? "";
  let delayMs = 0;
  let fail: number | undefined;
  let hang = false;
  for (const m of latestUserText.matchAll(DIRECTIVE)) {
    if (m[1] === "delay") delayMs = Math.min(60_000, Number(m[2] ?? 0));
    if (m[1] === "fail") fail = Number(m[2] ?? 500);
    if (m[1] === "hang") hang = true;
  }
  const base = { delayMs, fail, hang };
  const last = messages[messages.length - 1];
  const hasTools = Array.isArray(req.tools) && req.tools.length > 0;

  // A tool just ran: continue the script.
  if (last && last.role === "user" && toolResultsOf(last.content).length) {
    const results = toolResultsOf(last.content);
    const prevAssistant = [...messages].reverse().find((m) => m.role === "assistant");
    const prevTool =
      prevAssistant && typeof prevAssistant.content !== "string"
        ? prevAssistant.content.find((b) => b.type === "tool_use")
        : undefined;
    if (prevTool?.name === "Write" && hasTools) {
      const path = String((prevTool.input as { file_path?: string } | undefined)?.file_path ?? "");
      return {
        ...base,
        stopReason: "tool_use",
        blocks: [
          { type: "text", text: `Wrote ${path}. Checking it with Bash.` },
          { type: "tool_use", id: toolId(), name: "Bash", input: { command: `ls -l ${shellQuote(path)} && cat ${shellQuote(path)}`, description: "Show the file just written" } },
        ],
      };
    }
    const out = results.join("\n").trim();
    const shown = out.length > 400 ? `${out.slice(0, 400)}…` : out;
    return { ...base, stopReason: "end_turn", blocks: [{ type: "text", text: `Done. The ${prevTool?.name ?? "tool"} call returned:\n${shown}` }] };
  }

  const text = (last ? textOf(last.content) : "").replace(DIRECTIVE, "").trim();
  const write = /\bwrite (?:a |the )?file (?:called |named )?([\w./-]+)(?:\s+(?:with|containing)\s+([\s\S]+))?/i.exec(text);
  if (write && hasTools) {
    const name = write[1]!;
    const path = name.startsWith("/") ? name : `/workspace/${name}`;
    const content = (write[2] ?? "Hello from Armory's demo model.").trim() + "\n";
    return {
      ...base,
      stopReason: "tool_use",
      blocks: [
        { type: "text", text: `I'll write ${path}.` },
        { type: "tool_use", id: toolId(), name: "Write", input: { file_path: path, content } },
      ],
    };
  }
  const run = /\brun\s+`([^`]+)`/i.exec(text);
  if (run && hasTools) {
    return {
      ...base,
      stopReason: "tool_use",
      blocks: [{ type: "tool_use", id: toolId(), name: "Bash", input: { command: run[1], description: "Run the requested command" } }],
    };
  }
  if (/\bmarkdown\b/i.test(text)) {
    return { ...base, stopReason: "end_turn", blocks: [{ type: "text", text: MARKDOWN_SAMPLE }] };
  }
  const earlier = userTexts.slice(0, -1).map((t) => t.replace(DIRECTIVE, "").trim()).filter(Boolean);
  let reply = `Hello from Armory's demo model (no model key is configured, so this is a scripted reply). You said: "${clip(text)}".`;
  if (earlier.length) reply += ` Earlier in this conversation you said: "${clip(earlier[earlier.length - 1]!)}" (${earlier.length + 1} messages from you so far).`;
  else reply += " This is the first message of the conversation.";
  return { ...base, stopReason: "end_turn", blocks: [{ type: "text", text: reply }] };
}

/** The demo model's answer to a message that mentions markdown (shows how replies are rendered). */
export const MARKDOWN_SAMPLE = [
  "## Markdown from the demo model",
  "",
  "Replies are rendered as **Markdown**: headings, *emphasis*, `inline code`, lists, code blocks, tables and links.",
  "",
  "- one item",
  "- another item",
  "",
  "```python",
  "def greet(name: str) -> str:",
  '    """Say hello."""',
  '    return f"Hello, {name}!"',
  "",
  'print(greet("Armory"))',
  "```",
  "",
  "| Tool | What it does |",
  "| --- | --- |",
  "| Write | creates a file |",
  "| Bash | runs a command |",
  "",
  "Read more in the [Claude Code docs](https://docs.anthropic.com/en/docs/claude-code).",
].join("\n");

function clip(s: string, n = 200): string {
  const one = s.replace(/\s+/g, " ");
  return one.length > n ? `${one.slice(0, n)}…` : one;
}

const estimateTokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

function chunks(s: string, size = 12): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out.length ? out : [""];
}

/** The SSE events of a streamed reply, in order. */
export function sseEvents(reply: DemoReply, model: string, inputTokens: number): { event: string; data: unknown }[] {
  const id = `msg_demo_${randomBytes(12).toString("hex")}`;
  const ev: { event: string; data: unknown }[] = [];
  ev.push({
    event: "message_start",
    data: {
      type: "message_start",
      message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
    },
  });
  let out = 0;
  reply.blocks.forEach((b, index) => {
    if (b.type === "text") {
      ev.push({ event: "content_block_start", data: { type: "content_block_start", index, content_block: { type: "text", text: "" } } });
      for (const c of chunks(b.text)) ev.push({ event: "content_block_delta", data: { type: "content_block_delta", index, delta: { type: "text_delta", text: c } } });
      out += estimateTokens(b.text);
    } else {
      ev.push({ event: "content_block_start", data: { type: "content_block_start", index, content_block: { type: "tool_use", id: b.id, name: b.name, input: {} } } });
      const json = JSON.stringify(b.input);
      for (const c of chunks(json, 24)) ev.push({ event: "content_block_delta", data: { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: c } } });
      out += estimateTokens(json);
    }
    ev.push({ event: "content_block_stop", data: { type: "content_block_stop", index } });
  });
  ev.push({ event: "message_delta", data: { type: "message_delta", delta: { stop_reason: reply.stopReason, stop_sequence: null }, usage: { output_tokens: out } } });
  ev.push({ event: "message_stop", data: { type: "message_stop" } });
  return ev;
}

/**
 * Answers one Messages API request on `res` (streaming when the request asks for it). Resolves
 * when the answer is written or the client went away.
 */
export async function serveDemoMessages(body: MessagesRequest, res: http.ServerResponse): Promise<void> {
  const reply = demoReply(body);
  const model = typeof body.model === "string" ? body.model : DEMO_MODEL_NAME;
  const inputTokens = estimateTokens(JSON.stringify(body.messages ?? []));
  let closed = false;
  res.on("close", () => (closed = true));
  if (reply.hang) {
    await new Promise<void>((resolve) => res.on("close", () => resolve()));
    return;
  }
  if (reply.fail) {
    res.writeHead(reply.fail, { "content-type": "application/json" });
    res.end(JSON.stringify({ type: "error", error: { type: reply.fail === 529 ? "overloaded_error" : "api_error", message: `Demo model failure ${reply.fail} (requested by [[fail]])` } }));
    return;
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  if (!body.stream) {
    const outputTokens = reply.blocks.reduce((n, b) => n + estimateTokens(b.type === "text" ? b.text : JSON.stringify(b.input)), 0);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: `msg_demo_${randomBytes(12).toString("hex")}`,
        type: "message",
        role: "assistant",
        model,
        content: reply.blocks,
        stop_reason: reply.stopReason,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: outputTokens },
      }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  res.flushHeaders();
  for (const e of sseEvents(reply, model, inputTokens)) {
    if (closed) return;
    if (reply.delayMs && e.event === "content_block_delta") await sleep(reply.delayMs);
    if (closed) return;
    res.write(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
  }
  res.end();
}

export async function readJsonBody(req: http.IncomingMessage, limit = 64 * 1024 * 1024): Promise<{ raw: Buffer; json: unknown }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw Object.assign(new Error("request body too large"), { status: 413 });
    parts.push(c as Buffer);
  }
  const raw = Buffer.concat(parts);
  try {
    return { raw, json: raw.length ? JSON.parse(raw.toString("utf8")) : {} };
  } catch {
    throw Object.assign(new Error("request body is not JSON"), { status: 400 });
  }
}

export interface DemoModelServer {
  url: string;
  /** Requests answered so far (tests assert what the CLI sent). */
  requests: MessagesRequest[];
  /** Their headers, in the same order. */
  headers: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** The demo model on its own HTTP server (tests and the benchmark use it as the upstream). */
export async function startDemoModelServer(opts: { host?: string; port?: number } = {}): Promise<DemoModelServer> {
  const requests: MessagesRequest[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method === "POST" && path === "/v1/messages") {
      readJsonBody(req)
        .then(({ json }) => {
          requests.push(json as MessagesRequest);
          headers.push(req.headers);
          return serveDemoMessages(json as MessagesRequest, res);
        })
        .catch((err: { status?: number; message?: string }) => {
          if (!res.headersSent) res.writeHead(err.status ?? 500, { "content-type": "application/json" });
          res.end(JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: err.message } }));
        });
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "not found" } }));
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const addr = server.address() as { port: number };
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${addr.port}`,
    requests,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
