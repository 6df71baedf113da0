// Armory's Prometheus metrics (prom-client): one registry per process, kept on globalThis because
// Armory's server and Next's bundles load separate copies of this module. Other code updates the
// metric objects exported here (e.g. chat records turn durations and tokens); GET /metrics serves
// the registry, behind ARMORY_METRICS_TOKEN (Bearer) when one is configured.
import { timingSafeEqual } from "node:crypto";
import client from "prom-client";
import { releasing } from "./streams/releasing";

function create() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "armory_process_" });
  const sources: { agentStates?: () => Promise<Record<string, number>>; statsStreams?: () => number } = {};
  return {
    registry,
    sources,
    httpDuration: new client.Histogram({
      name: "armory_http_request_duration_seconds",
      help: "HTTP request durations by method, route and status",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    openSubscriptions: new client.Gauge({
      name: "armory_open_subscriptions",
      help: "Open tRPC subscriptions (live streams) by procedure",
      labelNames: ["procedure"] as const,
      registers: [registry],
    }),
    agentsByState: new client.Gauge({
      name: "armory_agents",
      help: "Agents by observed state (what Docker last said)",
      labelNames: ["state"] as const,
      registers: [registry],
      async collect() {
        const read = sources.agentStates;
        if (!read) return;
        this.reset();
        try {
          for (const [state, n] of Object.entries(await read())) this.set({ state }, n);
        } catch {
          // database unavailable: report nothing rather than fail the scrape
        }
      },
    }),
    dockerErrors: new client.Counter({
      name: "armory_docker_api_errors_total",
      help: "Docker engine calls that failed, by kind",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    chatTurnDuration: new client.Histogram({
      name: "armory_chat_turn_duration_seconds",
      help: "Chat turn durations, from send to result, by outcome",
      labelNames: ["outcome"] as const,
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    chatTokens: new client.Counter({
      name: "armory_chat_tokens_total",
      help: "Tokens used by chat turns, by type (input, output, cache_read, cache_creation)",
      labelNames: ["type"] as const,
      registers: [registry],
    }),
    healthChecks: new client.Counter({
      name: "armory_agent_health_checks_total",
      help: "Agent health checks (the daemon's connection and heartbeat) by result",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    agentFailures: new client.Counter({
      name: "armory_agent_failures_total",
      help: "Agent containers that crashed or were OOM-killed while meant to run",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    agentRestarts: new client.Counter({
      name: "armory_agent_auto_restarts_total",
      help: "Automatic restarts by the self-heal policy, by result",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    statsStreams: new client.Gauge({
      name: "armory_stats_streams",
      help: "Docker stats streams open (one per running agent)",
      registers: [registry],
      collect() {
        if (sources.statsStreams) this.set(sources.statsStreams());
      },
    }),
  };
}

export type ArmoryMetrics = ReturnType<typeof create>;
const KEY = Symbol.for("armory.metrics");
type WithMetrics = typeof globalThis & { [KEY]?: ArmoryMetrics };

export function metrics(): ArmoryMetrics {
  const g = globalThis as WithMetrics;
  return (g[KEY] ??= create());
}

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * A low-cardinality route name for a request path: tRPC procedures by name (a batch as its
 * names joined by ","), ids replaced by ":id", static assets folded together.
 */
export function routeOf(path: string): string {
  if (path.startsWith("/_next/")) return "/_next/*";
  if (path.startsWith("/api/trpc/")) {
    const names = decodeURIComponent(path.slice("/api/trpc/".length)).split(",");
    return `/api/trpc/${names.map((n) => (/^[A-Za-z0-9_.]{1,80}$/.test(n) ? n : "?")).slice(0, 5).join(",")}`;
  }
  if (path.startsWith("/api/auth/")) return path.replace(UUID_RE, ":id").slice(0, 80);
  const route = path.replace(UUID_RE, ":id");
  return route.length > 80 || /\.[a-z0-9]{2,5}$/i.test(route) ? "/*static*" : route;
}

export function observeHttpRequest(method: string, path: string, status: number, seconds: number): void {
  metrics().httpDuration.observe({ method, route: routeOf(path), status: String(status) }, seconds);
}

/**
 * Counts one open subscription from the moment it is iterated until it ends (however it ends),
 * then calls `onEnd` (what else the stream held: its cap's slot). One wrapper for both.
 */
export function countedSubscription<T>(procedure: string, source: AsyncIterable<T>, onEnd: () => void = () => {}): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const gauge = metrics().openSubscriptions;
      gauge.inc({ procedure });
      return releasing(source, () => {
        gauge.dec({ procedure });
        onEnd();
      })[Symbol.asyncIterator]();
    },
  };
}

function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The /metrics answer: the Prometheus text, or 401 when a token is configured and not presented. */
export async function metricsResponse(
  authorization: string | null | undefined,
  token: string | undefined,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  if (token) {
    const given = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? "";
    if (!tokenMatches(given, token)) {
      return {
        status: 401,
        headers: { "content-type": "text/plain; charset=utf-8", "www-authenticate": 'Bearer realm="armory-metrics"' },
        body: "Metrics need the metrics token: send Authorization: Bearer <ARMORY_METRICS_TOKEN>.\n",
      };
    }
  }
  const registry = metrics().registry;
  return { status: 200, headers: { "content-type": registry.contentType, "cache-control": "no-store" }, body: await registry.metrics() };
}
