// tRPC over WebSocket: the browser's one live connection per tab (/api/trpc-ws), carrying every
// subscription of the tab multiplexed, so a handful of tabs never exhaust the browser's six
// HTTP/1.1 connections per host the way one SSE stream per subscription did. The HTTP endpoint
// (/api/trpc) keeps serving queries, mutations and SSE subscriptions (the typed client, curl).
//
// What holds on this connection:
// - the upgrade from a foreign Origin (cross-site WebSocket hijacking) is refused with 403 before
//   the handshake (the same rule as cookie-authenticated POSTs: isForeignOrigin);
// - the session cookie (or a `token` connection param) authenticates, through the same
//   createContext as HTTP; each subscription re-checks the identity when it starts, and the
//   stream guard and per-user subscription caps apply as over SSE (they are in the procedures);
// - subscriptions only: queries and mutations are refused (trpc.ts, liveConnectionGate);
// - a message is at most LIVE_MAX_MESSAGE_BYTES (larger: the socket closes with 1009);
// - at most ARMORY_MAX_LIVE_CONNECTIONS_PER_USER open sockets per user (or client address when
//   signed out); a socket that waits for connection params gets CONNECTION_PARAMS_TIMEOUT_MS;
// - a heartbeat (tRPC's PING/PONG keep-alive) reaps sockets whose tab died;
// - one log line when a connection opens (authenticated) and one when it closes.
import type http from "node:http";
import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import { TRPCError, type AnyTRPCProcedure } from "@trpc/server";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { CLIENT_IP_HEADER } from "../auth";
import { headersOf, isForeignOrigin } from "../http-boundary";
import type { Services } from "../services";
import { appRouter } from "./root";
import { createContext, type Context } from "./trpc";
import { OpenCounts } from "./open-counts";
import { releasing } from "../streams/releasing";

export const LIVE_ENDPOINT = "/api/trpc-ws";
/**
 * Largest message a client may send. Clients send subscription requests (a path, a small input,
 * a last event id), several at once after a reconnect: 64 KiB is hundreds of them.
 */
export const LIVE_MAX_MESSAGE_BYTES = 64 * 1024;
/** Close codes of our own (4000-4999 are the application's). */
export const LIVE_CLOSE = { tooMany: 4429, paramsTimeout: 4408, shuttingDown: 1001 } as const;
const CONNECTION_PARAMS_TIMEOUT_MS = 10_000;

export interface LiveConnectionOptions {
  /** Heartbeat: a PING after this long without a message from the client (default 30 s)... */
  pingMs?: number;
  /** ...and the socket is terminated when nothing answers within this long (default 10 s). */
  pongWaitMs?: number;
}

export interface LiveConnections {
  /** Whether a request URL is the live endpoint. */
  handles(url: string | undefined): boolean;
  /** Serves an upgrade request for the live endpoint (refused with 403 from a foreign origin). */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, clientIp: string): void;
  /** Open sockets. */
  readonly size: number;
  /** Closes every socket (1001, their subscriptions end) and refuses new ones. */
  close(): Promise<void>;
}

/** A bare HTTP answer on a socket that is not upgraded, then the socket is closed. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.once("finish", () => socket.destroy());
}


/**
 * The app router with a signal of its own for every subscription served on a socket: aborted
 * when the client stops it (the adapter's signal) and also when the stream ends any other way
 * (the stream guard ended it, an error), so the procedure's generator and what it holds (bus
 * listeners, Docker log streams) are released at once, as over SSE, where the response ending
 * aborts the request. (The adapter aborts a subscription's signal only on a stop or a close.)
 */
function withOwnSignals(router: typeof appRouter): typeof appRouter {
  const procedures: Record<string, AnyTRPCProcedure> = {};
  for (const [path, proc] of Object.entries(router._def.procedures as unknown as Record<string, AnyTRPCProcedure>)) {
    if (proc._def.type !== "subscription") {
      procedures[path] = proc;
      continue;
    }
    const wrapped = async (opts: { signal: AbortSignal | undefined }) => {
      const own = new AbortController();
      const abort = () => own.abort();
      if (opts.signal?.aborted) own.abort();
      else opts.signal?.addEventListener("abort", abort, { once: true });
      const release = () => {
        opts.signal?.removeEventListener("abort", abort);
        own.abort();
      };
      let result: unknown;
      try {
        result = await (proc as unknown as (o: typeof opts) => Promise<unknown>)({ ...opts, signal: own.signal });
      } catch (err) {
        release();
        throw err;
      }
      if (!result || typeof result !== "object" || !(Symbol.asyncIterator in result)) {
        release();
        return result;
      }
      return releasing(result as AsyncIterable<unknown>, release);
    };
    procedures[path] = Object.assign(wrapped, { _def: proc._def }) as unknown as AnyTRPCProcedure;
  }
  return { ...router, _def: { ...router._def, procedures } } as unknown as typeof appRouter;
}

interface SocketInfo {
  id: string;
  openedAt: number;
  ip: string;
  userId: string | null;
  counted: string | null;
}

export function createLiveConnections(getServices: () => Services, opts: LiveConnectionOptions = {}): LiveConnections {
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIVE_MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const counts = new OpenCounts(); // sockets per caller, for ARMORY_MAX_LIVE_CONNECTIONS_PER_USER
  const info = new WeakMap<WebSocket, SocketInfo>();
  let closing = false;

  wss.on("connection", (ws: WebSocket, req: http.IncomingMessage) => {
    const s = info.get(ws)!;
    // Connection params (a token) come in the first message: wait for them only so long.
    if (new URL(req.url ?? "/", "http://x").searchParams.get("connectionParams") === "1") {
      const timer = setTimeout(() => {
        if (!s.userId && !s.counted) ws.close(LIVE_CLOSE.paramsTimeout, "No connection params received");
      }, CONNECTION_PARAMS_TIMEOUT_MS);
      timer.unref();
      ws.once("close", () => clearTimeout(timer));
    }
    ws.once("close", (code: number) => {
      if (s.counted) counts.release([[s.counted, 0]]);
      getServices().log.info(
        { connectionId: s.id, userId: s.userId, ip: s.ip, code, durationMs: Date.now() - s.openedAt },
        "live connection closed",
      );
    });
  });

  applyWSSHandler({
    wss,
    router: withOwnSignals(appRouter),
    keepAlive: { enabled: true, pingMs: opts.pingMs ?? 30_000, pongWaitMs: opts.pongWaitMs ?? 10_000 },
    async createContext({ req, res: ws, info: call }): Promise<Context> {
      const services = getServices();
      const s = info.get(ws)!;
      const ctx = await createContext({
        services,
        headers: headersOf(req),
        requestId: s.id,
        connectionParams: call.connectionParams,
        transport: "ws",
      });
      if (ws.readyState !== ws.OPEN) return ctx; // gone while authenticating
      const key = ctx.user ? `user:${ctx.user.id}` : `ip:${s.ip}`;
      const max = services.config.limits.liveConnectionsPerUser;
      if (counts.take([[key, max]]) !== null) {
        const message = `Too many live connections: at most ${max} at a time (one per browser tab). Close some tabs and reload.`;
        ws.close(LIVE_CLOSE.tooMany, "Too many live connections");
        services.log.info({ connectionId: s.id, userId: ctx.user?.id ?? null, ip: s.ip, max }, "live connection refused: too many open");
        throw new TRPCError({ code: "TOO_MANY_REQUESTS", message });
      }
      s.counted = key;
      s.userId = ctx.user?.id ?? null;
      services.log.info({ connectionId: s.id, userId: s.userId, ip: s.ip, via: ctx.token ? "token" : ctx.user ? "session" : "anonymous" }, "live connection opened");
      return ctx;
    },
    onError({ error, path, type }) {
      const log = getServices().log;
      if (path === undefined && type === "unknown") log.debug({ err: error.message }, "live connection error");
      else if (error.code === "INTERNAL_SERVER_ERROR") log.error({ path, err: error.cause ?? error }, "live connection call failed");
    },
  });

  return {
    handles: (url) => (url ?? "").split("?")[0] === LIVE_ENDPOINT,
    handleUpgrade(req, socket, head, clientIp) {
      const services = getServices();
      socket.on("error", () => socket.destroy());
      if (closing) {
        refuseUpgrade(socket, 503, "Service Unavailable", "Armory is shutting down.");
        return;
      }
      // Only this server decides the client address: never trust a client-sent value.
      req.headers[CLIENT_IP_HEADER] = clientIp;
      if (isForeignOrigin(headersOf(req), services.config.publicUrl, services.config.trustProxy)) {
        services.log.info({ ip: clientIp, origin: req.headers.origin }, "live connection refused: foreign origin");
        refuseUpgrade(socket, 403, "Forbidden", "Cross-site live connections are refused: this page is not Armory's.");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        info.set(ws, { id: randomUUID(), openedAt: Date.now(), ip: clientIp, userId: null, counted: null });
        wss.emit("connection", ws, req);
      });
    },
    get size() {
      return wss.clients.size;
    },
    async close() {
      closing = true;
      const open = [...wss.clients];
      await Promise.all(
        open.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === ws.CLOSED) return resolve();
              const kill = setTimeout(() => ws.terminate(), 1000);
              kill.unref();
              ws.once("close", () => {
                clearTimeout(kill);
                resolve();
              });
              ws.close(LIVE_CLOSE.shuttingDown, "Armory is shutting down");
            }),
        ),
      );
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * The server's `upgrade` listener: the live endpoint is served here; `passThrough` paths are left
 * to another listener (Next's own, for hot reload in development); every other upgrade is
 * refused with 404.
 */
export function upgradeListener(
  live: LiveConnections,
  opts: {
    clientIp: (req: http.IncomingMessage) => string;
    passThrough?: (path: string) => boolean;
    /** Other WebSocket endpoints on this server (the agent daemons' one), tried first. */
    others?: { handles(url: string | undefined): boolean; handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void }[];
  },
): (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const other = opts.others?.find((o) => o.handles(req.url));
    if (other) return other.handleUpgrade(req, socket, head);
    if (live.handles(req.url)) {
      live.handleUpgrade(req, socket, head, opts.clientIp(req));
      return;
    }
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (opts.passThrough?.(path)) return;
    socket.on("error", () => socket.destroy());
    refuseUpgrade(socket, 404, "Not Found", "No WebSocket here.");
  };
}
