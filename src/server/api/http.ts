// tRPC over HTTP (fetch API). Used by the Next route handler and by the HTTP integration tests,
// so both exercise exactly the same code. Before any procedure runs: at most
// ARMORY_TRPC_MAX_BATCH procedures per batch (413), a bounded body (413), and no
// cookie-authenticated POST (mutation) from a foreign origin (403).
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { BodyTooLarge, batchSize, isForeignOrigin, readBodyLimited, trpcErrorResponse } from "../http-boundary";
import type { Services } from "../services";
import { CLIENT_IP_HEADER } from "../auth";
import { parseBearer } from "../trust/tokens";
import { fairShare } from "./fair-share";
import { appRouter } from "./root";
import { createContext } from "./trpc";

export const TRPC_ENDPOINT = "/api/trpc";

export async function handleTrpcRequest(req: Request, services: Services): Promise<Response> {
  const requestId = req.headers.get("x-request-id") ?? crypto.randomUUID();
  const { limits, publicUrl } = services.config;
  const baseHeaders = { "x-request-id": requestId, "cache-control": "no-store" };

  const procedures = batchSize(new URL(req.url), TRPC_ENDPOINT);
  if (procedures > limits.maxBatch) {
    return trpcErrorResponse(
      "PAYLOAD_TOO_LARGE",
      413,
      `A batch may hold at most ${limits.maxBatch} procedure calls; this one has ${procedures}. Send fewer at once.`,
      baseHeaders,
    );
  }
  // Cookies ride along on cross-site requests; machine tokens do not (a page cannot set them).
  if (req.method === "POST" && !parseBearer(req.headers.get("authorization")) && isForeignOrigin(req.headers, publicUrl, services.config.trustProxy)) {
    return trpcErrorResponse("FORBIDDEN", 403, "Cross-site requests cannot change anything: this request came from another origin.", baseHeaders);
  }
  let request = req;
  if (req.method !== "GET" && req.method !== "HEAD") {
    let body: Uint8Array | null;
    try {
      body = await readBodyLimited(req, limits.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        return trpcErrorResponse("PAYLOAD_TOO_LARGE", 413, `The request body is larger than the ${limits.maxBodyBytes} bytes allowed.`, {
          ...baseHeaders,
          connection: "close",
        });
      }
      throw err;
    }
    request = new Request(req.url, { method: req.method, headers: req.headers, body: body as BodyInit | null, signal: req.signal });
  }

  // One caller's requests take turns (a few at once, the rest wait before any work, even before
  // the session lookup), so a caller's burst cannot fill the event loop and the database queue
  // ahead of everybody else. Subscriptions (long-lived) are not counted.
  const subscription = isSubscriptionRequest(req.url);
  const release = subscription ? null : await fairShare("requests", limits.requestsPerUser, limits.queuedCallsPerUser).acquire(callerKey(req.headers));
  if (release === null && !subscription) {
    return trpcErrorResponse("TOO_MANY_REQUESTS", 429, "Too many requests at once from this caller; slow down and try again.", baseHeaders);
  }
  try {
    return await serve(request, services, requestId, baseHeaders);
  } finally {
    release?.();
  }
}

/** Who a request is from, without a database lookup: its token or session cookie (else its address). */
function callerKey(headers: Headers): string {
  const bearer = parseBearer(headers.get("authorization"));
  if (bearer) return `http-token:${bearer.slice(0, 64)}`;
  const session = /(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=([^;]{1,512})/.exec(headers.get("cookie") ?? "")?.[1];
  if (session) return `http-session:${session}`;
  return `http-ip:${headers.get(CLIENT_IP_HEADER) ?? "unknown"}`;
}

function isSubscriptionRequest(url: string): boolean {
  const u = new URL(url);
  if (u.searchParams.get("batch") === "1") return false;
  const path = decodeURIComponent(u.pathname.slice(TRPC_ENDPOINT.length + 1));
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } } | undefined>;
  return procedures[path]?._def.type === "subscription";
}

function serve(request: Request, services: Services, requestId: string, baseHeaders: Record<string, string>): Promise<Response> {
  const req = request;
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req: request,
    router: appRouter,
    createContext: ({ info }) =>
      createContext({ services, headers: req.headers, requestId, connectionParams: info.connectionParams }),
    responseMeta() {
      return { headers: new Headers(baseHeaders) };
    },
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        services.log.error({ requestId, path, err: error.cause ?? error }, "tRPC request failed");
      }
    },
  });
}
