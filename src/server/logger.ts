// Structured logs (pino). Secrets are redacted by key name wherever they appear.
import pino, { type Logger } from "pino";

export type { Logger };

const REDACT = [
  "password",
  "*.password",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "authorization",
  "*.authorization",
  "cookie",
  "*.cookie",
  "headers.cookie",
  "headers.authorization",
  "databaseUrl",
  "*.databaseUrl",
  // Decrypted secrets on their way into a container spec, and container create options.
  "secretEnv",
  "*.secretEnv",
  "*.*.secretEnv",
  "Env",
  "*.Env",
  "secretKey",
  "*.secretKey",
  "apiKey",
  "*.apiKey",
  'headers["x-api-key"]',
];

export function createLogger(opts: {
  level: string;
  format: "json" | "pretty";
  /** Where JSON lines go (tests capture them); stdout by default. */
  destination?: pino.DestinationStream;
}): Logger {
  const base = { level: opts.level, redact: { paths: REDACT, censor: "[redacted]" } };
  if (opts.destination) return pino(base, opts.destination);
  if (opts.format === "pretty") {
    return pino({ ...base, transport: { target: "pino-pretty", options: { colorize: true, ignore: "pid,hostname" } } });
  }
  return pino(base);
}

const LOGGER_KEY = Symbol.for("armory.logger");
type WithLogger = typeof globalThis & { [LOGGER_KEY]?: Logger };

/** The process-wide logger (shared between the custom server and Next's bundles via globalThis). */
export function getLogger(): Logger {
  const g = globalThis as WithLogger;
  if (!g[LOGGER_KEY]) {
    g[LOGGER_KEY] = createLogger({
      level: process.env.LOG_LEVEL ?? "info",
      format: process.env.LOG_FORMAT === "pretty" ? "pretty" : "json",
    });
  }
  return g[LOGGER_KEY];
}

export function setLogger(logger: Logger): void {
  (globalThis as WithLogger)[LOGGER_KEY] = logger;
}
