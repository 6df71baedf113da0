// `armory`: Armory from the command line, on @armory/client. Every command takes --json (one JSON
// document, or one JSON line per event for streams, on stdout) and exits with a code from
// exit-codes.ts. Run `armory --help` for the commands.

import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { armoryError, createArmoryClient, type ArmoryClient, type RouterOutputs } from "@armory/client";
import { connection, readConfig, writeConfig, configPath, type StoredConfig } from "./config";
import { CliError, EXIT } from "./exit-codes";
import { markdownStream } from "./markdown";

type Agent = RouterOutputs["agent"]["list"][number];
type Project = RouterOutputs["project"]["list"][number];
type ChatEvent = { seq: number; runId: string; type: string; data: unknown; at: Date };

interface Global {
  json: boolean;
  project?: string;
}

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
const info = (s: string) => process.stderr.write(`${s}\n`);
const printJson = (v: unknown) => out(JSON.stringify(v, null, 2));

async function client(): Promise<{ armory: ArmoryClient; url: string }> {
  const { url, token } = await connection();
  return { armory: createArmoryClient({ url, token, headers: { "user-agent": "armory-cli" } }), url };
}

/** The project: --project (name or id), else ARMORY_PROJECT, else the default saved by login / `projects use`. */
async function resolveProject(armory: ArmoryClient, g: Global): Promise<Project> {
  const wanted = g.project || process.env.ARMORY_PROJECT || (await readConfig()).project?.id;
  const projects = await armory.project.list.query();
  if (!wanted) {
    if (projects.length === 1) return projects[0]!;
    throw new CliError("which project? pass --project <name|id> or run `armory projects use <name|id>`", EXIT.usage, "NO_PROJECT");
  }
  const found = projects.find((p) => p.id === wanted) ?? projects.find((p) => p.name === wanted);
  if (!found) throw new CliError(`project not found: ${wanted}`, EXIT.notFound, "NOT_FOUND");
  return found;
}

async function resolveAgent(armory: ArmoryClient, projectId: string, ref: string): Promise<Agent> {
  const agents = await armory.agent.list.query({ projectId });
  const found = agents.find((a) => a.id === ref) ?? agents.find((a) => a.name === ref);
  if (!found) throw new CliError(`agent not found: ${ref}`, EXIT.notFound, "NOT_FOUND");
  return found;
}

async function agentContext(g: Global, ref: string) {
  const { armory } = await client();
  const project = await resolveProject(armory, g);
  const agent = await resolveAgent(armory, project.id, ref);
  return { armory, project, agent, ref: { projectId: project.id, agentId: agent.id } };
}

function table(rows: Record<string, unknown>[], columns: string[]) {
  if (rows.length === 0) return;
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? "")));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  out(columns.map((c, i) => c.toUpperCase().padEnd(widths[i]!)).join("  ").trimEnd());
  for (const row of cells) out(row.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd());
}

function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

// ---------------------------------------------------------------------------------------------
// Agent lifecycle with progress: follow agent.onStatus while the mutation runs, until the agent
// reaches the state asked for (or fails).

type Target = "running" | "stopped";

async function withLifecycle<T>(
  armory: ArmoryClient,
  g: Global,
  projectId: string,
  isAgent: (a: { id: string; name: string }) => boolean,
  target: Target,
  action: () => Promise<T>,
  timeoutMs = 180_000,
): Promise<T> {
  let last = "";
  let settle: (v: { ok: boolean; reason?: string }) => void = () => {};
  const reached = new Promise<{ ok: boolean; reason?: string }>((resolve) => (settle = resolve));
  let ready = false;
  let readyResolve: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => (readyResolve = resolve));
  const sub = armory.agent.onStatus.subscribe(
    { projectId },
    {
      onStarted: () => {
        ready = true;
        readyResolve();
      },
      onData: (e) => {
        if (e.type !== "agent" || !isAgent(e.agent)) return;
        const a = e.agent;
        const line = `${a.observedState}${a.daemon.state === "connected" ? " (daemon connected)" : ""}`;
        if (line !== last) {
          last = line;
          if (g.json) info(JSON.stringify({ event: "status", agent: a.name, observedState: a.observedState, desiredState: a.desiredState, daemon: a.daemon.state }));
          else info(`  ${a.name}: ${line}`);
        }
        const verdict = judge(a, target);
        if (verdict) settle(verdict);
      },
      onError: (err) => {
        readyResolve();
        settle({ ok: false, reason: armoryError(err)?.message ?? String(err) });
      },
    },
  );
  try {
    // Subscribe first so no transition is missed (the stream starts with a snapshot).
    await Promise.race([subscribed, new Promise((r) => setTimeout(r, 5_000))]);
    if (!ready && !g.json) info("  (live status unavailable; waiting for the request)");
    const result = await action();
    // The mutation returns the agent as it is now: done already (e.g. create --start waits for the start).
    const now = result && typeof result === "object" && "observedState" in result ? judge(result as unknown as Agent, target) : undefined;
    if (now?.ok) settle(now);
    const timer = setTimeout(() => settle({ ok: false, reason: `timed out after ${timeoutMs / 1000} s` }), timeoutMs);
    const outcome = await reached;
    clearTimeout(timer);
    if (!outcome.ok) throw new CliError(`agent did not reach ${target}: ${outcome.reason}`, EXIT.error, "LIFECYCLE_FAILED");
    return result;
  } finally {
    sub.unsubscribe();
  }
}

function judge(a: Agent, target: Target): { ok: boolean; reason?: string } | undefined {
  if (target === "running" && a.observedState === "running") return { ok: true };
  if (target === "stopped" && a.desiredState === "stopped" && ["exited", "created", "dead", "missing"].includes(a.observedState)) return { ok: true };
  if (target === "running" && a.observedState === "dead") return { ok: false, reason: "the container died" };
  return undefined;
}

/** A path in the agent: absolute, or relative to its workspace. */
const remotePath = (p: string) => (p.startsWith("/") ? p : path.posix.join("/workspace", p));

// ---------------------------------------------------------------------------------------------
// Chat

interface ChatState {
  sessionId?: string;
  afterSeq: number;
}

/** Sends one message and streams the reply until the turn ends. Ctrl-C interrupts the turn. */
async function chatTurn(armory: ArmoryClient, g: Global, ref: { projectId: string; agentId: string }, state: ChatState, message: string): Promise<"completed" | "failed" | "interrupted"> {
  const sent = await armory.chat.send.mutate({ ...ref, message, sessionId: state.sessionId });
  state.sessionId = sent.sessionId;
  const md = g.json ? undefined : markdownStream(process.stdout);
  let streamedText = false;
  let fallbackText = "";
  let interrupting = false;
  const onSigint = () => {
    if (interrupting) {
      info("\ninterrupted");
      process.exit(EXIT.interrupted);
    }
    interrupting = true;
    if (!g.json) info("\n^C: interrupting the turn (Ctrl-C again to quit)");
    void armory.chat.interrupt.mutate({ ...ref, sessionId: sent.sessionId }).catch(() => {});
  };
  process.on("SIGINT", onSigint);
  try {
    const outcome = await new Promise<"completed" | "failed" | "interrupted">((resolve, reject) => {
      const sub = armory.chat.stream.subscribe(
        { ...ref, sessionId: sent.sessionId, afterSeq: state.afterSeq },
        {
          onData: ({ data: e }: { data: ChatEvent }) => {
            state.afterSeq = Math.max(state.afterSeq, e.seq);
            if (e.runId !== sent.runId) return;
            if (g.json) out(JSON.stringify(e));
            else showEvent(e);
            if (e.type === "run_completed" || e.type === "run_failed" || e.type === "run_interrupted") {
              sub.unsubscribe();
              if (e.type === "run_failed" && !g.json) info(`turn failed: ${errorText(e.data)}`);
              resolve(e.type === "run_completed" ? "completed" : e.type === "run_failed" ? "failed" : "interrupted");
            }
          },
          onError: (err) => reject(err),
        },
      );
    });
    if (md) {
      if (!streamedText && fallbackText) md.write(fallbackText);
      md.end();
    }
    return outcome;
  } finally {
    process.off("SIGINT", onSigint);
  }

  function showEvent(e: ChatEvent) {
    const d = e.data as {
      event?: { type?: string; delta?: { type?: string; text?: string } };
      message?: { content?: { type: string; text?: string; name?: string; input?: unknown }[] };
    };
    if (e.type === "stream_event" && d.event?.type === "content_block_delta" && d.event.delta?.type === "text_delta") {
      streamedText = true;
      md!.write(d.event.delta.text ?? "");
    } else if (e.type === "assistant") {
      for (const block of d.message?.content ?? []) {
        if (block.type === "tool_use") info(`  → ${block.name}${toolSummary(block.input)}`);
        if (block.type === "text" && block.text) fallbackText += (fallbackText ? "\n\n" : "") + block.text;
      }
      // Text between tool calls: make the next delta start a new block.
      if (streamedText && (d.message?.content ?? []).some((b) => b.type === "tool_use")) md!.write("\n\n");
    }
  }
}

function toolSummary(input: unknown): string {
  if (!input || typeof input !== "object") return "";
  const i = input as Record<string, unknown>;
  const s = i.command ?? i.file_path ?? i.path ?? i.pattern ?? i.url;
  return typeof s === "string" ? `: ${s.length > 100 ? `${s.slice(0, 97)}...` : s}` : "";
}

function errorText(data: unknown): string {
  if (data && typeof data === "object") {
    const d = data as Record<string, unknown>;
    for (const k of ["error", "message", "reason"]) if (typeof d[k] === "string") return d[k] as string;
  }
  return JSON.stringify(data);
}

async function chat(g: Global, agentRef: string, message: string | undefined, sessionId: string | undefined) {
  const { armory, agent, ref } = await agentContext(g, agentRef);
  const state: ChatState = { sessionId, afterSeq: 0 };
  if (sessionId) {
    const session = (await armory.chat.sessions.query(ref)).sessions.find((s) => s.id === sessionId);
    if (!session) throw new CliError(`session not found: ${sessionId}`, EXIT.notFound, "NOT_FOUND");
    state.afterSeq = session.lastSeq;
  }
  if (message !== undefined) {
    const outcome = await chatTurn(armory, g, ref, state, message === "-" ? await readStdin() : message);
    if (!g.json) info(`(session ${state.sessionId})`);
    if (outcome === "interrupted") process.exitCode = EXIT.interrupted;
    else if (outcome === "failed") process.exitCode = EXIT.error;
    return;
  }
  if (!process.stdin.isTTY) {
    // Piped: one message per line.
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) if (line.trim()) await chatTurn(armory, g, ref, state, line);
    return;
  }
  info(`Chatting with ${agent.name} (Ctrl-C interrupts a reply; Ctrl-C or Ctrl-D at the prompt quits).`);
  for (;;) {
    // A fresh prompt per message, closed during the turn, so Ctrl-C then reaches the turn.
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const line = await new Promise<string | null>((resolve) => {
      rl.on("SIGINT", () => resolve(null));
      rl.on("close", () => resolve(null));
      rl.question("you> ").then(resolve, () => resolve(null));
    });
    rl.close();
    if (line === null) {
      process.exitCode = EXIT.ok;
      return;
    }
    if (!line.trim()) continue;
    await chatTurn(armory, g, ref, state, line);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

// ---------------------------------------------------------------------------------------------
// Errors and exit codes

function exitCodeFor(err: unknown): { code: number; name: string; message: string } {
  if (err instanceof CliError) return { code: err.exitCode, name: err.code, message: err.message };
  const a = armoryError(err);
  if (a) {
    const byCode: Record<string, number> = {
      NOT_FOUND: EXIT.notFound,
      UNAUTHORIZED: EXIT.auth,
      FORBIDDEN: EXIT.forbidden,
      CONFLICT: EXIT.conflict,
      PRECONDITION_FAILED: EXIT.conflict,
      BAD_REQUEST: EXIT.usage,
    };
    const cause = (err as { cause?: { code?: string; cause?: { code?: string } } }).cause;
    const netCode = cause?.code ?? cause?.cause?.code;
    if (a.httpStatus === undefined && (netCode || /fetch failed|ECONNREFUSED|ENOTFOUND/i.test(a.message)))
      return { code: EXIT.unreachable, name: "UNREACHABLE", message: `cannot reach Armory: ${netCode ?? a.message}` };
    const message = a.code === "UNAUTHORIZED" ? `authentication failed: ${a.message} (run \`armory login\` with a valid token)` : a.message;
    return { code: byCode[a.code] ?? EXIT.error, name: a.code, message };
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOENT") return { code: EXIT.notFound, name: "NOT_FOUND", message: e.message };
  return { code: EXIT.error, name: "ERROR", message: e?.message ?? String(err) };
}

// ---------------------------------------------------------------------------------------------
// Commands

const withProject = <T>(y: Argv<T>) =>
  y.option("project", { alias: "p", type: "string", describe: "Project name or id (default: the one saved by login / projects use)" });

function run<A extends Global>(fn: (a: A) => Promise<unknown>) {
  return async (a: A) => {
    await fn(a);
  };
}

export function buildCli(argv: string[]) {
  return yargs(argv)
    .scriptName("armory")
    .usage("$0 <command>\n\nArmory from the command line. Log in once with `armory login <url>`.")
    .option("json", { type: "boolean", default: false, global: true, describe: "Machine-readable output (JSON on stdout)" })
    .command(
      "login [url]",
      "Save Armory's URL and a machine token (0600, in $XDG_CONFIG_HOME/armory/config.json)",
      (y) =>
        withProject(
          y
            .positional("url", { type: "string", describe: "Armory's URL, e.g. http://127.0.0.1:3000 (default: ARMORY_URL)" })
            .option("token", { type: "string", describe: "Machine token (default: ARMORY_TOKEN, else asked for)" }),
        ),
      run(async (a) => {
        const url = (a.url ?? process.env.ARMORY_URL ?? "").replace(/\/+$/, "");
        if (!/^https?:\/\/[^/]+/.test(url)) throw new CliError("login needs Armory's URL (http:// or https://)", EXIT.usage, "USAGE");
        let token = a.token ?? process.env.ARMORY_TOKEN;
        if (!token) {
          if (!process.stdin.isTTY) token = (await readStdin()).trim();
          else {
            const rl = createInterface({ input: process.stdin, output: process.stderr });
            token = (await rl.question("Machine token (from the Tokens page): ")).trim();
            rl.close();
          }
        }
        if (!token) throw new CliError("no token given", EXIT.usage, "USAGE");
        const armory = createArmoryClient({ url, token });
        const projects = await armory.project.list.query();
        const previous = await readConfig();
        const config: StoredConfig = { url, token };
        const wanted = a.project ?? (previous.url === url ? previous.project?.id : undefined);
        const chosen = wanted ? projects.find((p) => p.id === wanted || p.name === wanted) : projects.length === 1 ? projects[0] : undefined;
        if (a.project && !chosen) throw new CliError(`project not found: ${a.project}`, EXIT.notFound, "NOT_FOUND");
        if (chosen) config.project = { id: chosen.id, name: chosen.name };
        const file = await writeConfig(config);
        if (a.json) printJson({ url, config: file, projects: projects.length, project: config.project ?? null });
        else info(`Logged in to ${url} (${projects.length} project${projects.length === 1 ? "" : "s"}${config.project ? `, default: ${config.project.name}` : ""}). Saved to ${file}.`);
      }),
    )
    .command(
      "projects [action] [project]",
      "List projects (`projects use <name|id>` sets the default)",
      (y) =>
        y
          .positional("action", { choices: ["ls", "use"] as const, default: "ls" as const })
          .positional("project", { type: "string", describe: "Project name or id (for use)" }),
      run(async (a) => {
        const { armory } = await client();
        const projects = await armory.project.list.query();
        const current = process.env.ARMORY_PROJECT || (await readConfig()).project?.id;
        if (a.action === "use") {
          if (!a.project) throw new CliError("projects use <name|id>", EXIT.usage, "USAGE");
          const p = projects.find((x) => x.id === a.project) ?? projects.find((x) => x.name === a.project);
          if (!p) throw new CliError(`project not found: ${a.project}`, EXIT.notFound, "NOT_FOUND");
          await writeConfig({ ...(await readConfig()), project: { id: p.id, name: p.name } });
          if (a.json) printJson({ project: { id: p.id, name: p.name } });
          else info(`Default project: ${p.name}`);
          return;
        }
        if (a.json) return printJson(projects);
        if (projects.length === 0) return info("No projects.");
        table(
          projects.map((p) => ({ "": p.id === current || p.name === current ? "*" : "", name: p.name, id: p.id, role: (p as { role?: string }).role ?? "" })),
          ["", "name", "id", "role"],
        );
      }),
    )
    .command("agents", "Manage agents: ls | create | start | stop | restart | rm", (y) =>
      withProject(y)
        .command(
          ["ls", "list"],
          "List the project's agents",
          (yy) => yy,
          run(async (a) => {
            const { armory } = await client();
            const project = await resolveProject(armory, a);
            const agents = await armory.agent.list.query({ projectId: project.id });
            if (a.json) return printJson(agents);
            if (agents.length === 0) return info(`No agents in ${project.name}.`);
            table(
              agents.map((x) => ({ name: x.name, id: x.id, state: x.observedState, desired: x.desiredState, template: x.templateName, model: x.model })),
              ["name", "state", "desired", "template", "model", "id"],
            );
          }),
        )
        .command(
          "create <name>",
          "Create an agent from a template (and start it with --start)",
          (yy) =>
            yy
              .positional("name", { type: "string", demandOption: true })
              .option("template", { alias: "t", type: "string", describe: "Template name or id (default: the project's first)" })
              .option("start", { type: "boolean", default: false, describe: "Start it and wait until it runs" })
              .option("model", { type: "string", describe: "Model (default: the template's)" })
              .option("memory", { type: "number", describe: "Memory limit in MB (default: the template's)" }),
          run(async (a) => {
            const { armory } = await client();
            const project = await resolveProject(armory, a);
            const templates = await armory.template.list.query({ projectId: project.id });
            const template = a.template ? templates.find((t) => t.id === a.template || t.name === a.template) : templates[0];
            if (!template) throw new CliError(a.template ? `template not found: ${a.template}` : "the project has no templates", EXIT.notFound, "NOT_FOUND");
            if (!a.json) info(`Creating ${a.name} from ${template.name}...`);
            const create = () =>
              armory.agent.create.mutate({ projectId: project.id, templateId: template.id, name: a.name, start: a.start, overrides: a.model || a.memory ? { model: a.model, memoryMb: a.memory } : undefined });
            const agent = a.start ? await withLifecycle(armory, a, project.id, (x) => x.name === a.name, "running", create) : await create();
            if (a.json) printJson(a.start ? await armory.agent.get.query({ projectId: project.id, agentId: agent.id }) : agent);
            else info(`Created ${agent.name} (${agent.id})${a.start ? ", running" : ""}.`);
          }),
        )
        .command(
          "start <agent>",
          "Start an agent and wait until it runs",
          (yy) => yy.positional("agent", { type: "string", demandOption: true, describe: "Agent name or id" }),
          run(async (a) => {
            const { armory, agent, ref } = await agentContext(a, a.agent);
            const r = await withLifecycle(armory, a, ref.projectId, (x) => x.id === agent.id, "running", () => armory.agent.start.mutate(ref));
            if (a.json) printJson(r);
            else info(`${agent.name} is running.`);
          }),
        )
        .command(
          "stop <agent>",
          "Stop an agent and wait until it stopped",
          (yy) => yy.positional("agent", { type: "string", demandOption: true, describe: "Agent name or id" }),
          run(async (a) => {
            const { armory, agent, ref } = await agentContext(a, a.agent);
            const r = await withLifecycle(armory, a, ref.projectId, (x) => x.id === agent.id, "stopped", () => armory.agent.stop.mutate(ref));
            if (a.json) printJson(r);
            else info(`${agent.name} is stopped.`);
          }),
        )
        .command(
          "restart <agent>",
          "Restart an agent and wait until it runs",
          (yy) => yy.positional("agent", { type: "string", demandOption: true, describe: "Agent name or id" }),
          run(async (a) => {
            const { armory, agent, ref } = await agentContext(a, a.agent);
            const r = await withLifecycle(armory, a, ref.projectId, (x) => x.id === agent.id, "running", () => armory.agent.restart.mutate(ref));
            if (a.json) printJson(r);
            else info(`${agent.name} restarted.`);
          }),
        )
        .command(
          ["rm <agent>", "remove <agent>"],
          "Remove an agent (its container; volumes too unless --keep-volumes)",
          (yy) =>
            yy
              .positional("agent", { type: "string", demandOption: true, describe: "Agent name or id" })
              .option("keep-volumes", { type: "boolean", default: false, describe: "Keep the workspace and session volumes" }),
          run(async (a) => {
            const { armory, agent, ref } = await agentContext(a, a.agent);
            const r = await armory.agent.remove.mutate({ ...ref, keepVolumes: a.keepVolumes });
            if (a.json) printJson(r);
            else info(`Removed ${agent.name}${r.volumesKept ? " (volumes kept)" : ""}.`);
          }),
        )
        .demandCommand(1, "agents needs a subcommand: ls, create, start, stop, restart or rm"),
    )
    .command(
      "chat <agent> [message]",
      "Chat with an agent: streams the reply (without a message: an interactive prompt; `-` reads stdin)",
      (y) =>
        withProject(y)
          .positional("agent", { type: "string", demandOption: true, describe: "Agent name or id" })
          .positional("message", { type: "string", describe: "The message (omit for a prompt)" })
          .option("session", { alias: "s", type: "string", describe: "Continue this session (id)" }),
      run(async (a) => chat(a, a.agent, a.message, a.session)),
    )
    .command("files", "An agent's files: ls | get | put", (y) =>
      withProject(y)
        .command(
          "ls <agent> [path]",
          "List a directory",
          (yy) => yy.positional("agent", { type: "string", demandOption: true }).positional("path", { type: "string", describe: "Directory (default: the workspace)" }),
          run(async (a) => {
            const { armory, ref } = await agentContext(a, a.agent);
            const r = await armory.files.list.query({ ...ref, path: a.path ? remotePath(a.path) : undefined });
            if (a.json) return printJson(r);
            table(
              r.entries.map((e) => ({ type: e.type === "directory" ? "d" : e.type === "symlink" ? "l" : "-", size: e.type === "file" ? humanBytes(e.size) : "", modified: e.modifiedAt.toISOString().slice(0, 16).replace("T", " "), name: e.name + (e.type === "directory" ? "/" : "") })),
              ["type", "size", "modified", "name"],
            );
            if (r.truncated) info("(listing truncated)");
          }),
        )
        .command(
          "get <agent> <path> [dest]",
          "Download a file (to dest, or stdout)",
          (yy) => yy.positional("agent", { type: "string", demandOption: true }).positional("path", { type: "string", demandOption: true }).positional("dest", { type: "string", describe: "Local file (default: stdout)" }),
          run(async (a) => {
            const { armory, ref } = await agentContext(a, a.agent);
            const f = await armory.files.read.query({ ...ref, path: remotePath(a.path) });
            const bytes = Buffer.from(f.content, f.encoding === "base64" ? "base64" : "utf8");
            if (a.json && !a.dest) return printJson(f);
            if (a.dest && a.dest !== "-") {
              await writeFile(a.dest, bytes);
              if (a.json) printJson({ path: f.path, dest: path.resolve(a.dest), size: f.size, sha256: f.sha256 });
              else info(`${f.path} → ${a.dest} (${humanBytes(f.size)})`);
            } else process.stdout.write(bytes);
          }),
        )
        .command(
          "put <agent> <source> [path]",
          "Upload a local file (`-`: stdin) to path (default: its name in the workspace)",
          (yy) => yy.positional("agent", { type: "string", demandOption: true }).positional("source", { type: "string", demandOption: true }).positional("path", { type: "string" }),
          run(async (a) => {
            const { armory, ref } = await agentContext(a, a.agent);
            let bytes: Buffer;
            if (a.source === "-") bytes = Buffer.from(await readStdin(), "utf8");
            else {
              const s = await stat(a.source);
              if (!s.isFile()) throw new CliError(`not a file: ${a.source}`, EXIT.usage, "USAGE");
              bytes = await readFile(a.source);
            }
            const target = a.path ?? (a.source === "-" ? undefined : path.basename(a.source));
            if (!target) throw new CliError("put - needs a destination path", EXIT.usage, "USAGE");
            const r = await armory.files.write.mutate({ ...ref, path: remotePath(target), content: bytes.toString("base64"), encoding: "base64", createDirs: true });
            if (a.json) printJson(r);
            else info(`${a.source} → ${r.path} (${humanBytes(r.size)}${r.created ? ", new" : ""})`);
          }),
        )
        .demandCommand(1, "files needs a subcommand: ls, get or put"),
    )
    .command(
      "logs <agent>",
      "An agent's container log (-f follows it)",
      (y) =>
        withProject(y)
          .positional("agent", { type: "string", demandOption: true })
          .option("follow", { alias: "f", type: "boolean", default: false, describe: "Keep printing new lines" })
          .option("tail", { alias: "n", type: "number", default: 100, describe: "Lines of history" }),
      run(async (a) => {
        const { armory, ref } = await agentContext(a, a.agent);
        const print = (l: { timestamp: Date; stream: string; message: string }) =>
          a.json ? out(JSON.stringify(l)) : out(`${l.stream === "stderr" ? "! " : l.stream === "armory" ? "# " : ""}${l.message}`);
        if (!a.follow) {
          const r = await armory.logs.tail.query({ ...ref, lines: a.tail });
          for (const l of r.lines) print(l);
          return;
        }
        await new Promise<void>((resolve, reject) => {
          const sub = armory.logs.follow.subscribe({ ...ref, tail: a.tail }, { onData: print, onError: reject, onComplete: resolve });
          process.once("SIGINT", () => {
            sub.unsubscribe();
            process.exit(EXIT.interrupted);
          });
        });
      }),
    )
    .command(
      "approve [id]",
      "Pending approvals: list them, or allow one (--deny to refuse)",
      (y) =>
        withProject(y)
          .positional("id", { type: "string", describe: "Approval id (omit to list the pending ones)" })
          .option("deny", { type: "boolean", default: false, describe: "Deny instead of allow" })
          .option("remember", { choices: ["session", "agent"] as const, describe: "Also allow (or deny) this tool from now on, for the session or the agent" })
          .option("message", { alias: "m", type: "string", describe: "A message for the agent" })
          .option("agent", { type: "string", describe: "Only this agent's (name or id), when listing" }),
      run(async (a) => {
        const { armory } = await client();
        const project = await resolveProject(armory, a);
        if (!a.id) {
          const agentId = a.agent ? (await resolveAgent(armory, project.id, a.agent)).id : undefined;
          const pending = await armory.approval.list.query({ projectId: project.id, agentId, status: "pending" });
          if (a.json) return printJson(pending);
          if (pending.length === 0) return info("No pending approvals.");
          table(
            pending.map((p) => ({ id: p.id, agent: p.agentName, tool: p.toolName, summary: p.summary.length > 60 ? `${p.summary.slice(0, 57)}...` : p.summary, expires: p.expiresAt.toISOString().slice(11, 19) })),
            ["id", "agent", "tool", "summary", "expires"],
          );
          return;
        }
        const r = await armory.approval.decide.mutate({ projectId: project.id, approvalId: a.id, decision: a.deny ? "deny" : "allow", remember: a.remember, message: a.message });
        if (a.json) printJson(r);
        else info(`${r.status === "allowed" ? "Allowed" : r.status === "denied" ? "Denied" : r.status}: ${r.toolName} for ${r.agentName}.`);
      }),
    )
    .completion("completion", "Print the shell completion script: `armory completion bash|zsh`")
    .demandCommand(1, "")
    .strict()
    .recommendCommands()
    .help()
    .alias("h", "help")
    .version(false)
    .epilogue(
      `Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 authentication failed, 5 forbidden, 6 conflict, 7 Armory unreachable, 130 interrupted.\nConfig: ${configPath()} (ARMORY_URL, ARMORY_TOKEN, ARMORY_PROJECT win).`,
    )
    .fail((msg, err, y) => {
      if (err) throw err;
      void y;
      process.stderr.write(`armory: ${msg}\nRun \`armory --help\` for usage.\n`);
      process.exit(EXIT.usage);
    });
}

export async function main(args = hideBin(process.argv)): Promise<void> {
  // `armory completion zsh` (or bash): yargs picks the script by $SHELL when it is created.
  if (args[0] === "completion" && (args[1] === "zsh" || args[1] === "bash")) process.env.SHELL = `/bin/${args[1]}`;
  const json = args.includes("--json");
  try {
    await buildCli(args).parseAsync();
  } catch (err) {
    const e = exitCodeFor(err);
    if (json) process.stderr.write(`${JSON.stringify({ error: { code: e.name, message: e.message, exitCode: e.code } })}\n`);
    else process.stderr.write(`armory: ${e.message}\n`);
    process.exitCode = e.code;
  }
}

await main();
