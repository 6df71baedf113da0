// The armoryd protocol: the one contract between Armory and the agent daemon in each agent
// container (src/armoryd/). Both sides import this module; nothing else defines these messages.
//
// Transport: one WebSocket per daemon, dialled by armoryd to Armory's gateway listener at
// AGENTD_PATH, with `Authorization: Bearer <the agent's gateway token>`. Every frame is one JSON
// text message validated by `daemonMessage` (daemon -> Armory) or `armoryMessage` (Armory ->
// daemon). Nothing listens inside the container.
//
// Conversation:
//   1. daemon -> hello         who it is (daemonId is new at every daemon start), the protocol
//                              version it speaks, what it can do, which processes and terminals it
//                              still runs.
//   2. Armory -> welcome       `protocol`: the version both speak (the lower of the two; Armory
//                              accepts MIN_PROTOCOL_VERSION to PROTOCOL_VERSION and closes others
//                              with CLOSE_PROTOCOL). `resumeAfter`: the last event seq Armory holds
//                              from this daemonId (null: a daemon Armory has not seen, so nothing
//                              is replayed).
//   3. daemon -> events*       sequenced events (seq 1, 2, ... per daemonId), several to a frame:
//                              the events of one event-loop turn (and a replay) go out together,
//                              with contiguous seqs, in frames of at most EVENTS_FRAME_BYTES (one
//                              bigger event goes alone). Protocol 1 sends one `event` frame per
//                              event instead (Armory accepts both). The daemon keeps every event
//                              until Armory acks it and, after a reconnect, replays those after
//                              `resumeAfter`, so none is lost or delivered twice.
//      Armory -> ack           the highest seq received (at least every ACK_EVERY events or
//                              ACK_INTERVAL_MS).
//   4. Armory -> request       { id, method, params }: one of `requestMethods` below.
//      daemon -> response      { id, ok, result | error }. Not sequenced: a request whose
//                              connection is lost fails on Armory's side (the caller retries).
//   5. both ways: ping/pong    heartbeats every HEARTBEAT_MS; a side that hears nothing for
//                              DEAD_AFTER_MS closes the socket. The daemon's pings carry its
//                              self-report (memory, processes, load): Armory's health check.
import { z } from "zod";

/**
 * The version this side speaks. 2: `events` frames (batches). A daemon refused with CLOSE_PROTOCOL
 * by an Armory that only speaks 1 says hello again with 1.
 */
export const PROTOCOL_VERSION = 2;
/** The oldest daemon protocol Armory accepts (agents on older images keep running until updated). */
export const MIN_PROTOCOL_VERSION = 1;
/** The first version whose daemons send `events` frames. */
export const BATCH_PROTOCOL_VERSION = 2;
/** The size an `events` frame is cut at (its events' JSON; one bigger event is sent alone). */
export const EVENTS_FRAME_BYTES = 256 * 1024;
/** The WebSocket path on the gateway listener. */
export const AGENTD_PATH = "/api/agentd";
export const HEARTBEAT_MS = 5_000;
export const DEAD_AFTER_MS = 15_000;
export const ACK_EVERY = 256;
export const ACK_INTERVAL_MS = 200;
/** Reconnect back-off of the daemon: from MIN to MAX, doubling, with jitter. */
export const RECONNECT_MIN_MS = 250;
export const RECONNECT_MAX_MS = 10_000;
/**
 * Close codes Armory uses besides 1001 (going away) and 1002 (protocol error): a daemon closed
 * with one of these retries at RECONNECT_MAX_MS, not at once (another daemon of the same agent,
 * e.g. a safe re-create's new container, holds the connection). 4002: protocol version refused.
 */
export const CLOSE_REPLACED = 4000;
export const CLOSE_SUPERSEDED = 4009;
export const CLOSE_PROTOCOL = 4002;
/** Largest frame either side sends or accepts (a files.write of ARMORY_FILES_MAX_BYTES in base64 fits). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Longest stdout line of a process kept whole; longer ones become one `proc.overflow` event. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/**
 * fs.watch: directory watches (not recursive) per daemon. inotify watches are a per-user kernel
 * budget shared by every container on the host, so a daemon holds at most MAX_WATCHES; one more
 * is refused ("limit"). Changes are reported per directory once WATCH_QUIET_MS pass without a new
 * one, at the latest WATCH_MAX_MS after the first, with at most WATCH_MAX_PATHS paths an event.
 */
export const MAX_WATCHES = 64;
export const WATCH_QUIET_MS = 100;
export const WATCH_MAX_MS = 500;
export const WATCH_MAX_PATHS = 200;

// ---------------------------------------------------------------- the container contract
// The agent container's layout, defined once (the image's Dockerfile creates the same).

export const AGENT_UID = 1000;
export const AGENT_GID = 1000;
export const AGENT_USER = `${AGENT_UID}:${AGENT_GID}`;
export const WORKSPACE_DIR = "/workspace";
export const HOME_DIR = "/home/agent";
export const CLAUDE_CONFIG_DIR = "/home/agent/.claude";
/** The agent's memory notes (appended to the system prompt when present). */
export const MEMORY_FILE = "/home/agent/.claude/memory.md";
/** The roots the files API may touch (the agent's volumes). */
export const FILE_ROOTS = [WORKSPACE_DIR, CLAUDE_CONFIG_DIR] as const;
/** The daemon binary in the agent image (the container's command). */
export const ARMORYD_BIN = "/usr/local/bin/armoryd";
/** Environment Armory gives the container so armoryd can dial home. */
export const ENV_DAEMON_URL = "ARMORY_DAEMON_URL";
export const ENV_AGENT_TOKEN = "ARMORY_AGENT_TOKEN";

/** exec.run bounds: arguments, stdin, time and captured output of one command. */
export const EXEC_MAX_ARGS = 256;
export const EXEC_MAX_ARG_CHARS = 64 * 1024;
export const EXEC_MAX_STDIN_CHARS = 1024 * 1024;
export const EXEC_MAX_TIMEOUT_MS = 30 * 60_000;
export const EXEC_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** The capability of a daemon that runs git over ssh: exec.run `files` and `armoryd connect` (image r6 on). */
export const GIT_SSH_ACTION = "git-ssh";
/** Largest private file of one command (exec.run `files`): a deploy key or a known_hosts list. */
export const EXEC_MAX_FILE_CHARS = 64 * 1024;

// ---------------------------------------------------------------- shared shapes

export const fileType = z.enum(["file", "directory", "symlink", "other"]);
export type FileType = z.infer<typeof fileType>;

export const fileEntry = z.object({
  name: z.string(),
  path: z.string(),
  type: fileType,
  size: z.number(),
  /** Permission bits, e.g. 0o644. */
  mode: z.number(),
  /** Milliseconds since the epoch. */
  modifiedAt: z.number(),
  /** For symlinks: where the link points (as written), and what is there. */
  symlinkTarget: z.string().nullable(),
  targetType: z.union([fileType, z.literal("missing")]).nullable(),
});
export type WireFileEntry = z.infer<typeof fileEntry>;

export const resolvedPath = z.object({
  requested: z.string(),
  /** The path with every symlink resolved (may not exist). */
  resolved: z.string(),
  /** The deepest existing ancestor of `resolved` (itself when it exists). */
  existingAncestor: z.string(),
  /** What is at `resolved`, null when nothing is. */
  type: fileType.nullable(),
  ancestorType: fileType,
  /** The requested path itself, not following a final symlink (null when nothing is there). */
  ownType: fileType.nullable(),
  size: z.number(),
  mode: z.number(),
  /** Milliseconds since the epoch, null when nothing is there. */
  modifiedAt: z.number().nullable(),
});
export type WireResolvedPath = z.infer<typeof resolvedPath>;

/** Why a file operation failed (mapped to a 4xx by Armory). */
export const fileErrorKind = z.enum([
  "missing",
  "symlink",
  "notdir",
  "denied",
  "readonly",
  "isdir",
  "nospace",
  "exists",
  "crossdev",
  "invalid",
  "toolarge",
  "offset",
  "outside",
  "io",
]);
export type FileErrorKind = z.infer<typeof fileErrorKind>;

export const capabilities = z.object({
  agentVersion: z.string(),
  claudeVersion: z.string(),
  writablePaths: z.array(z.string()),
  configDir: z.string(),
  instructionsDir: z.string(),
  /** Patterns (a trailing /* means every file in that directory). */
  instructionFiles: z.array(z.string()),
  configWatcher: z.string(),
  supportedActions: z.array(z.string()),
});
export type DaemonCapabilities = z.infer<typeof capabilities>;

export const processInfo = z.object({ procId: z.string(), pid: z.number(), alive: z.boolean() });

export const selfReport = z.object({
  /** The daemon's own resident memory. */
  rssBytes: z.number(),
  /** Chat processes running. */
  processes: z.number(),
  terminals: z.number(),
  /** 1-minute load average of the container's host. */
  load1: z.number(),
  uptimeMs: z.number(),
  /** What stops the agent from working (e.g. the Claude Code CLI is not on PATH); empty when healthy. */
  problems: z.array(z.string()).default([]),
  /** Directory watches held (fs.watch), at most MAX_WATCHES. */
  watches: z.number().int().nonnegative().default(0),
});
export type SelfReport = z.infer<typeof selfReport>;

// ---------------------------------------------------------------- requests (Armory -> daemon)

const b64 = z.string(); // base64 bytes

export const requestMethods = {
  /** Starts a Claude Code process as the agent user, in its own process group. */
  "proc.spawn": {
    params: z.object({
      procId: z.string().min(1).max(100),
      /** The CLI and its arguments (argv[0] is looked up in PATH). */
      argv: z.array(z.string()).min(1),
      env: z.record(z.string(), z.string()),
      cwd: z.string(),
      /** Appended with --append-system-prompt, after the memory notes are added by the daemon. */
      systemPrompt: z.string(),
      memoryFile: z.string().nullable(),
      /** Close stdin after the first write (one-shot turns). */
      oneShot: z.boolean(),
    }),
    result: z.object({ pid: z.number() }),
  },
  /** Writes to the process's stdin (one stream-json line). */
  "proc.write": { params: z.object({ procId: z.string(), data: z.string() }), result: z.object({}) },
  "proc.closeInput": { params: z.object({ procId: z.string() }), result: z.object({}) },
  /** Kills the process group (SIGTERM, then SIGKILL after graceMs); answers when it is gone. */
  "proc.kill": { params: z.object({ procId: z.string(), graceMs: z.number().int().min(0).max(30_000) }), result: z.object({ killed: z.boolean() }) },
  /** Kills every process not in `keep` (Armory restarted and no longer knows them). */
  "proc.killOthers": { params: z.object({ keep: z.array(z.string()) }), result: z.object({ killed: z.array(z.string()) }) },

  "fs.resolve": { params: z.object({ paths: z.array(z.string()).min(1).max(16) }), result: z.object({ paths: z.array(resolvedPath) }) },
  "fs.list": {
    params: z.object({ path: z.string(), limit: z.number().int().positive(), shownPath: z.string() }),
    result: z.object({ entries: z.array(fileEntry), truncated: z.boolean() }),
  },
  "fs.read": {
    params: z.object({ root: z.string(), path: z.string(), maxBytes: z.number().int().nonnegative() }),
    result: z.object({ content: b64, size: z.number(), mode: z.number(), modifiedAt: z.number() }),
  },
  "fs.write": {
    params: z.object({
      root: z.string(),
      path: z.string(),
      content: b64,
      mode: z.number().int(),
      /** Milliseconds since the epoch. */
      mtime: z.number(),
      createDirs: z.boolean(),
      /** Never replace an existing name (atomic create-if-absent). */
      exclusive: z.boolean(),
    }),
    result: z.object({ size: z.number() }),
  },
  "fs.append": {
    params: z.object({ root: z.string(), path: z.string(), content: b64, offset: z.number().int().nonnegative(), maxBytes: z.number().int() }),
    result: z.object({ size: z.number() }),
  },
  "fs.mkdir": { params: z.object({ root: z.string(), path: z.string(), mode: z.number().int(), createDirs: z.boolean() }), result: z.object({}) },
  "fs.rename": {
    params: z.object({ root: z.string(), path: z.string(), toRoot: z.string(), to: z.string(), overwrite: z.boolean() }),
    result: z.object({}),
  },
  "fs.delete": { params: z.object({ root: z.string(), path: z.string(), recursive: z.boolean() }), result: z.object({}) },
  /**
   * Watches one directory (not recursive; opened without following links, inside `root`) until
   * fs.unwatch or until it vanishes; its changes come as `fs.changed` events. The same watchId
   * again replaces that watch. More than MAX_WATCHES: error "limit".
   */
  "fs.watch": { params: z.object({ watchId: z.string().min(1).max(200), root: z.string(), path: z.string() }), result: z.object({ watches: z.number().int() }) },
  /** Ends a watch (`removed` false: there was none by that id). */
  "fs.unwatch": { params: z.object({ watchId: z.string().min(1).max(200) }), result: z.object({ removed: z.boolean(), watches: z.number().int() }) },

  /**
   * Runs one command as the agent user (argv[0] looked up in PATH, no shell) and answers with its
   * exit code and output, each capped at `maxOutputBytes` (the rest is dropped and flagged). The
   * process is killed (its whole group) after `timeoutMs`. `env` is given to that one process only
   * (e.g. a credential for a git command: never written to disk, gone when the command ends).
   * With `progress`, stderr is also reported as `exec.progress` events, one per line or \r-ended
   * piece (git's --progress output).
   */
  "exec.run": {
    params: z.object({
      execId: z.string().min(1).max(100),
      argv: z.array(z.string().max(EXEC_MAX_ARG_CHARS)).min(1).max(EXEC_MAX_ARGS),
      cwd: z.string().min(1).max(4096),
      env: z.record(z.string().max(200), z.string().max(EXEC_MAX_ARG_CHARS)),
      /** Written to stdin, then stdin is closed (empty: closed at once). */
      stdin: z.string().max(EXEC_MAX_STDIN_CHARS),
      timeoutMs: z.number().int().min(100).max(EXEC_MAX_TIMEOUT_MS),
      maxOutputBytes: z.number().int().min(0).max(EXEC_MAX_OUTPUT_BYTES),
      progress: z.boolean(),
      /**
       * Private files of this one command (e.g. an ssh deploy key): each is written to a new 0600
       * file in a 0700 temporary directory, its path put in the command's environment as `env`,
       * and removed when the command ends. Never logged.
       */
      files: z
        .array(z.object({ env: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/), content: z.string().max(EXEC_MAX_FILE_CHARS) }))
        .max(4)
        .optional(),
    }),
    result: z.object({
      exitCode: z.number().nullable(),
      signal: z.string().nullable(),
      timedOut: z.boolean(),
      /** base64 of the first maxOutputBytes of stdout. */
      stdout: b64,
      stdoutBytes: z.number().int(),
      /** The first maxOutputBytes of stderr (UTF-8). */
      stderr: z.string(),
      stderrBytes: z.number().int(),
      durationMs: z.number(),
    }),
  },

  /** Opens a shell on a PTY as the agent user. */
  "term.open": {
    params: z.object({ termId: z.string().min(1).max(100), cols: z.number().int().min(2).max(1000), rows: z.number().int().min(2).max(1000), cwd: z.string() }),
    result: z.object({ pid: z.number() }),
  },
  /** Keystrokes (UTF-8 text). */
  "term.input": { params: z.object({ termId: z.string(), data: z.string() }), result: z.object({}) },
  "term.resize": { params: z.object({ termId: z.string(), cols: z.number().int().min(2).max(1000), rows: z.number().int().min(2).max(1000) }), result: z.object({}) },
  "term.close": { params: z.object({ termId: z.string() }), result: z.object({}) },
} as const;

export type RequestMethod = keyof typeof requestMethods;
export type RequestParams<M extends RequestMethod> = z.infer<(typeof requestMethods)[M]["params"]>;
export type RequestResult<M extends RequestMethod> = z.infer<(typeof requestMethods)[M]["result"]>;
export const requestMethodNames = Object.keys(requestMethods) as [RequestMethod, ...RequestMethod[]];

// ---------------------------------------------------------------- sequenced events (daemon -> Armory)

export const daemonEvent = z.discriminatedUnion("type", [
  /** One stdout line of a chat process (without the newline). */
  z.object({ type: z.literal("proc.line"), procId: z.string(), line: z.string() }),
  z.object({ type: z.literal("proc.overflow"), procId: z.string(), length: z.number() }),
  z.object({ type: z.literal("proc.stderr"), procId: z.string(), text: z.string() }),
  /** The process ended (after its output ended). `oomKilled`: the kernel's OOM killer ended it. */
  z.object({
    type: z.literal("proc.exit"),
    procId: z.string(),
    exitCode: z.number().nullable(),
    signal: z.string().nullable(),
    oomKilled: z.boolean(),
  }),
  /** The instruction files changed: one event per burst. Times are milliseconds since the epoch. */
  z.object({
    type: z.literal("config.reload"),
    files: z.array(z.string()),
    filesTruncated: z.boolean(),
    changes: z.number().int().nonnegative(),
    changedAt: z.number(),
    reportedAt: z.number(),
  }),
  /** The watcher (re)established its watches on these directories. */
  z.object({ type: z.literal("config.watching"), dirs: z.array(z.string()), since: z.number() }),
  /**
   * Names in a watched directory that changed (one event per burst, see WATCH_QUIET_MS): "written"
   * when the name exists at the end of the burst, else "deleted". `truncated`: more names changed
   * than WATCH_MAX_PATHS, or the kernel did not say which (the rest are not listed). `ended`: the
   * watch's last event: the directory vanished (deleted or moved away; then it is listed itself as
   * deleted) or the kernel dropped the watch.
   */
  z.object({
    type: z.literal("fs.changed"),
    watchId: z.string(),
    changes: z.array(z.object({ path: z.string(), change: z.enum(["written", "deleted"]) })),
    truncated: z.boolean(),
    ended: z.boolean(),
  }),
  /** A piece of stderr of an exec.run started with `progress` (a line, or a \r-ended update). */
  z.object({ type: z.literal("exec.progress"), execId: z.string(), text: z.string() }),
  /** Terminal output (base64 bytes). */
  z.object({ type: z.literal("term.data"), termId: z.string(), data: b64 }),
  z.object({ type: z.literal("term.exit"), termId: z.string(), exitCode: z.number().nullable() }),
]);
export type DaemonEvent = z.infer<typeof daemonEvent>;

// ---------------------------------------------------------------- frames

export const daemonError = z.object({
  /** A file error kind, or "bad_request" / "not_found" / "conflict" / "internal". */
  code: z.string(),
  message: z.string(),
  path: z.string().optional(),
  /** For toolarge: the size found. */
  size: z.number().optional(),
});
export type DaemonError = z.infer<typeof daemonError>;

export const helloMessage = z.object({
  type: z.literal("hello"),
  protocol: z.number().int(),
  daemonId: z.string().min(8).max(100),
  /** The container the daemon runs in (from /proc/self/mountinfo), when it can tell. */
  containerId: z.string().nullable(),
  startedAt: z.number(),
  capabilities,
  processes: z.array(processInfo),
  terminals: z.array(z.string()),
  /** The highest event seq the daemon has produced. */
  lastSeq: z.number().int().nonnegative(),
});
export type HelloMessage = z.infer<typeof helloMessage>;

/** One sequenced event: its seq, when the daemon produced it (ms since the epoch), the event. */
export const sequencedEvent = z.object({ seq: z.number().int().positive(), at: z.number(), event: daemonEvent });
export type SequencedEvent = z.infer<typeof sequencedEvent>;

export const daemonMessage = z.discriminatedUnion("type", [
  helloMessage,
  /** Protocol 1: one event a frame. */
  z.object({ type: z.literal("event"), seq: z.number().int().positive(), at: z.number(), event: daemonEvent }),
  /** Protocol 2: events in order, their seqs contiguous (Armory refuses a frame whose are not). */
  z.object({ type: z.literal("events"), events: z.array(sequencedEvent).min(1) }),
  /** ok: `result` holds the method's result; else `error` says why. */
  z.object({ type: z.literal("response"), id: z.number().int(), ok: z.boolean(), result: z.unknown().optional(), error: daemonError.optional() }),
  z.object({ type: z.literal("ping"), at: z.number(), report: selfReport }),
  z.object({ type: z.literal("pong"), at: z.number() }),
]);
export type DaemonMessage = z.infer<typeof daemonMessage>;

export const armoryMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("welcome"), protocol: z.number().int(), resumeAfter: z.number().int().nonnegative().nullable() }),
  z.object({ type: z.literal("ack"), seq: z.number().int().nonnegative() }),
  z.object({ type: z.literal("request"), id: z.number().int(), method: z.enum(requestMethodNames), params: z.unknown() }),
  z.object({ type: z.literal("ping"), at: z.number() }),
  z.object({ type: z.literal("pong"), at: z.number() }),
]);
export type ArmoryMessage = z.infer<typeof armoryMessage>;

/** Parses one frame; null for anything that is not a valid message (never throws). */
export function parseFrame<T>(schema: z.ZodType<T>, text: string): T | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const r = schema.safeParse(value);
  return r.success ? r.data : null;
}

// ---------------------------------------------------------------- images without a daemon

/** The first agent image revision whose main process is armoryd (earlier ones ran a bash supervisor). */
export const FIRST_DAEMON_REVISION = 4;

/**
 * True for an Armory agent image tag from before armoryd (`<claude version>-r1` … `-r3`): its
 * agents run (start, stop, logs, stats) but have no daemon, so chat, files and the terminal wait
 * until the agent is updated to a current image (a safe re-create on its Versions tab).
 */
export function isPreDaemonVersion(version: string): boolean {
  const m = /-r(\d+)$/.exec(version);
  return !!m && Number(m[1]) < FIRST_DAEMON_REVISION;
}
