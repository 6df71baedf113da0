// tRPC over HTTP (fetch API). Used by the Next route handler and by the HTTP integration tests,
// so both exercise exactly the same code. Before any procedure runs: at most
// ARMORY_TRPC_MAX_BATCH procedures per batch (413), a bounded body (413), and no
// cookie-authenticated POST (mutation) from a foreign origin (403).
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { BodyTooLarge, batchSize, isForeignOrigin, readBodyLimited, trpcErrorResponse } from "../http-boundary";
import type { Services } from "../services";
import { parseBearer } from "../trust/tokens";
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
  if (req.method === "POST" && !parseBearer(req.headers.get("authorization")) && isForeignOrigin(req.headers, publicUrl)) {
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
