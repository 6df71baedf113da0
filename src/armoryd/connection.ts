// The one connection home: a WebSocket dialled to Armory's agent endpoint with the agent's token
// (`Authorization: Bearer`), re-dialled with back-off and jitter (RECONNECT_MIN_MS to
// RECONNECT_MAX_MS) whenever it ends. Speaks the protocol of src/contracts/armoryd.ts: hello,
// welcome, sequenced events from the outbox (replayed after `resumeAfter`, trimmed on `ack`; one
// `events` frame per event-loop turn when Armory speaks protocol 2, one `event` frame each with an
// Armory that speaks 1), requests and responses, and heartbeats carrying the self-report; a
// connection that hears nothing for DEAD_AFTER_MS is dropped and dialled again. An Armory that
// refuses this protocol version (CLOSE_PROTOCOL) is greeted with the older one at the next dial.
import {
  BATCH_PROTOCOL_VERSION,
  DEAD_AFTER_MS,
  EVENTS_FRAME_BYTES,
  HEARTBEAT_MS,
  MAX_FRAME_BYTES,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  CLOSE_PROTOCOL,
  CLOSE_REPLACED,
  CLOSE_SUPERSEDED,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  armoryMessage,
  parseFrame,
  requestMethods,
  type DaemonError,
  type DaemonEvent,
  type DaemonMessage,
  type HelloMessage,
  type RequestMethod,
  type SelfReport,
} from "../contracts/armoryd";
import { EventBatcher } from "./batcher";
import { errorText, log } from "./log";
import { framesOf, Outbox, singleFrame } from "./outbox";

/** Past this many bytes of unacknowledged events the oldest are dropped. */
export const OUTBOX_MAX_BYTES = 64 * 1024 * 1024;

/** Runs one request: resolves with its result, rejects with a DaemonError-like error. */
export type RequestHandler = (method: RequestMethod, params: unknown) => Promise<unknown>;

export interface ConnectionOptions {
  url: string;
  token: string;
  hello: () => Omit<HelloMessage, "type" | "protocol" | "lastSeq">;
  report: () => SelfReport;
  handle: RequestHandler;
  /** Turns a failed request into the response's error. */
  errorOf: (err: unknown) => DaemonError;
  /** Called after the first welcome (work that should only start once someone listens). */
  onFirstWelcome?: () => void;
  /**
   * Called when a later welcome says Armory does not know this daemon (resumeAfter null): Armory
   * restarted, so the state it asked for before (directory watches) is nobody's any more.
   */
  onUnknownToArmory?: () => void;
}

// Bun's WebSocket client takes headers in its second argument (the DOM type does not say so).
type WebSocketWithHeaders = new (url: string, options: { headers: Record<string, string> }) => WebSocket;

/** A reconnect delay: doubling from MIN to MAX with the attempt, then 50-100% of it. */
export function backoffMs(attempt: number, random = Math.random()): number {
  const full = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(attempt, 20));
  return Math.round(full * (0.5 + random * 0.5));
}

/** The URL without credentials or query (for logs). */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(an invalid URL)";
  }
}

export class Connection {
  readonly outbox = new Outbox(OUTBOX_MAX_BYTES, (n, from, to) =>
    log(`outbox over ${OUTBOX_MAX_BYTES / 1024 / 1024} MiB: dropped ${n} unacknowledged events (seq ${from}-${to})`),
  );
  private ws: WebSocket | null = null;
  /** Welcome received on the current socket: events may flow. */
  private ready = false;
  /** The version said in the next hello: PROTOCOL_VERSION, lower after an Armory refused it. */
  private helloProtocol = PROTOCOL_VERSION;
  /** The welcome's protocol sends `events` frames (else one `event` frame per event). */
  private batches = false;
  private readonly batcher = new EventBatcher((frame) => this.send(frame), EVENTS_FRAME_BYTES);
  private attempt = 0;
  private lastHeard = 0;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private redial: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private welcomed = false;
  private connectedAt = 0;

  constructor(private readonly opts: ConnectionOptions) {}

  start(): void {
    this.dial();
  }

  /** Numbers and keeps an event; sends it when connected (at the end of this event-loop turn with protocol 2). */
  emit(event: DaemonEvent): void {
    const entry = this.outbox.push(event);
    if (!this.ready) return;
    if (this.batches) this.batcher.add(entry);
    else this.send(singleFrame(entry));
  }

  /** Closes the socket for good (code 1001: going away). */
  stop(): void {
    this.stopped = true;
    if (this.redial) clearTimeout(this.redial);
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    this.batcher.clear();
    try {
      ws?.close(1001, "armoryd stopping");
    } catch {
      // closed
    }
  }

  private dial(): void {
    if (this.stopped) return;
    this.redial = null;
    let ws: WebSocket;
    try {
      const Ctor = WebSocket as unknown as WebSocketWithHeaders;
      ws = new Ctor(this.opts.url, { headers: { Authorization: `Bearer ${this.opts.token}` } });
    } catch (err) {
      log(`cannot dial ${shownUrl(this.opts.url)}: ${errorText(err)}`);
      this.scheduleRedial();
      return;
    }
    this.ws = ws;
    this.ready = false;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.connectedAt = Date.now();
      this.lastHeard = Date.now();
      log(`connected to ${shownUrl(this.opts.url)}`);
      this.sendMessage({ type: "hello", protocol: this.helloProtocol, ...this.opts.hello(), lastSeq: this.outbox.lastSeq });
      this.startHeartbeat(ws);
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      const text = typeof ev.data === "string" ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString("utf8");
      if (text.length > MAX_FRAME_BYTES) {
        log(`ignored a frame of ${text.length} bytes (over ${MAX_FRAME_BYTES})`);
        return;
      }
      this.onFrame(text);
    };
    ws.onerror = () => {
      // The close event follows and says more.
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.dropped(ev.code, ev.reason);
    };
  }

  /** The current socket ended (closed by either side, or declared dead). */
  private dropped(code: number, reason: string): void {
    const was = this.connectedAt ? `after ${Math.round((Date.now() - this.connectedAt) / 1000)}s` : "before it opened";
    log(`disconnected from ${shownUrl(this.opts.url)} ${was} (code ${code}${reason ? `: ${reason}` : ""})`);
    this.ws = null;
    this.ready = false;
    this.batcher.clear();
    this.connectedAt = 0;
    this.stopHeartbeat();
    if (code === CLOSE_PROTOCOL && this.helloProtocol > MIN_PROTOCOL_VERSION) {
      // An Armory from before this protocol version: greet it with the older one (no batches).
      this.helloProtocol--;
      log(`Armory refused protocol ${this.helloProtocol + 1}: trying ${this.helloProtocol}`);
      this.scheduleRedial();
      return;
    }
    // The next connection may be to an upgraded Armory: offer the newest version again.
    this.helloProtocol = PROTOCOL_VERSION;
    // Another daemon of this agent holds the connection (a safe re-create's new container), or
    // Armory refused this protocol: try again slowly, not at once.
    this.scheduleRedial(code === CLOSE_REPLACED || code === CLOSE_SUPERSEDED || code === CLOSE_PROTOCOL ? RECONNECT_MAX_MS : 0);
  }

  private scheduleRedial(atLeastMs = 0): void {
    if (this.stopped || this.redial) return;
    const delay = Math.max(atLeastMs, backoffMs(this.attempt++));
    this.redial = setTimeout(() => this.dial(), delay);
  }

  private startHeartbeat(ws: WebSocket): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      if (this.ws !== ws) return;
      if (Date.now() - this.lastHeard > DEAD_AFTER_MS) {
        log(`heard nothing from Armory for ${DEAD_AFTER_MS / 1000}s: dropping the connection`);
        this.ws = null;
        try {
          ws.close(4000, "no heartbeat");
        } catch {
          // closed
        }
        this.dropped(4000, "no heartbeat");
        return;
      }
      this.sendMessage({ type: "ping", at: Date.now(), report: this.opts.report() });
    }, HEARTBEAT_MS);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private send(text: string): void {
    try {
      this.ws?.send(text);
    } catch (err) {
      log(`send failed: ${errorText(err)}`);
    }
  }

  private sendMessage(m: DaemonMessage): void {
    // Events produced before this message go first (e.g. an exec's progress before its response).
    this.batcher.flush();
    this.send(JSON.stringify(m));
  }

  private onFrame(text: string): void {
    const m = parseFrame(armoryMessage, text);
    if (!m) {
      log(`ignored an invalid frame (${text.length} bytes)`);
      return;
    }
    switch (m.type) {
      case "welcome": {
        if (m.protocol !== PROTOCOL_VERSION) log(`Armory speaks protocol ${m.protocol}, this daemon ${PROTOCOL_VERSION}`);
        this.batches = m.protocol >= BATCH_PROTOCOL_VERSION;
        // null: Armory has not seen this daemon, so nothing is replayed.
        const after = m.resumeAfter ?? this.outbox.lastSeq;
        this.outbox.ack(after);
        const replay = this.outbox.after(after);
        this.ready = true;
        this.attempt = 0;
        if (this.batches) for (const frame of framesOf(replay, EVENTS_FRAME_BYTES)) this.send(frame);
        else for (const e of replay) this.send(singleFrame(e));
        // The self-report at once (Armory's health check reads it), then every HEARTBEAT_MS.
        this.sendMessage({ type: "ping", at: Date.now(), report: this.opts.report() });
        if (replay.length) log(`replayed ${replay.length} events after seq ${after}`);
        if (!this.welcomed) {
          this.welcomed = true;
          this.opts.onFirstWelcome?.();
        } else if (m.resumeAfter === null) {
          this.opts.onUnknownToArmory?.();
        }
        return;
      }
      case "ack":
        this.outbox.ack(m.seq);
        return;
      case "ping":
        this.sendMessage({ type: "pong", at: Date.now() });
        return;
      case "pong":
        return;
      case "request":
        void this.request(m.id, m.method, m.params);
        return;
    }
  }

  private async request(id: number, method: RequestMethod, raw: unknown): Promise<void> {
    const ws = this.ws;
    let response: DaemonMessage;
    const parsed = requestMethods[method].params.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      response = {
        type: "response",
        id,
        ok: false,
        error: { code: "bad_request", message: `${method}: ${issue ? `${issue.path.join(".") || "params"}: ${issue.message}` : "invalid params"}` },
      };
    } else {
      try {
        const result = await this.opts.handle(method, parsed.data);
        response = { type: "response", id, ok: true, result };
      } catch (err) {
        response = { type: "response", id, ok: false, error: this.opts.errorOf(err) };
      }
    }
    // A response belongs to the connection that asked (the caller fails it if that one is gone).
    if (this.ws === ws && ws) this.sendMessage(response);
  }
}
