// A real HTTP server exposing exactly the handlers the Next routes use, for integration tests
// and the benchmark (no Next build needed).
import http from "node:http";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import superjson from "superjson";
import type { AppRouter } from "../../src/server/api/root";
import { handleTrpcRequest } from "../../src/server/api/http";
import { serveSubscription } from "../../src/server/api/sse";
import { createLiveConnections, upgradeListener, type LiveConnections } from "../../src/server/api/ws";
import { CLIENT_IP_HEADER } from "../../src/server/auth";
import { healthResponse } from "../../src/server/health";
import { hookResponse } from "../../src/server/hooks/endpoint";
import { httpServerOptions } from "../../src/server/http-boundary";
import { metricsResponse, observeHttpRequest } from "../../src/server/metrics";
import { isOpenaiPath, openaiResponse } from "../../src/server/openai";
import type { Services } from "../../src/server/services";

/**
 * Serves /api/trpc, /api/auth, /api/health, /api/hooks/<id>, /api/openai and /metrics (recording request durations as Armory's
 * server does), setting the client address header as Armory's server does, and the live
 * connection (/api/trpc-ws) through the same upgrade listener as Armory's server.
 */
export async function startHttp(
  getServices: () => Services,
  liveOptions?: Parameters<typeof createLiveConnections>[1],
): Promise<{ url: string; live: LiveConnections; close(): Promise<void> }> {
  // The same header/body timeouts as Armory's server (from the services' config).
  const server = http.createServer(httpServerOptions(getServices().config.limits), async (req, res) => {
    const started = performance.now();
    res.on("finish", () =>
      observeHttpRequest(req.method ?? "GET", (req.url ?? "/").split("?")[0] ?? "/", res.statusCode, (performance.now() - started) / 1000),
    );
    // Subscriptions over SSE as Armory's server serves them (src/server/api/sse.ts).
    req.headers[CLIENT_IP_HEADER] = req.socket.remoteAddress ?? "unknown";
    if (serveSubscription(req, res, getServices())) return;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string") headers.set(k, v);
        else if (Array.isArray(v)) for (const item of v) headers.append(k, item);
      }
      headers.set(CLIENT_IP_HEADER, req.socket.remoteAddress ?? "unknown");
      const url = `http://${req.headers.host}${req.url}`;
      const body = chunks.length && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
      // Like Next: the request's signal aborts when the client goes away (ends SSE subscriptions).
      const aborted = new AbortController();
      res.on("close", () => aborted.abort());
      const request = new Request(url, { method: req.method, headers, body, signal: aborted.signal });
      const services = getServices();
      const path = new URL(url).pathname;
      let response: Response;
      if (path.startsWith("/api/trpc")) response = await handleTrpcRequest(request, services);
      else if (path.startsWith("/api/auth")) response = await services.auth.handler(request);
      else if (path === "/api/health") response = await healthResponse(services);
      else if (path.startsWith("/api/hooks/")) response = await hookResponse(request, services);
      else if (isOpenaiPath(path)) response = await openaiResponse(request, services);
      else if (path === "/metrics") {
        const m = await metricsResponse(req.headers.authorization, services.config.metricsToken);
        response = new Response(m.body, { status: m.status, headers: m.headers });
      }
      else response = new Response("not found", { status: 404 });
      res.statusCode = response.status;
      response.headers.forEach((value, key) => {
        if (key !== "set-cookie") res.setHeader(key, value);
      });
      const setCookies = response.headers.getSetCookie();
      if (setCookies.length) res.setHeader("set-cookie", setCookies);
      if (response.body) {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
      }
      res.end();
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  const live = createLiveConnections(getServices, liveOptions);
  // The agent daemons' endpoint too, as on Armory's own server (the current services' hub).
  const hub = { handles: (url: string | undefined) => getServices().hub.handles(url), handleUpgrade: (...a: Parameters<Services["hub"]["handleUpgrade"]>) => getServices().hub.handleUpgrade(...a) };
  server.on("upgrade", upgradeListener(live, { clientIp: (req) => req.socket.remoteAddress ?? "unknown", others: [hub] }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    live,
    close: async () => {
      await live.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/**
 * The typed tRPC client the web app uses, over real HTTP: batched queries and mutations, SSE
 * subscriptions, both with the session cookie when one is given.
 */
export function httpClient(baseUrl: string, cookie?: string) {
  const headers: Record<string, string> = cookie ? { cookie } : {};
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: `${baseUrl}/api/trpc`,
          transformer: superjson,
          EventSource,
          eventSourceOptions: {
            fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
          },
        }),
        // Armory refuses batches of more than 20 (ARMORY_TRPC_MAX_BATCH): the web app's client splits them the same way.
        false: httpBatchLink({ url: `${baseUrl}/api/trpc`, transformer: superjson, headers: () => headers, maxItems: 20 }),
      }),
    ],
  });
}
