"use client";
// The browser's tRPC client, through TanStack Query: queries and mutations over httpBatchLink;
// every subscription of the tab over ONE WebSocket (wsLink, /api/trpc-ws), multiplexed, so
// several tabs never exhaust the browser's six HTTP/1.1 connections per host (one SSE stream per
// subscription did). The socket opens with the first subscription (lazy), reconnects with
// back-off, and resumes: each subscription is sent again, with the id of the last tracked event
// it received (chat.stream continues after its last seq); the others start with a snapshot
// (status, stats, the log tail, a running update's steps), and queries refetch after a
// reconnect, since changes made while the socket was down were not delivered.
import { QueryClient, QueryClientProvider, type QueryClient as QueryClientType } from "@tanstack/react-query";
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  TRPCClientError,
  wsLink,
  type TRPCLink,
} from "@trpc/client";
import { observable } from "@trpc/server/observable";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import superjson from "superjson";
import type { AppRouter } from "@/server/api/root";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** The path of the live connection (src/server/api/ws.ts, LIVE_ENDPOINT). */
const LIVE_PATH = "/api/trpc-ws";

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        // Retrying a 4xx never helps; retry only transient failures.
        retry: (count, err) => {
          const status = err instanceof TRPCClientError ? (err.data as { httpStatus?: number } | undefined)?.httpStatus : undefined;
          return count < 2 && (status === undefined || status >= 500);
        },
      },
    },
  });
}

let browserQueryClient: QueryClient | undefined;
function getQueryClient() {
  if (typeof window === "undefined") return makeQueryClient();
  return (browserQueryClient ??= makeQueryClient());
}

/**
 * The tab's live connection: "idle" (no subscription needs it), "connecting" (first open),
 * "live", "reconnecting" (it dropped; subscriptions resume when it is back).
 */
export type LiveConnectionState = "idle" | "connecting" | "live" | "reconnecting";

type WsClient = ReturnType<typeof createWSClient>;

/** Reconnect back-off: about 0.5 s, 1 s, 2 s, 4 s, then every 8-10 s; jittered so tabs do not reconnect in lockstep after a restart. */
function retryDelayMs(attempt: number): number {
  const base = Math.min(10_000, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.2));
}

function createLiveClient(): WsClient {
  return createWSClient({
    url: () => `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}${LIVE_PATH}`,
    // Opens with the first subscription; closes a while after the last one ends.
    lazy: { enabled: true, closeMs: 30_000 },
    retryDelayMs,
    // Notices a dead server (or network) too; the server pings a silent tab the same way.
    keepAlive: { enabled: true, intervalMs: 20_000, pongTimeoutMs: 5_000 },
  });
}

function liveStateOf(client: WsClient | null): LiveConnectionState {
  const s = client?.connectionState.get();
  if (!s || s.state === "idle") return "idle";
  if (s.state === "pending") return "live";
  return s.error ? "reconnecting" : "connecting";
}

/** During server rendering nothing subscribes (subscriptions start in effects); this link only refuses. */
const noLiveOnServer: TRPCLink<AppRouter> = () => () =>
  observable((observer) => observer.error(TRPCClientError.from(new Error("Live updates run in the browser only."))));

const LiveContext = createContext<WsClient | null>(null);

/** The state of this tab's live connection (for a small "Reconnecting…" indicator). */
export function useLiveConnection(): LiveConnectionState {
  const client = useContext(LiveContext);
  return useSyncExternalStore(
    (onChange) => {
      if (!client) return () => {};
      const sub = client.connectionState.subscribe({ next: onChange });
      return () => sub.unsubscribe();
    },
    () => liveStateOf(client),
    () => "idle",
  );
}

/** After a reconnect, every query refetches: what changed while the socket was down was not streamed. */
function useRefetchAfterReconnect(client: WsClient | null, queryClient: QueryClientType) {
  useEffect(() => {
    if (!client) return;
    let previous = liveStateOf(client);
    const sub = client.connectionState.subscribe({
      next: () => {
        const now = liveStateOf(client);
        if (previous === "reconnecting" && now === "live") void queryClient.invalidateQueries();
        previous = now;
      },
    });
    return () => sub.unsubscribe();
  }, [client, queryClient]);
}

export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const queryClient = getQueryClient();
  const [live] = useState(() => (typeof window === "undefined" ? null : createLiveClient()));
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          true: live ? wsLink<AppRouter>({ client: live, transformer: superjson }) : noLiveOnServer,
          // The server refuses batches of more than 20 procedures (413).
          false: httpBatchLink({ url: "/api/trpc", transformer: superjson, maxItems: 20 }),
        }),
      ],
    }),
  );
  useRefetchAfterReconnect(live, queryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <LiveContext.Provider value={live}>
        <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
          {children}
        </TRPCProvider>
      </LiveContext.Provider>
    </QueryClientProvider>
  );
}

/** The message to show a person for any error from a tRPC call. */
export function errorMessage(err: unknown): string {
  if (err instanceof TRPCClientError) return err.message;
  if (err instanceof Error) return err.message;
  return "Something went wrong.";
}
