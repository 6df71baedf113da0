// @armory/client: Armory's typed client for other TypeScript code. Every query, mutation and
// subscription of the app router, authenticated by a machine token.
//
//   import { createArmoryClient } from "@armory/client";
//   const armory = createArmoryClient({ url: "http://127.0.0.1:3000", token: process.env.ARMORY_TOKEN! });
//   const agents = await armory.agent.list.query({ projectId });
//   armory.agent.onStatus.subscribe({ projectId, agentId }, { onData: (e) => console.log(e) });
//
// Queries and mutations send `Authorization: Bearer <token>` (HTTP batching). Subscriptions run
// over SSE: in Node the `eventsource` package (a dependency) is used and the token travels in the
// same header; in a browser (no `EventSource` option and a global one) it travels as the `token`
// connection param instead, because browsers cannot set SSE headers.
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
  type TRPCClient,
} from "@trpc/client";
import type { inferRouterError, inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { EventSource as NodeEventSource } from "eventsource";
import superjson from "superjson";
import type { AppRouter } from "./app-router";

export type { AppRouter };
/** Inputs of every procedure: `RouterInputs["agent"]["create"]`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Outputs of every procedure: `RouterOutputs["agent"]["list"][number]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
/** An error as Armory returns it: message, code, and data (code, httpStatus, path, requestId, fieldErrors). */
export type ErrorShape = inferRouterError<AppRouter>;

/** An EventSource constructor that takes a `fetch` option (e.g. the `eventsource` package). */
export type FetchingEventSource = new (
  url: string,
  init?: { fetch?: (input: string | URL, init?: RequestInit) => Promise<Response> },
) => EventSource;

export interface ArmoryClientOptions {
  /** Armory's base URL, e.g. http://127.0.0.1:3000 (the client adds /api/trpc). */
  url: string;
  /** A machine token (arm_…), created on the Tokens page or with token.create. */
  token: string;
  /**
   * The EventSource for subscriptions. Default: the `eventsource` package outside a browser (the
   * token goes in the Authorization header); `"browser"` uses the global one (the token goes as a
   * connection param).
   */
  EventSource?: FetchingEventSource | "browser";
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Extra headers sent with queries and mutations (e.g. a user agent). */
  headers?: Record<string, string>;
}

export type ArmoryClient = TRPCClient<AppRouter>;

const isBrowser = typeof window !== "undefined" && typeof (globalThis as { document?: unknown }).document !== "undefined";

export function createArmoryClient(opts: ArmoryClientOptions): ArmoryClient {
  const endpoint = `${opts.url.replace(/\/+$/, "")}/api/trpc`;
  const authorization = `Bearer ${opts.token}`;
  const baseFetch = opts.fetch ?? globalThis.fetch;
  const withAuth = (input: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", authorization);
    return baseFetch(input, { ...init, headers });
  };
  const eventSource = opts.EventSource ?? (isBrowser ? "browser" : (NodeEventSource as unknown as FetchingEventSource));
  const subscriptions =
    eventSource !== "browser"
      ? httpSubscriptionLink({
          url: endpoint,
          transformer: superjson,
          EventSource: eventSource as unknown as typeof EventSource,
          eventSourceOptions: () => ({ fetch: withAuth }) as EventSourceInit,
        })
      : httpSubscriptionLink({ url: endpoint, transformer: superjson, connectionParams: () => ({ token: opts.token }) });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: subscriptions,
        false: httpBatchLink({
          url: endpoint,
          transformer: superjson,
          // Armory refuses batches of more than 20 procedures (413).
          maxItems: 20,
          fetch: baseFetch,
          headers: () => ({ ...opts.headers, authorization }),
        }),
      }),
    ],
  });
}

/** An error Armory returned: its tRPC code (e.g. "NOT_FOUND", "UNAUTHORIZED") and HTTP status. */
export interface ArmoryErrorInfo {
  code: string;
  httpStatus: number | undefined;
  message: string;
  requestId: string | undefined;
}

/** The error's code and status when it came from Armory (or the transport), undefined otherwise. */
export function armoryError(error: unknown): ArmoryErrorInfo | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data = (error as TRPCClientError<AppRouter>).data as { code?: string; httpStatus?: number; requestId?: string } | undefined;
  const status = data?.httpStatus ?? (error.meta?.response as { status?: number } | undefined)?.status;
  return {
    code: data?.code ?? (status === 401 ? "UNAUTHORIZED" : status === 403 ? "FORBIDDEN" : status === 404 ? "NOT_FOUND" : "CLIENT_ERROR"),
    httpStatus: status,
    message: error.message,
    requestId: data?.requestId,
  };
}

export { TRPCClientError };
