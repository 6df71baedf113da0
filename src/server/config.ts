// The one place Armory reads its environment. Validated by zod at start; a bad value stops the
// server with a message that names the variable and says what is wrong.
import path from "node:path";
import { z } from "zod";
import { parseConstraint } from "../contracts/placement";
import { EngineConfigError, parseEngineEndpoint, type EngineEndpoint } from "./runtime/docker/host";
import { GitProviderConfigError, parseGitProviderHosts, type GitProviderHost } from "./git/providers/hosts";

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const configSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(1, "must be between 1 and 65535")
    .max(65535, "must be between 1 and 65535")
    .default(3000),
  ARMORY_BIND_ADDRESS: z
    .string()
    .regex(/^[0-9a-fA-F:.]+$|^localhost$/, "must be an IP address such as 127.0.0.1 or 0.0.0.0")
    .default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
      message: "must be a postgres:// or postgresql:// URL (leave it unset for the embedded database)",
    }),
  ARMORY_DATA_DIR: z.string().min(1).default("./data"),
  ARMORY_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://armory.example.com" })
    .optional(),
  ARMORY_AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  ARMORY_TRUST_PROXY: booleanFlag.default(false),
  ARMORY_SIGN_UP: z
    .enum(["invite", "open", "closed"], { error: "must be invite, open or closed" })
    .default("invite"),
  ARMORY_SIGN_IN_RATE_LIMIT: z.coerce.number().int().min(1).max(10_000).default(10),
  ARMORY_SIGN_IN_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  ARMORY_TOKEN_FAIL_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(20),
  ARMORY_TOKEN_FAIL_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  // Snapshots (src/server/snapshots): where the archives go, and the per-project limits.
  ARMORY_SNAPSHOT_DIR: z.string().min(1).optional(),
  ARMORY_SNAPSHOT_MAX_PER_PROJECT: z.coerce.number({ error: "must be a number" }).int().min(1, "must be at least 1").max(10_000).default(20),
  ARMORY_SNAPSHOT_MAX_PROJECT_MB: z.coerce.number({ error: "must be a number of MB" }).int().min(1, "must be at least 1").max(100_000_000).default(10_240),
  ARMORY_AUDIT_RETENTION_DAYS: z.coerce
    .number({ error: "must be a number of days" })
    .int("must be a whole number of days")
    .min(0, "must be 0 (keep forever) or more")
    .max(36_500, "must be at most 36500")
    .default(90),
  ARMORY_AGENT_NETWORK: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a Docker network name")
    .refine((v) => !["host", "none", "bridge"].includes(v), {
      message: "must be a user network Armory can create (host, none and bridge cannot isolate projects)",
    })
    .default("armory"),
  ARMORY_PROJECT_SUBNETS: z
    .string()
    .regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\/(?:[89]|1\d|2[0-4])$/, "must be an IPv4 CIDR from /8 to /24, e.g. 10.200.0.0/14")
    .default("10.200.0.0/14"),
  ARMORY_EGRESS_ALLOW_PRIVATE: booleanFlag.default(false),
  ARMORY_WEBHOOKS_ALLOW_PRIVATE: booleanFlag.default(false),
  ARMORY_AGENT_IMAGE_AUTOBUILD: booleanFlag.default(true),
  ARMORY_SECRET_KEY: z
    .string()
    .trim()
    .regex(
      /^[0-9a-fA-F]{64}$|^[A-Za-z0-9+/_-]{43}=?$/,
      "must be 32 random bytes as 64 hex characters (openssl rand -hex 32) or base64 (openssl rand -base64 32)",
    )
    .optional()
    .or(z.literal("").transform(() => undefined)),
  ARMORY_UPDATE_HEALTH_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(60),
  ARMORY_METRICS_TOKEN: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || v.length >= 16, { message: "must be at least 16 characters" }),
  ARMORY_HEALTH_CHECK_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  ARMORY_HTTP_HEADERS_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  ARMORY_HTTP_BODY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  ARMORY_TRPC_MAX_BATCH: z.coerce.number().int().min(1).max(1000).default(20),
  ARMORY_MAX_SUBSCRIPTIONS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(64),
  ARMORY_MAX_SUBSCRIPTIONS_PER_TOKEN: z.coerce.number().int().min(1).max(100_000).default(32),
  ARMORY_MAX_LIVE_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(32),
  ARMORY_DOCKER_MAX_SOCKETS: z.coerce.number().int().min(2).max(1024).default(32),
  ARMORY_MAX_CONCURRENT_REQUESTS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(4),
  ARMORY_MAX_CONCURRENT_CALLS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(8),
  ARMORY_MAX_QUEUED_CALLS_PER_USER: z.coerce.number().int().min(0).max(100_000).default(1000),
  ARMORY_FILES_MAX_BYTES: z.coerce
    .number({ error: "must be a number of bytes" })
    .int("must be a whole number of bytes")
    .min(1024, "must be at least 1024 bytes")
    .max(256 * 1024 * 1024, "must be at most 268435456 (256 MiB)")
    .default(10 * 1024 * 1024),
  ANTHROPIC_BASE_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://api.anthropic.com" })
    .default("https://api.anthropic.com"),
  ANTHROPIC_API_KEY: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined)),
  ARMORY_GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ARMORY_GATEWAY_CONNECT_TIMEOUT_SECONDS: z.coerce.number({ error: "must be a number of seconds" }).int().min(1).max(300).default(10),
  ARMORY_GATEWAY_UPSTREAM_TIMEOUT_SECONDS: z.coerce.number({ error: "must be a number of seconds" }).int().min(1).max(86_400).default(600),
  ARMORY_GATEWAY_IDLE_TIMEOUT_SECONDS: z.coerce.number({ error: "must be a number of seconds" }).int().min(1).max(3600).default(300),
  ARMORY_GATEWAY_MAX_RESPONSE_BYTES: z.coerce
    .number({ error: "must be a number of bytes" })
    .int("must be a whole number of bytes")
    .min(1024, "must be at least 1024 bytes")
    .max(1024 * 1024 * 1024, "must be at most 1073741824 (1 GiB)")
    .default(64 * 1024 * 1024),
  ARMORY_GATEWAY_MAX_REQUEST_BYTES: z.coerce
    .number({ error: "must be a number of bytes" })
    .int("must be a whole number of bytes")
    .min(1024, "must be at least 1024 bytes")
    .max(256 * 1024 * 1024, "must be at most 268435456 (256 MiB)")
    .default(64 * 1024 * 1024),
  ARMORY_GATEWAY_URL: z
    // http only: the project relays copy the agents' plain-http bytes to it unchanged.
    .url({ protocol: /^http$/, error: "must be an http:// URL the project relays can reach on the uplink network, e.g. http://armory:3000/api/gateway/anthropic" })
    .optional(),
  ARMORY_CHAT_WARM: booleanFlag.default(true),
  ARMORY_CHAT_PREWARM: booleanFlag.default(true),
  ARMORY_CHAT_IDLE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  ARMORY_CHAT_TURN_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(86_400).default(1800),
  ARMORY_GIT_PROVIDERS: z.string().optional(),
  ARMORY_RUNTIME: z.enum(["docker", "swarm"], { error: 'must be "docker" (one engine) or "swarm" (a Docker Swarm manager)' }).default("docker"),
  ARMORY_SWARM_CONSTRAINTS: z
    .string()
    .max(2000)
    .optional()
    .refine(
      (v) => !v || v.split(",").every((c) => parseConstraint(c) !== null),
      { message: "must be comma-separated placement constraints such as node.labels.armory==agents" },
    ),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty", "auto"]).optional(),
});

export type RawConfig = z.infer<typeof configSchema>;
/** invite: only with an invitation; open: anyone; closed: nobody (except the very first account). */
export type SignUpMode = RawConfig["ARMORY_SIGN_UP"];

export interface Config {
  env: RawConfig["NODE_ENV"];
  port: number;
  bindAddress: string;
  databaseUrl: string | undefined;
  dataDir: string;
  publicUrl: string | undefined;
  authSecret: string | undefined;
  trustProxy: boolean;
  signInRateLimit: { max: number; windowSeconds: number };
  /** Who may create an account after the first one (which becomes the instance admin): see instance/door.ts. */
  signUp: SignUpMode;
  /** Failed machine-token attempts allowed per client address per window. */
  tokenFailRateLimit: { max: number; windowSeconds: number };
  /** Audit entries older than this many days are deleted (hourly); 0 keeps them forever. */
  auditRetentionDays: number;
  /** Snapshot archives: <dir>/<projectId>/<id>.tar.gz; at most `maxPerProject` and `maxProjectBytes` per project. */
  snapshots: { dir: string; maxPerProject: number; maxProjectBytes: number };
  /** The uplink network: Armory's gateway listens on it; only the per-project egress relays join it. */
  agentNetwork: string;
  /** Which engine runs the agents: one Docker engine, or a Docker Swarm (DOCKER_HOST names a manager). */
  runtime: { kind: "docker" | "swarm"; constraints: string[] };
  /** The container engine: DOCKER_HOST (unix://, tcp:// with TLS when DOCKER_TLS_VERIFY/DOCKER_CERT_PATH are set, ssh://), default the local socket. */
  engine: EngineEndpoint;
  /** CIDR the per-project networks' /24 subnets are cut from. */
  projectSubnets: string;
  /** The egress proxy may connect to loopback/private/link-local addresses (tests, trusted LANs). */
  egressAllowPrivate: boolean;
  /** Notification webhooks may be sent to loopback/private/link-local addresses (tests, trusted LANs). */
  webhooksAllowPrivate: boolean;
  /** Build the default agent image at start when it is missing. */
  agentImageAutobuild: boolean;
  /** Master key for secrets at rest (unset: generated into the data directory). */
  secretKey: string | undefined;
  /** How long a re-created container may take to answer its health probe before the update rolls back. */
  updateHealthTimeoutMs: number;
  /** Largest file the files API reads or writes, in bytes. */
  filesMaxBytes: number;
  /** Where the model gateway forwards agents' requests; apiKey unset means the built-in demo model answers. */
  model: { baseUrl: string; apiKey: string | undefined };
  /** Gateway listener on the agent network's gateway address (port; undefined = PORT) and the URL override. */
  gateway: {
    port: number | undefined;
    url: string | undefined;
    /** Upstream bounds: connecting (DNS, TCP, TLS), the whole exchange, silence before headers or between chunks. */
    connectTimeoutMs: number;
    upstreamTimeoutMs: number;
    idleTimeoutMs: number;
    /** Largest upstream response body forwarded (cut beyond) and largest agent request body read (413 beyond). */
    maxResponseBytes: number;
    maxRequestBytes: number;
  };
  chat: { warm: boolean; prewarm: boolean; idleSeconds: number; turnTimeoutSeconds: number };
  /** Git hosts pull requests may be opened on: github.com, gitlab.com and ARMORY_GIT_PROVIDERS' entries. */
  gitProviders: GitProviderHost[];
  logLevel: RawConfig["LOG_LEVEL"];
  /** `auto`: pretty when stdout is a terminal, JSON otherwise. */
  logFormat: "json" | "pretty" | "auto";
  /** Bearer token /metrics requires; unset: /metrics is open. */
  metricsToken: string | undefined;
  /** How often running agents are health-checked (their daemon's connection and heartbeat). */
  healthCheckIntervalSeconds: number;
  /** Limits at the HTTP and tRPC boundary (issue 12 item 7). */
  limits: {
    /** Time to receive a request's headers / its whole body (a slow body is cut with 408). */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    /** Procedures per tRPC batch (413 beyond). */
    maxBatch: number;
    /** Largest tRPC request body: a files.write of ARMORY_FILES_MAX_BYTES in base64 plus 1 MiB (413 beyond). */
    maxBodyBytes: number;
    /** Open subscriptions per user and per machine token (429 beyond). */
    subscriptionsPerUser: number;
    subscriptionsPerToken: number;
    /** Open live connections (WebSockets at /api/trpc-ws, one per browser tab) per caller (refused beyond). */
    liveConnectionsPerUser: number;
    /** Connections to the Docker engine at once for ordinary calls (more queue); streams have their own. */
    dockerMaxSockets: number;
    /** tRPC HTTP requests (batches) and procedure calls one caller has served at once; more wait (up to queuedCallsPerUser, then 429). */
    requestsPerUser: number;
    callsPerUser: number;
    queuedCallsPerUser: number;
  };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = issue.path.join(".");
        const value = env[key];
        const secretish = ["SECRET", "TOKEN", "KEY"].some((w) => key.includes(w)) || key === "DATABASE_URL";
        const shown = secretish ? "" : ` (got "${value}")`;
        return `${key}: ${issue.message}${value === undefined ? "" : shown}`;
      }),
    );
  }
  const c = parsed.data;
  let engine: EngineEndpoint;
  try {
    engine = parseEngineEndpoint(env);
  } catch (err) {
    if (!(err instanceof EngineConfigError)) throw err;
    // The value is shown unless it could carry a password (ssh://user:secret@host).
    const value = env[err.variable];
    const shown = value && !/\/\/[^/@]*:[^/@]*@/.test(value) ? ` (got "${value}")` : "";
    throw new ConfigError([`${err.variable}: ${err.problem}${shown}`]);
  }
  let gitProviders: GitProviderHost[];
  try {
    gitProviders = parseGitProviderHosts(c.ARMORY_GIT_PROVIDERS);
  } catch (err) {
    if (!(err instanceof GitProviderConfigError)) throw err;
    throw new ConfigError([`ARMORY_GIT_PROVIDERS: ${err.message.replace(/^ARMORY_GIT_PROVIDERS /, "")}`]);
  }
  return {
    runtime: {
      kind: c.ARMORY_RUNTIME,
      constraints: (c.ARMORY_SWARM_CONSTRAINTS ?? "").split(",").map((x) => x.trim()).filter(Boolean),
    },
    engine,
    env: c.NODE_ENV,
    port: c.PORT,
    bindAddress: c.ARMORY_BIND_ADDRESS,
    databaseUrl: c.DATABASE_URL,
    dataDir: path.resolve(c.ARMORY_DATA_DIR),
    publicUrl: c.ARMORY_PUBLIC_URL?.replace(/\/+$/, ""),
    authSecret: c.ARMORY_AUTH_SECRET,
    trustProxy: c.ARMORY_TRUST_PROXY,
    signUp: c.ARMORY_SIGN_UP,
    signInRateLimit: { max: c.ARMORY_SIGN_IN_RATE_LIMIT, windowSeconds: c.ARMORY_SIGN_IN_RATE_WINDOW_SECONDS },
    tokenFailRateLimit: { max: c.ARMORY_TOKEN_FAIL_RATE_LIMIT, windowSeconds: c.ARMORY_TOKEN_FAIL_RATE_WINDOW_SECONDS },
    auditRetentionDays: c.ARMORY_AUDIT_RETENTION_DAYS,
    snapshots: {
      dir: path.resolve(c.ARMORY_SNAPSHOT_DIR ?? path.join(c.ARMORY_DATA_DIR, "snapshots")),
      maxPerProject: c.ARMORY_SNAPSHOT_MAX_PER_PROJECT,
      maxProjectBytes: c.ARMORY_SNAPSHOT_MAX_PROJECT_MB * 1024 * 1024,
    },
    agentNetwork: c.ARMORY_AGENT_NETWORK,
    projectSubnets: c.ARMORY_PROJECT_SUBNETS,
    egressAllowPrivate: c.ARMORY_EGRESS_ALLOW_PRIVATE,
    webhooksAllowPrivate: c.ARMORY_WEBHOOKS_ALLOW_PRIVATE,
    agentImageAutobuild: c.ARMORY_AGENT_IMAGE_AUTOBUILD,
    secretKey: c.ARMORY_SECRET_KEY,
    updateHealthTimeoutMs: c.ARMORY_UPDATE_HEALTH_TIMEOUT_SECONDS * 1000,
    filesMaxBytes: c.ARMORY_FILES_MAX_BYTES,
    model: { baseUrl: c.ANTHROPIC_BASE_URL.replace(/\/+$/, ""), apiKey: c.ANTHROPIC_API_KEY },
    gateway: {
      port: c.ARMORY_GATEWAY_PORT,
      url: c.ARMORY_GATEWAY_URL?.replace(/\/+$/, ""),
      connectTimeoutMs: c.ARMORY_GATEWAY_CONNECT_TIMEOUT_SECONDS * 1000,
      upstreamTimeoutMs: c.ARMORY_GATEWAY_UPSTREAM_TIMEOUT_SECONDS * 1000,
      idleTimeoutMs: c.ARMORY_GATEWAY_IDLE_TIMEOUT_SECONDS * 1000,
      maxResponseBytes: c.ARMORY_GATEWAY_MAX_RESPONSE_BYTES,
      maxRequestBytes: c.ARMORY_GATEWAY_MAX_REQUEST_BYTES,
    },
    gitProviders,
    chat: { warm: c.ARMORY_CHAT_WARM, prewarm: c.ARMORY_CHAT_PREWARM, idleSeconds: c.ARMORY_CHAT_IDLE_SECONDS, turnTimeoutSeconds: c.ARMORY_CHAT_TURN_TIMEOUT_SECONDS },
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT ?? (c.NODE_ENV === "development" ? "pretty" : "auto"),
    metricsToken: c.ARMORY_METRICS_TOKEN,
    healthCheckIntervalSeconds: c.ARMORY_HEALTH_CHECK_INTERVAL_SECONDS,
    limits: {
      headersTimeoutMs: Math.min(c.ARMORY_HTTP_HEADERS_TIMEOUT_SECONDS, c.ARMORY_HTTP_BODY_TIMEOUT_SECONDS) * 1000,
      requestTimeoutMs: c.ARMORY_HTTP_BODY_TIMEOUT_SECONDS * 1000,
      maxBatch: c.ARMORY_TRPC_MAX_BATCH,
      maxBodyBytes: Math.ceil(c.ARMORY_FILES_MAX_BYTES / 3) * 4 + 1024 * 1024,
      subscriptionsPerUser: c.ARMORY_MAX_SUBSCRIPTIONS_PER_USER,
      subscriptionsPerToken: c.ARMORY_MAX_SUBSCRIPTIONS_PER_TOKEN,
      liveConnectionsPerUser: c.ARMORY_MAX_LIVE_CONNECTIONS_PER_USER,
      dockerMaxSockets: c.ARMORY_DOCKER_MAX_SOCKETS,
      requestsPerUser: c.ARMORY_MAX_CONCURRENT_REQUESTS_PER_USER,
      callsPerUser: c.ARMORY_MAX_CONCURRENT_CALLS_PER_USER,
      queuedCallsPerUser: c.ARMORY_MAX_QUEUED_CALLS_PER_USER,
    },
  };
}

/** "PostgreSQL at host:port/db": a database URL without its credentials, for logs and errors. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL at ${u.hostname}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "PostgreSQL (unparseable DATABASE_URL)";
  }
}

/** Describes where the database lives without revealing credentials. */
export function describeDatabase(config: Pick<Config, "databaseUrl" | "dataDir">): string {
  if (!config.databaseUrl) return `embedded PGlite in ${path.join(config.dataDir, "pglite")}`;
  return describePostgresUrl(config.databaseUrl);
}
