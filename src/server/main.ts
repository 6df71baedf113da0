// Armory's HTTP server: config check, build if needed, database + migrations, then Next.js
// behind a thin Node server that assigns request ids, records the client address for rate
// limits, and writes one structured log line per request.
import http from "node:http";
import { randomUUID } from "node:crypto";
import next from "next";
import { CLIENT_IP_HEADER } from "./auth";
import { buildApp, buildIsCurrent, applyBuiltNextConfig } from "./build";
import { describeDatabase, type Config } from "./config";
import type { Database } from "./db";
import { httpServerOptions } from "./http-boundary";
import { serveSubscription } from "./api/sse";
import { createLogger, setLogger, type Logger } from "./logger";
import { metricsResponse, observeHttpRequest } from "./metrics";
import { createLiveConnections, upgradeListener } from "./api/ws";
import { createServices, type Services } from "./services";
import { setServices } from "./services-registry";

export interface StartOptions {
  config: Config;
  /** Project root (where .next and package.json live). */
  dir?: string;
  dev?: boolean;
  log?: Logger;
  db?: Database;
  /** Skip the "build if needed" step (the caller guarantees a current build). */
  skipBuild?: boolean;
}

export interface RunningArmory {
  url: string;
  services: Services;
  server: http.Server;
  close(): Promise<void>;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

function clientIp(req: http.IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = req.headers["x-forwarded-for"];
    const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(",")[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? "unknown";
}

/** GET /metrics: Prometheus text, behind ARMORY_METRICS_TOKEN when one is configured. */
export async function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse, token: string | undefined): Promise<void> {
  try {
    const answer = await metricsResponse(req.headers.authorization, token);
    res.writeHead(answer.status, answer.headers);
    res.end(req.method === "HEAD" ? undefined : answer.body);
  } catch {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end("Could not collect metrics.\n");
  }
}

export async function startArmory(opts: StartOptions): Promise<RunningArmory> {
  const { config } = opts;
  const dir = opts.dir ?? process.cwd();
  const dev = opts.dev ?? config.env === "development";
  const log = opts.log ?? createLogger({ level: config.logLevel, format: config.logFormat });
  setLogger(log);

  // Database first: a bad DATABASE_URL should fail in a second, not after a build.
  log.info({ database: describeDatabase(config) }, "opening database");
  const services = await createServices({ config, log, db: opts.db });
  setServices(services);

  if (!dev && !opts.skipBuild && !buildIsCurrent(dir)) {
    log.info("building the web app (first start or sources changed); this takes a minute");
    try {
      await buildApp(dir);
    } catch (err) {
      await services.close();
      throw err;
    }
    log.info("build finished");
  }

  services.startBackground();

  // Next's config as the build resolved it: next.config.ts is not transpiled (SWC) in this process.
  if (!dev) applyBuiltNextConfig(dir);
  const app = next({ dev, dir, hostname: config.bindAddress, port: config.port });
  const handle = app.getRequestHandler();
  await app.prepare();

  // Slow headers or bodies are cut (408); SSE responses are not (these time only the request).
  const server = http.createServer(httpServerOptions(config.limits), (req, res) => {
    const started = performance.now();
    const incoming = req.headers["x-request-id"];
    const requestId = typeof incoming === "string" && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    req.headers["x-request-id"] = requestId;
    // Only this server decides the client address: never trust a client-sent value.
    req.headers[CLIENT_IP_HEADER] = clientIp(req, config.trustProxy);
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      observeHttpRequest(req.method ?? "GET", path, res.statusCode, (performance.now() - started) / 1000);
      const entry = {
        requestId,
        method: req.method,
        path,
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      };
      if (path?.startsWith("/_next/")) log.debug(entry, "request");
      else log.info(entry, "request");
    });
    if ((req.url ?? "").split("?")[0] === "/metrics") {
      void serveMetrics(req, res, config.metricsToken);
      return;
    }
    // The model gateway (agents' Claude Code calls) is plain Node streaming, not a Next route.
    if (services.gateway.handles(req.url)) {
      void services.gateway.handle(req, res);
      return;
    }
    // tRPC subscriptions over SSE are written straight to the response (src/server/api/sse.ts).
    if (serveSubscription(req, res, services)) return;
    handle(req, res).catch((err: unknown) => {
      log.error({ requestId, err }, "unhandled request error");
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end("Internal error");
      }
    });
  });
  // The browser's live connection (tRPC subscriptions over one WebSocket per tab) at
  // /api/trpc-ws. In development Next attaches its own upgrade listener to this server on the
  // first request (hot reload under /_next/); every other upgrade is refused.
  const live = createLiveConnections(() => services);
  // Agent daemons dial /api/agentd here when the relays reach Armory on this server.
  server.on(
    "upgrade",
    upgradeListener(live, { clientIp: (req) => clientIp(req, config.trustProxy), passThrough: (path) => dev && path.startsWith("/_next/"), others: [services.hub] }),
  );
  // Agents' egress proxy (HTTP CONNECT through their project's relay) when the relays reach Armory
  // on this server (ARMORY_GATEWAY_URL, or the gateway sharing Armory's port on 0.0.0.0).
  server.on("connect", (req, socket, head) => services.gateway.egress.handle(req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        reject(new Error(`Port ${config.port} on ${config.bindAddress} is already in use. Set PORT to another port.`));
      } else if (err.code === "EADDRNOTAVAIL") {
        reject(new Error(`Cannot bind to ${config.bindAddress}: no such address on this machine (ARMORY_BIND_ADDRESS).`));
      } else reject(err);
    });
    server.listen(config.port, config.bindAddress, resolve);
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.port;
  const host = config.bindAddress.includes(":") ? `[${config.bindAddress}]` : config.bindAddress;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  log.info({ url, database: services.db.description, engine: services.runtime.endpoint }, `Armory is ready on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    services,
    server,
    close() {
      closing ??= (async () => {
        // Live connections first: upgraded sockets are not the HTTP server's to close, and an
        // open one would hold server.close() forever.
        await live.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Open SSE streams would hold close() forever.
          setTimeout(() => server.closeAllConnections(), 2000).unref();
        });
        await app.close?.();
        await services.close();
      })();
      return closing;
    },
  };
}
