// Armory's typed client for other TypeScript code: the whole app router's queries, mutations and
// subscriptions, authenticated by a machine token.
//
//   const armory = createArmoryClient({ url: "http://127.0.0.1:3000", token: process.env.ARMORY_TOKEN!, EventSource });
//   const agents = await armory.agent.list.query({ projectId });
//   armory.agent.onStatus.subscribe({ projectId, agentId }, { onData: (e) => console.log(e) });
//
// Queries and mutations send `Authorization: Bearer <token>`. Subscriptions run over SSE: pass
// an EventSource that accepts a `fetch` option (the `eventsource` package, v3+, in Node) and the
// token travels in the same header; with the browser's own EventSource (no `EventSource` option)
// it travels as the `token` connection param instead, because browsers cannot set SSE headers.
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "../server/api/root";

export type { AppRouter };

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
  /** For subscriptions outside a browser: `import { EventSource } from "eventsource"`. */
  EventSource?: FetchingEventSource;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

export type ArmoryClient = TRPCClient<AppRouter>;

export function createArmoryClient(opts: ArmoryClientOptions): ArmoryClient {
  const endpoint = `${opts.url.replace(/\/+$/, "")}/api/trpc`;
  const authorization = `Bearer ${opts.token}`;
  const baseFetch = opts.fetch ?? globalThis.fetch;
  const withAuth = (input: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", authorization);
    return baseFetch(input, { ...init, headers });
  };
  const subscriptions = opts.EventSource
    ? httpSubscriptionLink({
        url: endpoint,
        transformer: superjson,
        EventSource: opts.EventSource as unknown as typeof EventSource,
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
          headers: () => ({ authorization }),
        }),
      }),
    ],
  });
}
