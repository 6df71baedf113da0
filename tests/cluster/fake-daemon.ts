// An agent daemon speaking armoryd's protocol (src/contracts/armoryd.ts) without a container, for
// the cluster tests: it dials an instance, answers requests, and plays Claude Code's stream-json
// for a chat turn when the test says so. It keeps its id and event numbering across connections,
// as armoryd does, so it can dial another instance after one dies. Its terminals (term.*) are
// played as armoryd's are (src/armoryd/terminal.ts): a prompt on open, every input echoed back as
// output, "exit\r" ends the shell (term.exit 0), term.close ends it as a hang-up (term.exit 129).
import { randomUUID } from "node:crypto";
import { WebSocket } from "ws";
import { AGENTD_PATH, HEARTBEAT_MS, PROTOCOL_VERSION, type ArmoryMessage, type DaemonEvent } from "@/contracts/armoryd";

const capabilities = {
  agentVersion: "test",
  claudeVersion: "2.1.330",
  writablePaths: ["/workspace"],
  configDir: "/home/agent/.claude",
  instructionsDir: "/workspace",
  instructionFiles: [],
  configWatcher: "fs.watch",
  supportedActions: ["chat", "files"],
};

export class FakeDaemon {
  readonly daemonId = `fake-${randomUUID().slice(0, 8)}`;
  private ws: WebSocket | null = null;
  private seq = 0;
  private readonly startedAt = Date.now();
  /** Requests received, in order (method names). */
  readonly requests: { method: string; params: Record<string, unknown> }[] = [];
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];
  /** The running CLI process (procId) and whether to answer its next message at once. */
  proc: string | null = null;
  answerAtOnce = true;
  private pendingTurn = false;
  /** Open terminals (termId -> size), and every terminal ever closed (in order). */
  readonly terminals = new Map<string, { cols: number; rows: number }>();
  readonly closedTerminals: string[] = [];

  constructor(
    private readonly token: string,
    private readonly containerId: string,
  ) {}

  /** Dials `baseUrl` and says hello; resolves once Armory welcomed it. */
  async connect(baseUrl: string): Promise<void> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}${AGENTD_PATH}`, { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    const welcomed = new Promise<void>((resolve, reject) => {
      ws.once("error", reject);
      ws.once("close", (code) => reject(new Error(`closed before the welcome (${code})`)));
      ws.on("message", (d) => {
        const m = JSON.parse(d.toString()) as ArmoryMessage;
        if (m.type === "welcome") resolve();
        else this.onMessage(m);
      });
    });
    // Its heartbeat with the self-report, as armoryd sends it (Armory's health check reads it).
    const heartbeat = setInterval(() => this.ping(), HEARTBEAT_MS);
    heartbeat.unref();
    ws.on("close", () => {
      clearInterval(heartbeat);
      this.changed();
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      // A refused upgrade (401, 429, 503) is an answer, not a hang.
      ws.once("unexpected-response", (_req, res) => reject(new Error(`the upgrade was refused: HTTP ${res.statusCode}`)));
    });
    ws.send(
      JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, daemonId: this.daemonId, containerId: this.containerId, startedAt: this.startedAt, capabilities, processes: [], terminals: [], lastSeq: this.seq }),
    );
    await welcomed;
    this.ping();
  }

  private ping(): void {
    this.send({ type: "ping", at: Date.now(), report: { rssBytes: 20 << 20, processes: this.proc ? 1 : 0, terminals: this.terminals.size, load1: 0, uptimeMs: Date.now() - this.startedAt, problems: [], watches: 0 } });
  }

  /** Resolves when the current connection closes (the instance died or went away). */
  closed(): Promise<void> {
    return this.until(() => this.ws?.readyState === WebSocket.CLOSED);
  }

  /** Resolves once `pred` holds (checked on every message and close). */
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  private changed(): void {
    for (const w of [...this.waiters]) {
      if (w.pred()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  private send(m: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private event(event: DaemonEvent): void {
    this.send({ type: "event", seq: ++this.seq, at: Date.now(), event });
  }

  private line(value: unknown): void {
    if (this.proc) this.event({ type: "proc.line", procId: this.proc, line: JSON.stringify(value) });
  }

  /** Plays one turn of Claude Code's stream-json (text, then the result); `words` are the text deltas. */
  answer(text: string, words: string[] = text.split(" ")): void {
    this.pendingTurn = false;
    this.line({ type: "system", subtype: "init", session_id: "cli-session-1", model: "test", tools: [] });
    for (const word of words) {
      this.line({ type: "stream_event", event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: word + " " } }, session_id: "cli-session-1" });
    }
    this.line({ type: "assistant", message: { id: "m1", role: "assistant", content: [{ type: "text", text }] }, session_id: "cli-session-1" });
    this.line({ type: "result", subtype: "success", is_error: false, result: text, session_id: "cli-session-1", total_cost_usd: 0, duration_ms: 5, usage: { input_tokens: 1, output_tokens: 1 } });
  }

  /** Claude Code asks for permission to run a tool (a control request on its stdout). */
  askPermission(requestId: string): void {
    this.line({ type: "control_request", request_id: requestId, request: { subtype: "can_use_tool", tool_name: "Bash", input: { command: "ls /workspace" }, tool_use_id: "tu-1" } });
  }

  /** The permission answers Armory wrote to the CLI's stdin. */
  get permissionAnswers(): string[] {
    return this.requests.filter((r) => r.method === "proc.write" && String(r.params.data).includes('"control_response"')).map((r) => String(r.params.data));
  }

  get turnWaiting(): boolean {
    return this.pendingTurn;
  }

  private onMessage(m: ArmoryMessage): void {
    if (m.type === "ping") this.send({ type: "pong", at: m.at });
    if (m.type === "request") {
      const params = (m.params ?? {}) as Record<string, unknown>;
      this.requests.push({ method: m.method, params });
      const ok = (result: unknown) => this.send({ type: "response", id: m.id, ok: true, result });
      switch (m.method) {
        case "proc.killOthers":
          ok({ killed: this.proc && !(params.keep as string[]).includes(this.proc) ? [this.proc] : [] });
          break;
        case "proc.spawn":
          this.proc = params.procId as string;
          ok({ pid: 4242 });
          break;
        case "proc.write":
          ok({});
          if (String(params.data).includes('"type":"user"')) {
            if (this.answerAtOnce) this.answer("hello from the fake daemon");
            else this.pendingTurn = true;
          }
          break;
        case "proc.kill":
          ok({ killed: true });
          if (this.proc) this.event({ type: "proc.exit", procId: this.proc, exitCode: 143, signal: "SIGTERM", oomKilled: false });
          this.proc = null;
          break;
        case "proc.closeInput":
          ok({});
          break;
        case "term.open": {
          const termId = params.termId as string;
          if (this.terminals.has(termId)) {
            this.send({ type: "response", id: m.id, ok: false, error: { code: "conflict", message: `terminal ${termId} is open already` } });
            break;
          }
          this.terminals.set(termId, { cols: params.cols as number, rows: params.rows as number });
          ok({ pid: 4343 });
          this.termData(termId, "fake$ ");
          break;
        }
        case "term.input":
        case "term.resize":
        case "term.close": {
          const termId = params.termId as string;
          const term = this.terminals.get(termId);
          if (!term) {
            this.send({ type: "response", id: m.id, ok: false, error: { code: "not_found", message: `no open terminal ${termId}` } });
            break;
          }
          ok({});
          if (m.method === "term.resize") Object.assign(term, { cols: params.cols, rows: params.rows });
          else if (m.method === "term.close") this.endTerminal(termId, 129);
          else if (params.data === "exit\r") this.endTerminal(termId, 0);
          else this.termData(termId, String(params.data));
          break;
        }
        case "fs.read":
          if (params.path === "/workspace/missing.txt") this.send({ type: "response", id: m.id, ok: false, error: { code: "ENOENT", message: "no such file" } });
          else ok({ content: Buffer.from(`read through ${this.daemonId}`).toString("base64"), size: 20, mode: 0o644, modifiedAt: Date.now() });
          break;
        default:
          this.send({ type: "response", id: m.id, ok: false, error: { code: "unsupported", message: `${m.method} is not played by the fake daemon` } });
      }
    }
    this.changed();
  }

  private termData(termId: string, text: string): void {
    this.event({ type: "term.data", termId, data: Buffer.from(text).toString("base64") });
  }

  private endTerminal(termId: string, exitCode: number): void {
    this.terminals.delete(termId);
    this.closedTerminals.push(termId);
    this.event({ type: "term.exit", termId, exitCode });
  }

  /** Output of `bytes` bytes on a terminal at once (as a busy shell would), in chunks of `chunk`. */
  flood(termId: string, bytes: number, chunk = 4096): void {
    for (let sent = 0; sent < bytes; sent += chunk) this.termData(termId, String.fromCharCode(97 + ((sent / chunk) % 26)).repeat(Math.min(chunk, bytes - sent)));
  }

  close(): void {
    // Terminating a socket still in its handshake emits an error: it is expected here.
    this.ws?.on("error", () => {});
    this.ws?.terminate();
  }
}
