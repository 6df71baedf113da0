// Structured logs (pino). Secrets are redacted by key name wherever they appear (pino redacts
// before any formatting, so pretty output is redacted too).
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

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

/** `auto`: human-readable on a terminal, JSON lines otherwise (a pipe, a file, a log collector). */
export type LogFormat = "json" | "pretty" | "auto";

/** The format a logger writes: an explicit choice wins; `auto` is pretty only when stdout is a TTY. */
export function resolveLogFormat(format: LogFormat, stdoutIsTTY: boolean): "json" | "pretty" {
  if (format === "auto") return stdoutIsTTY ? "pretty" : "json";
  return format;
}

export function createLogger(opts: {
  level: string;
  format: LogFormat;
  /** Where lines go (tests capture them); stdout by default. */
  destination?: pino.DestinationStream;
  /** Whether stdout is a terminal (for `auto`); process.stdout.isTTY by default. */
  stdoutIsTTY?: boolean;
}): Logger {
  const base = { level: opts.level, redact: { paths: REDACT, censor: "[redacted]" } };
  const tty = opts.stdoutIsTTY ?? !!process.stdout.isTTY;
  if (resolveLogFormat(opts.format, tty) === "pretty") {
    // In-process (no worker thread): the same redacted object pino would write as JSON, formatted.
    const stream = pretty({
      colorize: !opts.destination && tty,
      ignore: "pid,hostname",
      translateTime: "SYS:HH:MM:ss.l",
      destination: opts.destination ?? 1,
      sync: true,
    });
    return pino(base, stream);
  }
  if (opts.destination) return pino(base, opts.destination);
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
      format: process.env.LOG_FORMAT === "pretty" || process.env.LOG_FORMAT === "json" ? process.env.LOG_FORMAT : "auto",
    });
  }
  return g[LOGGER_KEY];
}

export function setLogger(logger: Logger): void {
  (globalThis as WithLogger)[LOGGER_KEY] = logger;
}
