// Armory's side of armoryd (src/armoryd/): the endpoint every agent daemon dials, on the gateway
// listener at AGENTD_PATH (src/contracts/armoryd.ts is the protocol). One connection per agent:
// authenticated by the agent's gateway token, a newer connection replaces an older one. The hub
// numbers nothing itself: it drops events it already has (seq at or below the last one from that
// daemon), acks what it received (one decision per frame: a protocol-2 daemon sends the events of
// a turn as one `events` frame), and hands each event once, in order, to its listeners. Events of
// a process (those with a procId) go straight to that process's listeners (onProcEvent) besides
// the agent's (onEvent) and everyone's (onAnyEvent): a hundred chat processes of one agent do not
// each look at every line. Requests are answered by the daemon; a request whose connection is lost
// fails at once.
//
// State per agent: connected (a daemon said hello) or disconnected. `onState` tells listeners
// (the agent status stream, health) and `onDaemon` tells them when a *different* daemon (a restart)
// connected, so processes of the old one are known dead.
import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import {
  ACK_EVERY,
  ACK_INTERVAL_MS,
  AGENTD_PATH,
  CLOSE_REPLACED,
  CLOSE_SUPERSEDED,
  CLOSE_PROTOCOL,
  daemonMessage,
  DEAD_AFTER_MS,
  HEARTBEAT_MS,
  MAX_FRAME_BYTES,
  MIN_PROTOCOL_VERSION,
  parseFrame,
  PROTOCOL_VERSION,
  requestMethods,
  type ArmoryMessage,
  type DaemonError,
  type DaemonEvent,
  type DaemonMessage,
  type HelloMessage,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
  type SelfReport,
} from "../../contracts/armoryd";
import { DomainError } from "../domain/errors";
import type { Logger } from "../logger";

export type DaemonState = "connected" | "disconnected";

export interface DaemonInfo {
  agentId: string;
  state: DaemonState;
  daemonId: string;
  containerId: string | null;
  hello: HelloMessage;
  connectedAt: Date;
  /** When the connection ended (null while connected). */
  disconnectedAt: Date | null;
  /** The WebSocket close code of the last disconnect (1001: the daemon is going away, its processes with it). */
  closeCode: number | null;
  /** The daemon's last self-report and when it arrived (its heartbeat). */
  report: SelfReport | null;
  lastHeartbeatAt: Date | null;
}

export interface EventMeta {
  seq: number;
  at: number;
  daemonId: string;
}
export type DaemonEventListener = (event: DaemonEvent, meta: EventMeta) => void;
/** An event of one process (proc.line, proc.stderr, proc.overflow, proc.exit). */
export type ProcEvent = Extract<DaemonEvent, { procId: string }>;
export type ProcEventListener = (event: ProcEvent, meta: EventMeta) => void;
type AnyEventListener = (agentId: string, event: DaemonEvent, meta: EventMeta) => void;
export type DaemonStateListener = (info: DaemonInfo) => void;

/** The daemon answered a request with an error. */
export class DaemonRequestError extends Error {
  constructor(
    readonly method: RequestMethod,
    readonly error: DaemonError,
  ) {
    super(`${method}: ${error.code}: ${error.message}`);
  }
}

/** No daemon to ask: the agent is stopped, starting, or its daemon lost the connection. */
export class DaemonUnavailableError extends DomainError {
  constructor(
    readonly agentId: string,
    detail: string,
  ) {
    super("PRECONDITION_FAILED", detail);
  }
}

export interface DaemonHubOptions {
  log: Logger;
  /** The agent a gateway token belongs to, or null. */
  verifyToken(token: string): Promise<string | null>;
  heartbeatMs?: number;
  deadAfterMs?: number;
  /**
   * Whether the container id a daemon reports (the engine's) is the id the runtime gives the
   * agent's container (AgentRuntime.containerIdIsEngineId). When not (Swarm: a service id), the
   * reported id is not kept, so nothing compares the two.
   */
  containerIdsComparable?: boolean;
}

interface Pending {
  method: RequestMethod;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

class Connection {
  info: DaemonInfo | null = null;
  readonly pending = new Map<number, Pending>();
  lastHeard = Date.now();
  unacked = 0;
  ackTimer: NodeJS.Timeout | null = null;
  heartbeat: NodeJS.Timeout | null = null;
  closed = false;
  constructor(
    readonly agentId: string,
    readonly ws: WebSocket,
  ) {}
  send(m: ArmoryMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(m));
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Daemons other Armory instances hold (several instances on one PostgreSQL, src/server/cluster/):
 * the hub reports them as connected and forwards requests for them to their instance.
 */
export interface RemoteDaemons {
  /** The daemon another live instance holds for the agent, as that instance reported it, or null. */
  info(agentId: string): DaemonInfo | null;
  request(agentId: string, method: RequestMethod, params: unknown, opts: { timeoutMs: number }): Promise<unknown>;
  /** Remote daemons appearing (connected) and going away (disconnected). */
  onState(listener: DaemonStateListener): () => void;
}

export class DaemonHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  private readonly conns = new Map<string, Connection>(); // agentId -> current connection
  /** Per agent: the last daemon seen and the last event seq received from it (replay point). */
  private readonly last = new Map<string, { daemonId: string; seq: number; info: DaemonInfo }>();
  // Event listeners are kept in arrays replaced (not changed) on subscribe and unsubscribe, so a
  // dispatch walks the array it started with without copying it per event.
  private readonly eventListeners = new Map<string, DaemonEventListener[]>();
  /** agentId -> procId -> listeners. */
  private readonly procListeners = new Map<string, Map<string, ProcEventListener[]>>();
  private anyListeners: AnyEventListener[] = [];
  private readonly stateListeners = new Set<DaemonStateListener>();
  private readonly daemonListeners = new Set<(info: DaemonInfo, previousDaemonId: string | null) => void>();
  private nextId = 1;
  private closing = false;
  private remote: RemoteDaemons | null = null;

  constructor(private readonly opts: DaemonHubOptions) {}

  private get log() {
    return this.opts.log;
  }

  // ---------------------------------------------------------------- queries

  /** Daemons of other instances count as connected here, and requests for them go there. */
  useRemote(remote: RemoteDaemons): void {
    this.remote = remote;
  }

  state(agentId: string): DaemonState {
    return this.conns.get(agentId)?.info || this.remote?.info(agentId) ? "connected" : "disconnected";
  }

  /** The agent's daemon as last seen (connected or not; here or on another instance), or null when none ever connected. */
  info(agentId: string): DaemonInfo | null {
    return this.conns.get(agentId)?.info ?? this.remote?.info(agentId) ?? this.last.get(agentId)?.info ?? null;
  }

  /** True when this instance holds the agent's daemon connection. */
  holds(agentId: string): boolean {
    return !!this.conns.get(agentId)?.info;
  }

  connectedAgents(): string[] {
    return [...this.conns.values()].filter((c) => c.info).map((c) => c.agentId);
  }

  /**
   * Resolves with the daemon's info once the agent's daemon is connected (at once when it is);
   * with `containerId`, only a daemon in that container counts. Rejects after `timeoutMs`.
   */
  waitFor(agentId: string, opts: { timeoutMs: number; containerId?: string; signal?: AbortSignal }): Promise<DaemonInfo> {
    const matches = (i: DaemonInfo | null | undefined): i is DaemonInfo =>
      !!i && i.state === "connected" && (!opts.containerId || !i.containerId || i.containerId === opts.containerId);
    const now = this.conns.get(agentId)?.info ?? this.remote?.info(agentId);
    if (matches(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        off();
        offRemote?.();
        opts.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      const off = this.onState((i) => {
        if (i.agentId === agentId && matches(i)) done(() => resolve(i));
      });
      const offRemote = this.remote?.onState((i) => {
        if (i.agentId === agentId && matches(i)) done(() => resolve(i));
      });
      const timer = setTimeout(
        () => done(() => reject(new DaemonUnavailableError(agentId, `The agent's daemon did not connect within ${Math.round(opts.timeoutMs / 1000)} s.`))),
        opts.timeoutMs,
      );
      const onAbort = () => done(() => reject(new Error("aborted")));
      opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  // ---------------------------------------------------------------- listeners

  /** Every event of the agent's daemon, once each, in order. Returns the unsubscribe function. */
  onEvent(agentId: string, listener: DaemonEventListener): () => void {
    this.eventListeners.set(agentId, [...(this.eventListeners.get(agentId) ?? []), listener]);
    let on = true;
    return () => {
      if (!on) return;
      on = false;
      const rest = without(this.eventListeners.get(agentId), listener);
      if (rest.length) this.eventListeners.set(agentId, rest);
      else this.eventListeners.delete(agentId);
    };
  }

  /**
   * The events of one process of the agent's daemon (proc.line, proc.stderr, proc.overflow,
   * proc.exit), once each, in order: what onEvent gives filtered by procId, without the hub calling
   * every other process's listener. Returns the unsubscribe function.
   */
  onProcEvent(agentId: string, procId: string, listener: ProcEventListener): () => void {
    let procs = this.procListeners.get(agentId);
    if (!procs) this.procListeners.set(agentId, (procs = new Map()));
    procs.set(procId, [...(procs.get(procId) ?? []), listener]);
    let on = true;
    return () => {
      if (!on) return;
      on = false;
      const now = this.procListeners.get(agentId);
      if (!now) return;
      const rest = without(now.get(procId), listener);
      if (rest.length) now.set(procId, rest);
      else if (now.delete(procId) && !now.size) this.procListeners.delete(agentId);
    };
  }

  /** Every event of every agent's daemon. */
  onAnyEvent(listener: AnyEventListener): () => void {
    this.anyListeners = [...this.anyListeners, listener];
    let on = true;
    return () => {
      if (!on) return;
      on = false;
      this.anyListeners = without(this.anyListeners, listener);
    };
  }

  /** Connected / disconnected changes of every agent's daemon. */
  onState(listener: DaemonStateListener): () => void {
    this.stateListeners.add(listener);
    return () => void this.stateListeners.delete(listener);
  }

  /** A daemon connected that is not the one seen before for that agent (it restarted), or the first one. */
  onDaemon(listener: (info: DaemonInfo, previousDaemonId: string | null) => void): () => void {
    this.daemonListeners.add(listener);
    return () => void this.daemonListeners.delete(listener);
  }

  // ---------------------------------------------------------------- requests

  /** Asks the agent's daemon; resolves with its result, throws DaemonRequestError or DaemonUnavailableError. */
  request<M extends RequestMethod>(agentId: string, method: M, params: RequestParams<M>, opts: { timeoutMs?: number } = {}): Promise<RequestResult<M>> {
    const conn = this.conns.get(agentId);
    if (!conn?.info && this.remote?.info(agentId)) {
      return this.remote.request(agentId, method, params, { timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS }) as Promise<RequestResult<M>>;
    }
    if (!conn?.info) {
      return Promise.reject(new DaemonUnavailableError(agentId, "The agent's daemon is not connected: the agent is stopped, starting or unreachable."));
    }
    const checked = requestMethods[method].params.safeParse(params);
    if (!checked.success) return Promise.reject(new Error(`armoryd ${method}: invalid params: ${checked.error.message}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        conn.pending.delete(id);
        reject(new DaemonUnavailableError(agentId, `The agent's daemon did not answer ${method} within ${Math.round(timeoutMs / 1000)} s.`));
      }, timeoutMs);
      conn.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      conn.send({ type: "request", id, method, params: checked.data });
    });
  }

  // ---------------------------------------------------------------- the endpoint

  /** True when `req` is for the agent endpoint (the caller hands the upgrade to handleUpgrade). */
  handles(url: string | undefined): boolean {
    return (url ?? "").split("?")[0] === AGENTD_PATH;
  }

  /** Serves an upgrade request at AGENTD_PATH (on the gateway listener or Armory's own server). */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    };
    socket.on("error", () => socket.destroy());
    if (this.closing) return refuse(503, "Service Unavailable");
    if (!this.handles(req.url)) return refuse(404, "Not Found");
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7).trim() : "";
    if (!token) return refuse(401, "Unauthorized");
    void this.opts
      .verifyToken(token)
      .catch(() => null)
      .then((agentId) => {
        if (!agentId) {
          this.log.warn({ remote: req.socket.remoteAddress }, "armoryd connection refused: invalid agent token");
          return refuse(401, "Unauthorized");
        }
        if (socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(agentId, ws));
      });
  }

  private accept(agentId: string, ws: WebSocket): void {
    const conn = new Connection(agentId, ws);
    const hb = this.opts.heartbeatMs ?? HEARTBEAT_MS;
    const dead = this.opts.deadAfterMs ?? DEAD_AFTER_MS;
    conn.heartbeat = setInterval(() => {
      if (Date.now() - conn.lastHeard > dead) {
        this.log.warn({ agentId }, `armoryd silent for ${Math.round(dead / 1000)} s: closing its connection`);
        ws.terminate();
        return;
      }
      conn.send({ type: "ping", at: Date.now() });
    }, hb);
    conn.heartbeat.unref();
    ws.on("message", (data, isBinary) => {
      conn.lastHeard = Date.now();
      if (isBinary) return ws.close(1003, "text frames only");
      const msg = parseFrame(daemonMessage, data.toString());
      if (!msg) {
        this.log.warn({ agentId }, "armoryd sent an invalid frame; closing");
        return ws.close(1002, "invalid frame");
      }
      this.onMessage(conn, msg);
    });
    ws.on("close", (code) => this.onClose(conn, code));
    ws.on("error", (err) => this.log.debug({ agentId, err }, "armoryd socket error"));
  }

  private onMessage(conn: Connection, msg: DaemonMessage): void {
    switch (msg.type) {
      case "hello":
        return this.onHello(conn, msg);
      case "event": {
        const last = this.receiving(conn);
        if (last && this.receive(conn, last, msg)) this.ack(conn, 1);
        return;
      }
      case "events": {
        const { events } = msg;
        const first = events[0]!.seq;
        for (let i = 1; i < events.length; i++) {
          if (events[i]!.seq !== first + i) {
            this.log.warn({ agentId: conn.agentId }, "armoryd sent a batch of events whose seqs are not contiguous; closing");
            return conn.ws.close(1002, "invalid frame");
          }
        }
        const last = this.receiving(conn);
        if (!last) return;
        let received = 0;
        for (let i = 0; i < events.length; i++) if (this.receive(conn, last, events[i]!)) received++;
        if (received) this.ack(conn, received);
        return;
      }
      case "response": {
        const p = conn.pending.get(msg.id);
        if (!p) return;
        conn.pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.ok) p.resolve(msg.result ?? {});
        else p.reject(new DaemonRequestError(p.method, msg.error ?? { code: "internal", message: "no error given" }));
        return;
      }
      case "ping":
        if (conn.info) {
          conn.info.report = msg.report;
          conn.info.lastHeartbeatAt = new Date();
        }
        conn.send({ type: "pong", at: msg.at });
        return;
      case "pong":
        return;
    }
  }

  /** Where events of this connection are recorded (null: not from the agent's current daemon, dropped). */
  private receiving(conn: Connection): { daemonId: string; seq: number } | null {
    if (!conn.info) return null;
    const last = this.last.get(conn.agentId);
    return last && last.daemonId === conn.info.daemonId ? last : null;
  }

  /** Hands one event on unless it was delivered before; true when it was new. */
  private receive(conn: Connection, last: { daemonId: string; seq: number }, e: { seq: number; at: number; event: DaemonEvent }): boolean {
    if (e.seq <= last.seq) return false; // a replay of something already delivered
    if (e.seq > last.seq + 1) this.log.warn({ agentId: conn.agentId, from: last.seq + 1, to: e.seq - 1 }, "armoryd events lost (its outbox overflowed)");
    last.seq = e.seq;
    this.dispatch(conn.agentId, e.event, { seq: e.seq, at: e.at, daemonId: last.daemonId });
    return true;
  }

  private onHello(conn: Connection, hello: HelloMessage): void {
    if (conn.info) return conn.ws.close(1002, "hello twice");
    if (hello.protocol < MIN_PROTOCOL_VERSION || hello.protocol > PROTOCOL_VERSION) {
      this.log.warn({ agentId: conn.agentId, protocol: hello.protocol }, "armoryd speaks another protocol version; refused (re-create the agent with the current image)");
      return conn.ws.close(CLOSE_PROTOCOL, `protocol ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION} required`);
    }
    // The daemon's version (Armory speaks every one from MIN_PROTOCOL_VERSION up): it batches from 2 on.
    const protocol = hello.protocol;
    const previous = this.conns.get(conn.agentId);
    if (previous?.info && previous !== conn && previous.info.hello.startedAt > hello.startedAt && Date.now() - previous.lastHeard < (this.opts.deadAfterMs ?? DEAD_AFTER_MS)) {
      // A live daemon that started later holds the agent (a safe re-create's new container while
      // the old one still runs): this older one waits and tries again (it wins once that one is gone).
      return conn.ws.close(CLOSE_SUPERSEDED, "a newer daemon of this agent is connected");
    }
    if (previous && previous !== conn) {
      previous.closed = true;
      this.failPending(previous, "a newer connection of the agent's daemon replaced this one");
      previous.ws.close(CLOSE_REPLACED, "replaced by a newer connection");
      this.stopTimers(previous);
    }
    const known = this.last.get(conn.agentId);
    const sameDaemon = known?.daemonId === hello.daemonId;
    const info: DaemonInfo = {
      agentId: conn.agentId,
      state: "connected",
      daemonId: hello.daemonId,
      containerId: this.opts.containerIdsComparable === false ? null : hello.containerId,
      hello,
      connectedAt: new Date(),
      disconnectedAt: null,
      closeCode: null,
      report: null,
      lastHeartbeatAt: new Date(),
    };
    conn.info = info;
    this.conns.set(conn.agentId, conn);
    // A daemon this Armory has not seen is told to replay nothing (resumeAfter null); its next
    // event follows the last one it made (those before belong to an earlier Armory).
    this.last.set(conn.agentId, { daemonId: hello.daemonId, seq: sameDaemon ? known!.seq : hello.lastSeq, info });
    conn.send({ type: "welcome", protocol, resumeAfter: sameDaemon ? known!.seq : null });
    this.log.info({ agentId: conn.agentId, daemonId: hello.daemonId, resumed: sameDaemon, protocol, agentVersion: hello.capabilities.agentVersion }, "armoryd connected");
    if (!sameDaemon) for (const l of this.daemonListeners) this.safe(() => l(info, known?.daemonId ?? null));
    for (const l of this.stateListeners) this.safe(() => l(info));
  }

  private onClose(conn: Connection, code: number): void {
    this.stopTimers(conn);
    this.failPending(conn, "the connection to the agent's daemon was lost");
    if (conn.closed || this.conns.get(conn.agentId) !== conn) return;
    conn.closed = true;
    this.conns.delete(conn.agentId);
    if (!conn.info) return;
    conn.info.state = "disconnected";
    conn.info.disconnectedAt = new Date();
    conn.info.closeCode = code;
    this.log.info({ agentId: conn.agentId, daemonId: conn.info.daemonId }, "armoryd disconnected");
    for (const l of this.stateListeners) this.safe(() => l(conn.info!));
  }

  private stopTimers(conn: Connection): void {
    if (conn.heartbeat) clearInterval(conn.heartbeat);
    if (conn.ackTimer) clearTimeout(conn.ackTimer);
    conn.heartbeat = conn.ackTimer = null;
  }

  private failPending(conn: Connection, why: string): void {
    for (const [id, p] of conn.pending) {
      clearTimeout(p.timer);
      p.reject(new DaemonUnavailableError(conn.agentId, `${p.method}: ${why}.`));
      conn.pending.delete(id);
    }
  }

  /** `received` new events came in one frame: acks at once past ACK_EVERY unacked, else within ACK_INTERVAL_MS. */
  private ack(conn: Connection, received: number): void {
    conn.unacked += received;
    if (conn.unacked >= ACK_EVERY) {
      conn.unacked = 0;
      if (conn.ackTimer) clearTimeout(conn.ackTimer);
      conn.ackTimer = null;
      const last = this.last.get(conn.agentId);
      if (last) conn.send({ type: "ack", seq: last.seq });
      return;
    }
    conn.ackTimer ??= setTimeout(() => {
      conn.ackTimer = null;
      conn.unacked = 0;
      const last = this.last.get(conn.agentId);
      if (last) conn.send({ type: "ack", seq: last.seq });
    }, ACK_INTERVAL_MS);
  }

  // The hot path: every event of every daemon. The arrays are never changed in place (see above),
  // so a listener that unsubscribes during the loop does not disturb it.
  private dispatch(agentId: string, event: DaemonEvent, meta: EventMeta): void {
    if ("procId" in event) {
      const procs = this.procListeners.get(agentId)?.get(event.procId);
      if (procs) this.callEach(procs, event, meta, undefined);
    }
    const ls = this.eventListeners.get(agentId);
    if (ls) this.callEach(ls, event, meta, undefined);
    this.callEach(this.anyListeners, agentId, event, meta);
  }

  /** Calls each listener with the arguments (no closure per call); one that throws is logged and the rest still run. */
  private callEach<A, B, C>(listeners: readonly ((a: A, b: B, c: C) => void)[], a: A, b: B, c: C): void {
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(a, b, c);
      } catch (err) {
        this.listenerFailed(err);
      }
    }
  }

  private listenerFailed(err: unknown): void {
    this.log.error({ err }, "armoryd listener failed");
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.listenerFailed(err);
    }
  }

  /**
   * Cuts the agent's daemon connection as a network failure would (no close handshake); the daemon
   * reconnects and resumes. For fault drills and tests.
   */
  disconnect(agentId: string): boolean {
    const conn = this.conns.get(agentId);
    if (!conn) return false;
    conn.ws.terminate();
    return true;
  }

  /** Closes every daemon connection (1001: Armory is going away; the daemons reconnect to the next one). */
  async close(): Promise<void> {
    this.closing = true;
    const all = [...this.conns.values()];
    for (const c of all) {
      c.closed = true;
      this.stopTimers(c);
      this.failPending(c, "Armory is stopping");
      c.ws.close(1001, "Armory is stopping");
    }
    this.conns.clear();
    // Sockets not (or no longer) tracked as an agent's connection (before their hello, replaced,
    // superseded) and any whose close handshake does not finish soon are cut.
    const open = () => [...this.wss.clients].filter((ws) => ws.readyState !== ws.CLOSED);
    const deadline = Date.now() + 1000;
    while (open().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of open()) ws.terminate();
    this.wss.close();
  }
}

/** A copy of `list` without the first `item` (empty when there was no list). */
function without<T>(list: readonly T[] | undefined, item: T): T[] {
  if (!list) return [];
  const i = list.indexOf(item);
  return i < 0 ? [...list] : [...list.slice(0, i), ...list.slice(i + 1)];
}
