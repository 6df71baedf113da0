// armoryd: the agent daemon, the main process of an agent container (under the init), running as
// the agent user. It dials Armory (ARMORY_DAEMON_URL, with ARMORY_AGENT_TOKEN) and does the
// container-side work Armory asks for over that one connection: chat processes, files, the
// config watcher, terminals, and heartbeats with its self-report. Nothing listens inside the
// container. Without the two variables it says why and idles (the container stays up).
// SIGTERM/SIGINT: children killed, socket closed (1001), exit 0 at once.
// `armoryd connect <host> <port>` is a second use of the same binary: ssh's ProxyCommand through
// the egress proxy (connect.ts); it never dials Armory.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  ENV_AGENT_TOKEN,
  ENV_DAEMON_URL,
  FILE_ROOTS,
  GIT_SSH_ACTION,
  type DaemonCapabilities,
  type DaemonError,
  type RequestMethod,
  type RequestParams,
} from "../contracts/armoryd";
import { connectMain } from "./connect";
import { Connection } from "./connection";
import { DirWatches } from "./dirwatch";
import * as files from "./files";
import { FileOpError } from "./files";
import { errorText, log } from "./log";
import { Execs } from "./exec";
import { Procs, RequestError } from "./procs";
import { Terminals } from "./terminal";
import { CONFIG_DIR, ConfigWatcher, INSTRUCTIONS_DIR, INSTRUCTION_FILES } from "./watch";

const startedAt = Date.now();
const daemonId = crypto.randomUUID();

// Armory's connection details are the daemon's alone: no child ever sees them.
const url = process.env[ENV_DAEMON_URL] ?? "";
const token = process.env[ENV_AGENT_TOKEN] ?? "";
delete process.env[ENV_DAEMON_URL];
delete process.env[ENV_AGENT_TOKEN];
const childEnv: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== ENV_DAEMON_URL && k !== ENV_AGENT_TOKEN) childEnv[k] = v;
process.umask(0o022);

/** The container id from a /containers/<64 hex>/ mount source (resolv.conf, hostname), else null. */
function containerId(): string | null {
  try {
    return /\/containers\/([0-9a-f]{64})\//.exec(fs.readFileSync("/proc/self/mountinfo", "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

const capabilities: DaemonCapabilities = {
  agentVersion: process.env.ARMORY_AGENT_VERSION ?? "unknown",
  claudeVersion: process.env.ARMORY_CLAUDE_CODE_VERSION ?? "unknown",
  writablePaths: [...FILE_ROOTS],
  configDir: CONFIG_DIR,
  instructionsDir: INSTRUCTIONS_DIR,
  instructionFiles: INSTRUCTION_FILES,
  configWatcher: "fs.watch",
  supportedActions: ["chat", "files", "files-watch", "config-reload", "health", "terminal", "exec", GIT_SSH_ACTION],
};

let connection: Connection | null = null;
const emit = (e: Parameters<Connection["emit"]>[0]) => connection?.emit(e);
const procs = new Procs(emit, childEnv);
const terminals = new Terminals(emit, childEnv);
const execs = new Execs(emit, childEnv);
const watcher = new ConfigWatcher(emit);
const dirWatches = new DirWatches(emit);

async function handle(method: RequestMethod, params: unknown): Promise<unknown> {
  switch (method) {
    case "proc.spawn":
      return procs.spawn(params as RequestParams<"proc.spawn">);
    case "proc.write":
      return procs.write(params as RequestParams<"proc.write">);
    case "proc.closeInput":
      return procs.closeInput(params as RequestParams<"proc.closeInput">);
    case "proc.kill":
      return procs.kill(params as RequestParams<"proc.kill">);
    case "proc.killOthers":
      return procs.killOthers(params as RequestParams<"proc.killOthers">);
    case "fs.resolve":
      return files.resolve(params as RequestParams<"fs.resolve">);
    case "fs.list":
      return files.list(params as RequestParams<"fs.list">);
    case "fs.read":
      return files.read(params as RequestParams<"fs.read">);
    case "fs.write":
      return files.write(params as RequestParams<"fs.write">);
    case "fs.append":
      return files.append(params as RequestParams<"fs.append">);
    case "fs.mkdir":
      return files.mkdir(params as RequestParams<"fs.mkdir">);
    case "fs.rename":
      return files.rename(params as RequestParams<"fs.rename">);
    case "fs.delete":
      return files.remove(params as RequestParams<"fs.delete">);
    case "fs.watch":
      return dirWatches.watch(params as RequestParams<"fs.watch">);
    case "fs.unwatch":
      return dirWatches.unwatch(params as RequestParams<"fs.unwatch">);
    case "exec.run":
      return execs.run(params as RequestParams<"exec.run">);
    case "term.open":
      return terminals.open(params as RequestParams<"term.open">);
    case "term.input":
      return terminals.input(params as RequestParams<"term.input">);
    case "term.resize":
      return terminals.resize(params as RequestParams<"term.resize">);
    case "term.close":
      return terminals.close(params as RequestParams<"term.close">);
  }
}

function errorOf(err: unknown): DaemonError {
  if (err instanceof FileOpError) return err.toWire();
  if (err instanceof RequestError) return { code: err.code, message: err.message };
  log(`request failed: ${errorText(err)}`);
  return { code: "internal", message: errorText(err) };
}

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  procs.killAll();
  terminals.killAll();
  execs.killAll();
  watcher.stop();
  dirWatches.stopAll();
  connection?.stop();
  process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

/** What would stop a chat turn here: the CLI missing from PATH (an env change can do that). */
function problems(): string[] {
  const dirs = (process.env.PATH ?? "").split(":").filter(Boolean);
  const found = dirs.some((d) => {
    try {
      fs.accessSync(path.join(d, "claude"), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return found ? [] : [`the Claude Code CLI (claude) is not on PATH (${process.env.PATH ?? "unset"})`];
}

// A subcommand instead of the daemon: `armoryd connect <host> <port>` (ssh's ProxyCommand).
const subcommand = process.argv[2] === "connect" ? process.argv.slice(3) : null;

if (subcommand) {
  void connectMain(subcommand, { input: process.stdin, output: process.stdout, error: process.stderr, env: process.env }).then((code) => process.exit(code));
} else if (!url || !token) {
  const missing = [!url && ENV_DAEMON_URL, !token && ENV_AGENT_TOKEN].filter(Boolean).join(" and ");
  log(`${missing} not set: not connecting to Armory; idling (the container stays up)`);
  setInterval(() => {}, 2 ** 30);
} else {
  log(`starting (daemon ${daemonId}, agent image ${capabilities.agentVersion}, Claude Code ${capabilities.claudeVersion})`);
  connection = new Connection({
    url,
    token,
    hello: () => ({
      daemonId,
      containerId: containerId(),
      startedAt,
      capabilities,
      processes: procs.list(),
      terminals: terminals.ids(),
    }),
    report: () => ({
      rssBytes: process.memoryUsage.rss(),
      processes: procs.running,
      terminals: terminals.count,
      load1: os.loadavg()[0] ?? 0,
      uptimeMs: Date.now() - startedAt,
      problems: problems(),
      watches: dirWatches.count,
    }),
    handle,
    errorOf,
    // Its first config.watching then reaches Armory (before the first welcome it would be dropped).
    onFirstWelcome: () => watcher.start(),
    // Armory restarted: the directory watches it asked for are nobody's; it sends the ones it wants.
    onUnknownToArmory: () => {
      if (dirWatches.count) log(`Armory does not know this daemon: dropping its ${dirWatches.count} directory watches`);
      dirWatches.stopAll();
    },
  });
  connection.start();
}
