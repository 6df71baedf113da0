// armoryd in a real agent container (the real image), with this test playing Armory: a `ws`
// WebSocketServer on the gateway address of a user-defined network the container joins. Proves
// the daemon dials home with the token, says hello with its capabilities and container id, does
// files, processes, the config watcher and terminals on request, keeps heartbeats with its
// self-report, sends the events of a burst in a few `events` frames (protocol 2), replays events
// after a cut connection (none lost, none twice), and stops fast.
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import {
  AGENTD_PATH,
  DEAD_AFTER_MS,
  HEARTBEAT_MS,
  ENV_AGENT_TOKEN,
  ENV_DAEMON_URL,
  PROTOCOL_VERSION,
  daemonMessage,
  type DaemonEvent,
  type DaemonMessage,
  type HelloMessage,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
  type SelfReport,
  type SequencedEvent,
} from "@/contracts/armoryd";
import { AGENT_IMAGE_VERSION, agentImageTag, ensureAgentImage } from "@/server/runtime/docker/agent-image";

const docker = new Docker({ socketPath: process.env.ARMORY_TEST_DOCKER_SOCKET ?? "/var/run/docker.sock" });
const suffix = randomBytes(4).toString("hex");
const TOKEN = `agt_${randomBytes(16).toString("hex")}`;

type Response = Extract<DaemonMessage, { type: "response" }>;

/** Polls `check` until it returns a value (not undefined); `limitMs` only guards against a hang. */
async function until<T>(what: string, check: () => T | undefined, limitMs = 15_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The Armory side of the protocol, as small as the test needs. */
class FakeArmory {
  readonly wss: WebSocketServer;
  socket: WebSocket | null = null;
  /** Every upgrade request's headers, in order. */
  readonly upgrades: IncomingMessage["headers"][] = [];
  readonly hellos: HelloMessage[] = [];
  /** Every event received, in arrival order (duplicates would show here). */
  readonly events: SequencedEvent[] = [];
  /** Frames that carried them: `event` (protocol 1, one each) and `events` (batches). */
  readonly eventFrames = { event: 0, events: 0 };
  readonly pings: { at: number; report: SelfReport }[] = [];
  pongs = 0;
  readonly closes: number[] = [];
  /** While set, frames are counted here and otherwise ignored (as if lost on the way). */
  deaf: { frames: number } | null = null;
  private nextId = 1;
  private pending = new Map<number, (r: Response) => void>();
  /** The welcome's resumeAfter: null for the first connection, then the highest seq held. */
  private knownDaemon: string | null = null;
  private ackTimer: ReturnType<typeof setInterval>;

  constructor(host: string) {
    this.wss = new WebSocketServer({ host, port: 0, path: AGENTD_PATH, maxPayload: 64 * 1024 * 1024 });
    this.wss.on("connection", (ws, req) => {
      this.upgrades.push(req.headers);
      this.socket = ws;
      this.deaf = null;
      ws.on("close", (code) => this.closes.push(code));
      ws.on("message", (data) => this.onFrame(ws, String(data)));
    });
    this.ackTimer = setInterval(() => {
      if (this.socket && this.lastSeq && !this.deaf) this.socket.send(JSON.stringify({ type: "ack", seq: this.lastSeq }));
    }, 200);
  }

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  url(): string {
    const a = this.wss.address() as { address: string; port: number };
    return `ws://${a.address}:${a.port}${AGENTD_PATH}`;
  }

  private onFrame(ws: WebSocket, text: string): void {
    if (this.deaf) {
      this.deaf.frames++;
      return;
    }
    const raw = JSON.parse(text) as unknown;
    const parsed = daemonMessage.safeParse(raw);
    if (!parsed.success) throw new Error(`invalid frame from the daemon: ${text.slice(0, 300)}`);
    const m = parsed.data;
    switch (m.type) {
      case "hello": {
        this.hellos.push(m);
        const resumeAfter = this.knownDaemon === m.daemonId ? this.lastSeq : null;
        this.knownDaemon = m.daemonId;
        ws.send(JSON.stringify({ type: "welcome", protocol: PROTOCOL_VERSION, resumeAfter }));
        return;
      }
      case "event":
        this.eventFrames.event++;
        this.events.push(m);
        return;
      case "events":
        this.eventFrames.events++;
        this.events.push(...m.events);
        return;
      case "response":
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
        return;
      case "ping":
        this.pings.push({ at: m.at, report: m.report });
        ws.send(JSON.stringify({ type: "pong", at: Date.now() }));
        return;
      case "pong":
        this.pongs++;
        return;
    }
  }

  /** Sends a request on the current connection; resolves with the response frame. */
  call<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<Response> {
    const ws = this.socket;
    if (!ws) throw new Error("no daemon connected");
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no response within 20 s`)), 20_000);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      ws.send(JSON.stringify({ type: "request", id, method, params }));
    });
  }

  /** A request that must succeed: its result. */
  async ok<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
    const r = await this.call(method, params);
    if (!r.ok) throw new Error(`${method} failed: ${JSON.stringify(r.error)}`);
    return r.result as RequestResult<M>;
  }

  /** A request that must fail: its error. */
  async fails<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<NonNullable<Response["error"]>> {
    const r = await this.call(method, params);
    if (r.ok) throw new Error(`${method} succeeded, expected a failure: ${JSON.stringify(r.result)}`);
    return r.error!;
  }

  eventsOf<T extends DaemonEvent["type"]>(type: T, from = 0): Extract<DaemonEvent, { type: T }>[] {
    return this.events.slice(from).flatMap((e) => (e.event.type === type ? [e.event as Extract<DaemonEvent, { type: T }>] : []));
  }

  async close(): Promise<void> {
    clearInterval(this.ackTimer);
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** Creates a user-defined bridge network on a free /24; returns it and its gateway address. */
async function createNetwork(name: string): Promise<{ id: string; gateway: string }> {
  const used = (await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? ""));
  for (let attempt = 0; attempt < 20; attempt++) {
    const third = 1 + Math.floor(Math.random() * 250);
    const subnet = `10.198.${third}.0/24`;
    if (used.includes(subnet)) continue;
    try {
      const net = await docker.createNetwork({
        Name: name,
        Driver: "bridge",
        CheckDuplicate: true,
        IPAM: { Driver: "default", Config: [{ Subnet: subnet, Gateway: `10.198.${third}.1` }] },
        Labels: { "dev.armory.test": "armoryd" },
      });
      return { id: net.id, gateway: `10.198.${third}.1` };
    } catch (err) {
      if (!/overlap/i.test(String((err as Error).message))) throw err;
    }
  }
  throw new Error("no free 10.198.x.0/24 subnet");
}

async function containerLogs(c: Docker.Container): Promise<string> {
  const buf = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  // Strip the 8-byte frame headers.
  const out: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out).toString("utf8");
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");

describe("armoryd in a real agent container", () => {
  let armory: FakeArmory;
  let network: { id: string; gateway: string };
  let container: Docker.Container;
  const volumes: string[] = [];
  const containers: Docker.Container[] = [];

  async function createAgent(name: string, env: string[]): Promise<Docker.Container> {
    const ws = `armoryd-test-ws-${name}-${suffix}`;
    const home = `armoryd-test-home-${name}-${suffix}`;
    volumes.push(ws, home);
    const c = await docker.createContainer({
      name: `armoryd-test-${name}-${suffix}`,
      Image: agentImageTag(),
      Env: env,
      Labels: { "dev.armory.test": "armoryd" },
      HostConfig: {
        Init: true,
        NetworkMode: `armoryd-test-${suffix}`,
        Binds: [`${ws}:/workspace`, `${home}:/home/agent/.claude`],
        Memory: 512 * 1024 * 1024,
        MemorySwap: 512 * 1024 * 1024,
      },
    });
    containers.push(c);
    await c.start();
    return c;
  }

  let runs = 0;
  /** Runs a bash script through proc.spawn; its stdout lines once it exited. */
  async function run(script: string): Promise<string[]> {
    const procId = `run-${++runs}`;
    const from = armory.events.length;
    await armory.ok("proc.spawn", { procId, argv: ["bash", "-c", script], env: {}, cwd: "/", systemPrompt: "", memoryFile: null, oneShot: true });
    const exit = await until(`${procId} to end`, () => armory.eventsOf("proc.exit", from).find((e) => e.procId === procId));
    expect(exit.exitCode).toBe(0);
    return armory.eventsOf("proc.line", from).filter((e) => e.procId === procId).map((e) => e.line);
  }

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    network = await createNetwork(`armoryd-test-${suffix}`);
    armory = new FakeArmory(network.gateway);
    await new Promise<void>((resolve) => armory.wss.once("listening", () => resolve()));
    container = await createAgent("main", [`${ENV_DAEMON_URL}=${armory.url()}`, `${ENV_AGENT_TOKEN}=${TOKEN}`, "ARMORY_TEST_MARKER=kept"]);
    await until("the daemon's hello", () => armory.hellos[0]);
    await until("the first config.watching", () => armory.eventsOf("config.watching")[0]);
  }, 600_000);

  afterAll(async () => {
    for (const c of containers) await c.remove({ force: true }).catch(() => {});
    for (const v of volumes) await docker.getVolume(v).remove().catch(() => {});
    await armory?.close();
    if (network) await docker.getNetwork(network.id).remove().catch(() => {});
  });

  it("dials home with the token and says hello with its capabilities and container id", async () => {
    expect(armory.upgrades[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    const hello = armory.hellos[0]!;
    expect(hello.protocol).toBe(PROTOCOL_VERSION);
    expect(hello.containerId).toBe(container.id);
    expect(hello.processes).toEqual([]);
    expect(hello.terminals).toEqual([]);
    expect(hello.capabilities).toMatchObject({
      agentVersion: AGENT_IMAGE_VERSION,
      claudeVersion: expect.stringMatching(/^2\.1\.\d+$/),
      writablePaths: ["/workspace", "/home/agent/.claude"],
      configWatcher: "fs.watch",
      supportedActions: ["chat", "files", "files-watch", "config-reload", "health", "terminal", "exec", "git-ssh"],
    });
    expect(hello.capabilities.instructionFiles).toContain("/workspace/CLAUDE.md");
    expect(armory.eventsOf("config.watching")[0]!.dirs).toEqual(expect.arrayContaining(["/workspace", "/home/agent/.claude"]));
    // The token never reaches the container log.
    expect(await containerLogs(container)).not.toContain(TOKEN);
  });

  it("sends heartbeats with its self-report; nothing listens in the container", async () => {
    armory.socket!.send(JSON.stringify({ type: "ping", at: Date.now() }));
    await until("a pong", () => (armory.pongs > 0 ? true : undefined));
    const ping = await until("a ping", () => armory.pings.at(-1), 12_000);
    expect(ping.report.rssBytes).toBeGreaterThan(1_000_000);
    expect(ping.report.uptimeMs).toBeGreaterThan(0);
    // The idle RSS (before any big frame: Bun keeps buffers of the largest frame for the life of
    // the socket), for the report (goal < 30 MB).
    console.log(`armoryd RSS: ${(ping.report.rssBytes / 1024 / 1024).toFixed(1)} MiB (${JSON.stringify(ping.report)})`);
    expect(ping.report.rssBytes).toBeLessThan(80 * 1024 * 1024);
    // Listening sockets (TCP state 0A) in the container's network namespace, and the sockets every
    // process in the container holds: none of the listeners is ours (Docker's embedded DNS
    // resolver listens on 127.0.0.11 from outside the container's processes).
    const listening = await run("cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null | awk '$4 == \"0A\" || ($4 == \"07\" && $3 ~ /^0+:0000$/) {print $10}'");
    const held = await run("ls -l /proc/[0-9]*/fd 2>/dev/null | grep -o 'socket:\\[[0-9]*\\]' | tr -dc '0-9\\n'");
    expect(held.length).toBeGreaterThan(0); // at least the daemon's own connection
    for (const inode of listening) expect(held).not.toContain(inode);
    const mem = await run("grep -E '^(VmRSS|RssAnon|RssFile)' /proc/$(pgrep -x armoryd)/status | tr -s ' \\t' ' ' | paste -sd ' '");
    console.log(`armoryd memory in the container: ${mem.join("")}`);
  });

  it("runs processes in their own group without Armory's variables; writes, one-shot input, kills the whole group", async () => {
    const from = armory.events.length;
    const script = [
      'echo \'{"type":"system","subtype":"init"}\'',
      'echo "token=${ARMORY_AGENT_TOKEN:-none} url=${ARMORY_DAEMON_URL:-none} marker=$ARMORY_TEST_MARKER extra=$EXTRA uid=$(id -u) cwd=$PWD"',
      'printf "%s\\n" "$@" | tail -n 2 | tr "\\n" "|"; echo',
      "echo to-stderr >&2",
      "sleep 300 & echo child=$!",
      'read -r input; echo "{\\"got\\":\\"$input\\"}"',
      "read -r more || echo stdin-closed",
      "wait",
    ].join("\n");
    const { pid } = await armory.ok("proc.spawn", {
      procId: "p1",
      argv: ["bash", "-c", script, "script"],
      env: { EXTRA: "yes" },
      cwd: "/workspace",
      systemPrompt: "You are a test.",
      memoryFile: null,
      oneShot: true,
    });
    expect(pid).toBeGreaterThan(1);
    const lines = () => armory.eventsOf("proc.line", from).filter((e) => e.procId === "p1").map((e) => e.line);
    const child = await until("the background child's pid", () => lines().find((l) => l.startsWith("child=")));
    expect(lines()[0]).toBe('{"type":"system","subtype":"init"}');
    expect(lines()[1]).toBe("token=none url=none marker=kept extra=yes uid=1000 cwd=/workspace");
    expect(lines()[2]).toBe("--append-system-prompt|You are a test.|");
    await until("stderr", () => armory.eventsOf("proc.stderr", from).find((e) => e.text === "to-stderr"));

    await armory.ok("proc.write", { procId: "p1", data: "hello\n" });
    await until("the answer", () => lines().find((l) => l === '{"got":"hello"}'));
    await until("stdin closed after the one-shot write", () => lines().find((l) => l === "stdin-closed"));
    expect((await armory.fails("proc.write", { procId: "p1", data: "again\n" })).code).toBe("conflict");

    // The background sleep is in the group: proc.kill ends it too, and answers when it is gone.
    const childPid = Number(child.slice("child=".length));
    const pids = async () => (await run('ps -eo pid= | tr -d " "')).map(Number);
    expect(await pids()).toContain(childPid);
    expect(await armory.ok("proc.kill", { procId: "p1", graceMs: 2000 })).toEqual({ killed: true });
    const exit = armory.eventsOf("proc.exit", from).find((e) => e.procId === "p1");
    expect(exit).toMatchObject({ signal: "SIGTERM", exitCode: null, oomKilled: false });
    const after = await pids();
    expect(after.length).toBeGreaterThan(1);
    expect(after).not.toContain(childPid);
    expect(after).not.toContain(pid);
    expect(await armory.ok("proc.kill", { procId: "p1", graceMs: 0 })).toEqual({ killed: false });
  });

  it("appends the memory notes to the system prompt, and kills with SIGKILL after the grace time", async () => {
    await armory.ok("fs.write", {
      root: "/home/agent/.claude",
      path: "/home/agent/.claude/memory.md",
      content: b64("remember the milk"),
      mode: 0o644,
      mtime: Date.now(),
      createDirs: false,
      exclusive: false,
    });
    const from = armory.events.length;
    await armory.ok("proc.spawn", {
      procId: "p2",
      argv: ["bash", "-c", 'trap "" TERM; printf "%s" "${@: -1}" | base64 -w0; echo; while :; do sleep 0.1; done', "x"],
      env: {},
      cwd: "/workspace",
      systemPrompt: "Base.",
      memoryFile: "/home/agent/.claude/memory.md",
      oneShot: false,
    });
    const prompt = await until("the prompt", () => armory.eventsOf("proc.line", from).find((e) => e.procId === "p2"));
    expect(unb64(prompt.line)).toBe("Base.\n\n## Your memory notes (/home/agent/.claude/memory.md)\nremember the milk");
    const started = Date.now();
    expect(await armory.ok("proc.kill", { procId: "p2", graceMs: 300 })).toEqual({ killed: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(armory.eventsOf("proc.exit", from).find((e) => e.procId === "p2")).toMatchObject({ signal: "SIGKILL", oomKilled: false });
  });

  it("does file operations as the agent user, refusing symlinks and paths outside the roots", async () => {
    const W = "/workspace";
    const write = (p: string, content: string, extra: Partial<RequestParams<"fs.write">> = {}) =>
      armory.call("fs.write", { root: W, path: p, content: b64(content), mode: 0o640, mtime: 1_700_000_000_000, createDirs: true, exclusive: false, ...extra });
    expect((await write(`${W}/dir/sub/a.txt`, "hello")).ok).toBe(true);
    const read = await armory.ok("fs.read", { root: W, path: `${W}/dir/sub/a.txt`, maxBytes: 1000 });
    expect(unb64(read.content)).toBe("hello");
    expect(read).toMatchObject({ size: 5, mode: 0o640, modifiedAt: 1_700_000_000_000 });
    expect((await armory.fails("fs.read", { root: W, path: `${W}/dir/sub/a.txt`, maxBytes: 3 })).code).toBe("toolarge");
    expect((await armory.fails("fs.read", { root: W, path: `${W}/dir/nope`, maxBytes: 3 })).code).toBe("missing");

    // Exclusive create: never replaces.
    const excl = await write(`${W}/dir/sub/a.txt`, "other", { exclusive: true });
    expect(excl.ok).toBe(false);
    expect(excl.error?.code).toBe("exists");
    expect((await write(`${W}/dir/sub/b.txt`, "new", { exclusive: true })).ok).toBe(true);

    // Append with the offset check.
    expect(await armory.ok("fs.append", { root: W, path: `${W}/dir/sub/a.txt`, content: b64(" world"), offset: 5, maxBytes: 100 })).toEqual({ size: 11 });
    expect(await armory.fails("fs.append", { root: W, path: `${W}/dir/sub/a.txt`, content: b64("!"), offset: 5, maxBytes: 100 })).toMatchObject({ code: "offset", size: 11 });
    expect((await armory.fails("fs.append", { root: W, path: `${W}/dir/sub/a.txt`, content: b64("!!!!"), offset: 11, maxBytes: 12 })).code).toBe("toolarge");

    // mkdir, rename (no-replace unless overwrite), list, resolve.
    await armory.ok("fs.mkdir", { root: W, path: `${W}/made/deep`, mode: 0o750, createDirs: true });
    expect((await armory.fails("fs.mkdir", { root: W, path: `${W}/made/deep`, mode: 0o750, createDirs: false })).code).toBe("exists");
    expect((await armory.fails("fs.rename", { root: W, path: `${W}/dir/sub/a.txt`, toRoot: W, to: `${W}/dir/sub/b.txt`, overwrite: false })).code).toBe("exists");
    await armory.ok("fs.rename", { root: W, path: `${W}/dir/sub/a.txt`, toRoot: W, to: `${W}/made/deep/c.txt`, overwrite: false });
    await armory.ok("fs.rename", { root: W, path: `${W}/dir/sub/b.txt`, toRoot: W, to: `${W}/made/deep/c.txt`, overwrite: true });
    expect(unb64((await armory.ok("fs.read", { root: W, path: `${W}/made/deep/c.txt`, maxBytes: 100 })).content)).toBe("new");
    expect(await containerLogs(container)).not.toContain("renameat2 is not reachable"); // the no-replace rename is atomic
    expect((await armory.fails("fs.rename", { root: W, path: `${W}/made`, toRoot: W, to: `${W}/made/deep/inside`, overwrite: false })).code).toBe("invalid");
    expect((await armory.fails("fs.rename", { root: W, path: `${W}/made/nothing`, toRoot: W, to: `${W}/made/other`, overwrite: false })).code).toBe("missing");
    expect((await armory.fails("fs.rename", { root: W, path: `${W}/made/deep/c.txt`, toRoot: "/home/agent/.claude", to: "/home/agent/.claude/c.txt", overwrite: false })).code).toBe("crossdev");

    // A symlink pointing outside the roots: listed as a link, never followed by any operation.
    await run("ln -s /etc /workspace/evil && ln -s /etc/passwd /workspace/pw && ln -s nowhere /workspace/dangling");
    const listed = await armory.ok("fs.list", { path: W, limit: 100, shownPath: W });
    expect(listed.truncated).toBe(false);
    const byName = Object.fromEntries(listed.entries.map((e) => [e.name, e]));
    expect(byName.evil).toMatchObject({ type: "symlink", symlinkTarget: "/etc", targetType: "directory", path: "/workspace/evil" });
    expect(byName.dangling).toMatchObject({ type: "symlink", targetType: "missing" });
    expect(byName.made).toMatchObject({ type: "directory" });
    expect((await armory.ok("fs.list", { path: W, limit: 2, shownPath: W })).truncated).toBe(true);
    for (const bad of [
      () => write(`${W}/evil/armory-test`, "x"),
      () => armory.call("fs.read", { root: W, path: `${W}/evil/passwd`, maxBytes: 100000 }),
      () => armory.call("fs.read", { root: W, path: `${W}/pw`, maxBytes: 100000 }),
      () => armory.call("fs.mkdir", { root: W, path: `${W}/evil/x`, mode: 0o755, createDirs: true }),
      () => armory.call("fs.delete", { root: W, path: `${W}/evil/passwd`, recursive: false }),
      () => armory.call("fs.append", { root: W, path: `${W}/pw`, content: b64("x"), offset: 0, maxBytes: 10 }),
    ]) {
      const r = await bad();
      expect(r.ok).toBe(false);
      expect(["symlink", "outside"]).toContain(r.error!.code);
    }
    expect((await armory.fails("fs.read", { root: "/etc", path: "/etc/passwd", maxBytes: 100000 })).code).toBe("outside");
    expect((await armory.fails("fs.read", { root: W, path: "/etc/passwd", maxBytes: 100000 })).code).toBe("outside");
    expect((await armory.fails("fs.read", { root: W, path: `${W}/made/../../etc/passwd`, maxBytes: 100000 })).code).toBe("invalid");

    const [evil, missing, own] = (await armory.ok("fs.resolve", { paths: [`${W}/evil/hostname`, `${W}/made/none/x`, `${W}/pw`] })).paths;
    expect(evil).toMatchObject({ resolved: "/etc/hostname", existingAncestor: "/etc/hostname", type: "file", ownType: "file" });
    expect(missing).toMatchObject({ resolved: `${W}/made/none/x`, existingAncestor: `${W}/made`, type: null, ancestorType: "directory", ownType: null, modifiedAt: null });
    expect(own).toMatchObject({ resolved: "/etc/passwd", type: "file", ownType: "symlink" });

    // Deleting a link removes the link, not its target; a directory needs `recursive`.
    await armory.ok("fs.delete", { root: W, path: `${W}/evil`, recursive: true });
    expect((await armory.ok("fs.resolve", { paths: ["/etc/hostname"] })).paths[0]!.type).toBe("file");
    expect((await armory.fails("fs.delete", { root: W, path: `${W}/made`, recursive: false })).code).toBe("isdir");
    await armory.ok("fs.delete", { root: W, path: `${W}/made`, recursive: true });
    expect((await armory.ok("fs.resolve", { paths: [`${W}/made`] })).paths[0]!.type).toBeNull();
    // Bad params: a clear bad_request.
    expect((await armory.call("fs.read", { root: W } as unknown as RequestParams<"fs.read">)).error?.code).toBe("bad_request");
  });

  it("moves big files in big frames and lists big directories (timings for the report)", async () => {
    const W = "/workspace";
    const mib = randomBytes(1024 * 1024);
    const params = { root: W, path: `${W}/big/one.bin`, content: mib.toString("base64"), mode: 0o644, mtime: Date.now(), createDirs: true, exclusive: false };
    await armory.ok("fs.write", params); // warm-up
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await armory.ok("fs.write", params);
      const back = await armory.ok("fs.read", { root: W, path: `${W}/big/one.bin`, maxBytes: 2 * 1024 * 1024 });
      times.push(performance.now() - t0);
      expect(Buffer.from(back.content, "base64").equals(mib)).toBe(true);
    }
    // 40 MiB: a frame of about 53 MiB each way.
    const big = randomBytes(40 * 1024 * 1024);
    expect(await armory.ok("fs.write", { ...params, path: `${W}/big/forty.bin`, content: big.toString("base64") })).toEqual({ size: big.length });
    const bigBack = await armory.ok("fs.read", { root: W, path: `${W}/big/forty.bin`, maxBytes: 64 * 1024 * 1024 });
    expect(Buffer.from(bigBack.content, "base64").equals(big)).toBe(true);
    await armory.ok("fs.delete", { root: W, path: `${W}/big`, recursive: true });

    await run("mkdir /workspace/many && cd /workspace/many && seq 1 10000 | sed 's/^/entry-/' | xargs touch");
    const t0 = performance.now();
    const listed = await armory.ok("fs.list", { path: `${W}/many`, limit: 20_000, shownPath: `${W}/many` });
    const listMs = performance.now() - t0;
    expect(listed.entries).toHaveLength(10_000);
    expect(listed.truncated).toBe(false);
    await armory.ok("fs.delete", { root: W, path: `${W}/many`, recursive: true });
    times.sort((a, b) => a - b);
    console.log(`fs.write+fs.read 1 MiB: median ${times[2]!.toFixed(1)} ms (${times.map((t) => t.toFixed(1)).join(", ")}); fs.list 10,000 entries: ${listMs.toFixed(1)} ms`);
  }, 120_000);

  it("reports a config.reload after /workspace/CLAUDE.md is written", async () => {
    const from = armory.events.length;
    await armory.ok("fs.write", { root: "/workspace", path: "/workspace/CLAUDE.md", content: b64("# Be brief"), mode: 0o644, mtime: Date.now(), createDirs: false, exclusive: false });
    const reload = await until("config.reload", () => armory.eventsOf("config.reload", from)[0]);
    expect(reload.files).toEqual(["/workspace/CLAUDE.md"]);
    expect(reload.reportedAt - reload.changedAt).toBeLessThan(1000);
    // A new .claude/commands directory is watched from then on.
    await armory.ok("fs.mkdir", { root: "/workspace", path: "/workspace/.claude/commands", mode: 0o755, createDirs: true });
    await until("config.watching with the new directory", () =>
      armory.eventsOf("config.watching", from).find((e) => e.dirs.includes("/workspace/.claude/commands")),
    );
    // The new directories are a change of their own (one burst).
    await until("the reload for the new directories", () => armory.eventsOf("config.reload", from).find((e) => e.files.includes("/workspace/.claude")));
    const mark = armory.events.length;
    await armory.ok("fs.write", { root: "/workspace", path: "/workspace/.claude/commands/hi.md", content: b64("hi"), mode: 0o644, mtime: Date.now(), createDirs: false, exclusive: false });
    const r2 = await until("config.reload of the command", () => armory.eventsOf("config.reload", mark)[0]);
    expect(r2.files).toEqual(["/workspace/.claude/commands/hi.md"]);
  });

  it("opens a terminal: input, output, resize, close", async () => {
    const from = armory.events.length;
    const { pid } = await armory.ok("term.open", { termId: "t1", cols: 80, rows: 24, cwd: "/workspace" });
    expect(pid).toBeGreaterThan(1);
    const output = () =>
      armory
        .eventsOf("term.data", from)
        .filter((e) => e.termId === "t1")
        .map((e) => unb64(e.data))
        .join("");
    await armory.ok("term.input", { termId: "t1", data: "echo hi-$((40+2)) $TERM ${ARMORY_AGENT_TOKEN:-no-token}\n" });
    await until("the echo", () => (output().includes("hi-42 xterm-256color no-token") ? true : undefined));
    await armory.ok("term.resize", { termId: "t1", cols: 100, rows: 30 });
    await armory.ok("term.input", { termId: "t1", data: "stty size\n" });
    await until("the new size", () => (output().includes("30 100") ? true : undefined));
    await armory.ok("term.close", { termId: "t1" });
    await until("term.exit", () => armory.eventsOf("term.exit", from).find((e) => e.termId === "t1"));
    expect((await armory.fails("term.input", { termId: "t1", data: "x" })).code).toBe("not_found");
  });

  it("sends a burst of output in a few `events` frames, every line in order", async () => {
    const from = armory.events.length;
    const frames = { ...armory.eventFrames };
    await armory.ok("proc.spawn", { procId: "burst", argv: ["bash", "-c", "seq 1 5000"], env: {}, cwd: "/", systemPrompt: "", memoryFile: null, oneShot: true });
    await until("the burst to end", () => armory.eventsOf("proc.exit", from).find((e) => e.procId === "burst"));
    const lines = armory.eventsOf("proc.line", from).filter((e) => e.procId === "burst").map((e) => e.line);
    expect(lines).toEqual(Array.from({ length: 5000 }, (_, i) => String(i + 1)));
    const batches = armory.eventFrames.events - frames.events;
    console.log(`5,000 lines + exit arrived in ${batches} events frames`);
    expect(armory.eventFrames.event).toBe(frames.event);
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(100);
  });

  it("replays the events after a cut connection: none lost, none twice", async () => {
    const from = armory.events.length;
    const helloCount = armory.hellos.length;
    await armory.ok("proc.spawn", {
      procId: "counter",
      argv: ["bash", "-c", "for i in $(seq 1 400); do echo n$i; sleep 0.01; done"],
      env: {},
      cwd: "/",
      systemPrompt: "",
      memoryFile: null,
      oneShot: true,
    });
    await until("the first lines", () => (armory.eventsOf("proc.line", from).length >= 20 ? true : undefined));
    // Frames lost on the way: the daemon sent them, Armory never got them; then the cut.
    const deaf = (armory.deaf = { frames: 0 });
    await until("frames to be lost", () => (deaf.frames >= 20 ? true : undefined));
    armory.socket!.terminate();
    armory.socket = null;
    armory.deaf = null;
    const heldBeforeCut = armory.lastSeq;
    await until("the reconnect", () => (armory.hellos.length > helloCount && armory.socket ? true : undefined));
    expect(armory.hellos.at(-1)!.daemonId).toBe(armory.hellos[0]!.daemonId);
    expect(armory.hellos.at(-1)!.processes).toContainEqual({ procId: "counter", pid: expect.any(Number), alive: true });
    expect(armory.upgrades.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
    // The first event after the reconnect is the one after the last Armory held: a replay.
    await until("the replay", () => (armory.lastSeq > heldBeforeCut ? true : undefined));
    expect(armory.events.find((e) => e.seq > heldBeforeCut)!.seq).toBe(heldBeforeCut + 1);
    expect(await containerLogs(container)).toMatch(/replayed \d+ events after seq \d+/);
    await until("the counter to end", () => armory.eventsOf("proc.exit", from).find((e) => e.procId === "counter"), 20_000);
    const seqs = armory.events.slice(from).map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    const lines = armory.eventsOf("proc.line", from).filter((e) => e.procId === "counter").map((e) => e.line);
    expect(lines).toEqual(Array.from({ length: 400 }, (_, i) => `n${i + 1}`));
  });

  it("reports a process the kernel's OOM killer ended as oomKilled", async () => {
    const from = armory.events.length;
    // Grows 16 MiB at a time in a container limited to 512 MiB (no swap).
    await armory.ok("proc.spawn", { procId: "hog", argv: ["bash", "-c", `exec perl -e 'my @a; push @a, "a" x (16 * 1024 * 1024) while 1'`], env: {}, cwd: "/", systemPrompt: "", memoryFile: null, oneShot: true });
    const exit = await until("the hog to end", () => armory.eventsOf("proc.exit", from).find((e) => e.procId === "hog"), 20_000);
    expect(exit).toMatchObject({ signal: "SIGKILL", oomKilled: true });
    expect((await container.inspect()).State.Running).toBe(true);
  });

  it("without Armory's variables it says why and idles", async () => {
    const idle = await createAgent("idle", []);
    let logs = "";
    const end = Date.now() + 10_000;
    while (!logs.includes("not set") && Date.now() < end) {
      logs = await containerLogs(idle);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(logs).toContain("ARMORY_DAEMON_URL and ARMORY_AGENT_TOKEN not set");
    expect((await idle.inspect()).State.Running).toBe(true);
  });

  it("drops a connection on which it hears nothing for DEAD_AFTER_MS, and dials again", async () => {
    const hellos = armory.hellos.length;
    const closes = armory.closes.length;
    const deafSince = Date.now();
    armory.deaf = { frames: 0 }; // hears the daemon's pings, answers nothing
    await until("a new hello", () => (armory.hellos.length > hellos ? true : undefined), DEAD_AFTER_MS + HEARTBEAT_MS + 10_000);
    expect(Date.now() - deafSince).toBeGreaterThanOrEqual(DEAD_AFTER_MS);
    expect(armory.closes.slice(closes)).toContain(4000);
    expect(armory.hellos.at(-1)!.daemonId).toBe(armory.hellos[0]!.daemonId);
  }, 60_000);

  it("stops at once on SIGTERM, closing the connection with 1001", async () => {
    const started = Date.now();
    await container.stop({ t: 10 });
    const took = Date.now() - started;
    expect(took).toBeLessThan(3000);
    expect((await container.inspect()).State.ExitCode).toBe(0);
    await until("the close", () => (armory.closes.includes(1001) ? true : undefined), 5000);
  });
});
