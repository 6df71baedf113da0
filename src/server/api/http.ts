// tRPC over HTTP (fetch API). Used by the Next route handler and by the HTTP integration tests,
// so both exercise exactly the same code.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Services } from "../services";
import { appRouter } from "./root";
import { createContext } from "./trpc";

export const TRPC_ENDPOINT = "/api/trpc";

export function handleTrpcRequest(req: Request, services: Services): Promise<Response> {
  const requestId = req.headers.get("x-request-id") ?? crypto.randomUUID();
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req,
    router: appRouter,
    createContext: ({ info }) =>
      createContext({ services, headers: req.headers, requestId, connectionParams: info.connectionParams }),
    responseMeta() {
      return { headers: new Headers({ "x-request-id": requestId, "cache-control": "no-store" }) };
    },
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        services.log.error({ requestId, path, err: error.cause ?? error }, "tRPC request failed");
      }
    },
  });
}
