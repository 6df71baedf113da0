// proc.*: the chat processes (Claude Code), run as the agent user (armoryd already is), each the
// leader of its own process group so a kill reaches everything it started. stdout is split into
// lines (proc.line, or proc.overflow for one longer than MAX_LINE_BYTES), stderr into proc.stderr
// pieces of at most 64 KiB, and proc.exit follows once stdout ended and the process exited.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { MAX_LINE_BYTES, type DaemonEvent, type RequestParams, type RequestResult } from "../contracts/armoryd";
import { LineSplitter } from "./lines";
import { errorText, log } from "./log";

const STDERR_MAX_BYTES = 64 * 1024;
const MEMORY_MAX_BYTES = 64 * 1024;

/** A request that cannot be done: code for the response. */
export class RequestError extends Error {
  constructor(
    readonly code: "bad_request" | "not_found" | "conflict" | "limit" | "internal",
    message: string,
  ) {
    super(message);
  }
}

/**
 * The container's OOM-kill count (cgroup v2 memory.events, or v1 memory.oom_control), null when
 * neither is readable.
 */
export function oomKillCount(): number | null {
  for (const file of ["/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"]) {
    try {
      const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(file, "utf8"));
      if (m) return Number(m[1]);
    } catch {
      // not this cgroup layout
    }
  }
  return null;
}

/** The system prompt with the memory notes appended (as the former in-container script did). */
export function promptWithMemory(systemPrompt: string, memoryFile: string | null): string {
  if (!memoryFile) return systemPrompt;
  let notes: Buffer;
  try {
    const fd = fs.openSync(memoryFile, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      if (!fs.fstatSync(fd).isFile()) return systemPrompt;
      const buf = Buffer.alloc(MEMORY_MAX_BYTES);
      let n = 0;
      for (;;) {
        const r = fs.readSync(fd, buf, n, MEMORY_MAX_BYTES - n, null);
        if (r === 0) break;
        n += r;
        if (n >= MEMORY_MAX_BYTES) break;
      }
      notes = buf.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return systemPrompt;
  }
  if (!notes.length) return systemPrompt;
  return `${systemPrompt}\n\n## Your memory notes (${memoryFile})\n${notes.toString("utf8")}`;
}

interface Proc {
  procId: string;
  child: ChildProcess;
  pid: number;
  oneShot: boolean;
  written: boolean;
  exited: boolean;
  /** Resolves once proc.exit was emitted. */
  done: Promise<void>;
}

export class Procs {
  private readonly procs = new Map<string, Proc>();

  constructor(
    private readonly emit: (event: DaemonEvent) => void,
    /** The daemon's environment without Armory's connection variables. */
    private readonly baseEnv: Record<string, string>,
  ) {}

  get running(): number {
    let n = 0;
    for (const p of this.procs.values()) if (!p.exited) n++;
    return n;
  }

  list(): { procId: string; pid: number; alive: boolean }[] {
    return [...this.procs.values()].map((p) => ({ procId: p.procId, pid: p.pid, alive: !p.exited }));
  }

  async spawn(p: RequestParams<"proc.spawn">): Promise<RequestResult<"proc.spawn">> {
    const existing = this.procs.get(p.procId);
    if (existing && !existing.exited) throw new RequestError("conflict", `process ${p.procId} is running already (pid ${existing.pid})`);
    const [file, ...args] = p.argv as [string, ...string[]];
    args.push("--append-system-prompt", promptWithMemory(p.systemPrompt, p.memoryFile));
    const oomBefore = oomKillCount();
    const child = spawn(file, args, {
      cwd: p.cwd,
      env: { ...this.baseEnv, ...p.env } as NodeJS.ProcessEnv,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", (err) => reject(new RequestError("bad_request", `cannot start ${file}: ${errorText(err)}`)));
    });
    const pid = child.pid!;
    const emit = this.emit;
    const procId = p.procId;
    const out = new LineSplitter(MAX_LINE_BYTES);
    const err = new LineSplitter(STDERR_MAX_BYTES, true);
    const onOut = (lines: ReturnType<LineSplitter["push"]>) => {
      for (const l of lines) {
        if (l.kind === "overflow") emit({ type: "proc.overflow", procId, length: l.length });
        else if (l.text.length) emit({ type: "proc.line", procId, line: l.text });
      }
    };
    const onErr = (lines: ReturnType<LineSplitter["push"]>) => {
      for (const l of lines) if (l.kind === "line" && l.text.trim()) emit({ type: "proc.stderr", procId, text: l.text });
    };
    child.stdout!.on("data", (d: Buffer) => onOut(out.push(d)));
    child.stderr!.on("data", (d: Buffer) => onErr(err.push(d)));
    const stdoutEnded = new Promise<void>((resolve) => child.stdout!.once("close", () => resolve()));
    const stderrEnded = new Promise<void>((resolve) => child.stderr!.once("close", () => resolve()));
    child.stdin!.on("error", () => {}); // EPIPE after the process ended: its exit says why
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const proc: Proc = { procId, child, pid, oneShot: p.oneShot, written: false, exited: false, done: Promise.resolve() };
    proc.done = (async () => {
      const status = await exited;
      proc.exited = true;
      // Anything still in the group (a child holding stdout open) is ended with its leader.
      signalGroup(pid, "SIGKILL");
      await Promise.all([stdoutEnded, stderrEnded]);
      onOut(out.end());
      onErr(err.end());
      const oomAfter = oomKillCount();
      const oomKilled = status.signal === "SIGKILL" && oomBefore !== null && oomAfter !== null && oomAfter > oomBefore;
      emit({ type: "proc.exit", procId, exitCode: status.code, signal: status.signal, oomKilled });
      if (this.procs.get(procId) === proc) this.procs.delete(procId);
    })();
    this.procs.set(procId, proc);
    log(`process ${procId} started (pid ${pid}, ${file})`);
    return { pid };
  }

  private get(procId: string): Proc {
    const proc = this.procs.get(procId);
    if (!proc || proc.exited) throw new RequestError("not_found", `no running process ${procId}`);
    return proc;
  }

  async write(p: RequestParams<"proc.write">): Promise<RequestResult<"proc.write">> {
    const proc = this.get(p.procId);
    const stdin = proc.child.stdin!;
    if (stdin.writableEnded || stdin.destroyed) throw new RequestError("conflict", `the input of ${p.procId} is closed`);
    await new Promise<void>((resolve, reject) => {
      stdin.write(p.data, (e) => (e ? reject(new RequestError("conflict", `writing to ${p.procId} failed: ${errorText(e)}`)) : resolve()));
    });
    proc.written = true;
    if (proc.oneShot) stdin.end();
    return {};
  }

  closeInput(p: RequestParams<"proc.closeInput">): RequestResult<"proc.closeInput"> {
    this.get(p.procId).child.stdin!.end();
    return {};
  }

  async kill(p: RequestParams<"proc.kill">): Promise<RequestResult<"proc.kill">> {
    const proc = this.procs.get(p.procId);
    if (!proc || proc.exited) return { killed: false };
    await this.stop(proc, p.graceMs);
    return { killed: true };
  }

  async killOthers(p: RequestParams<"proc.killOthers">): Promise<RequestResult<"proc.killOthers">> {
    const keep = new Set(p.keep);
    const victims = [...this.procs.values()].filter((x) => !x.exited && !keep.has(x.procId));
    await Promise.all(victims.map((x) => this.stop(x, 2000)));
    return { killed: victims.map((x) => x.procId) };
  }

  /** SIGTERM to the group, SIGKILL after graceMs; resolves when proc.exit was emitted. */
  private async stop(proc: Proc, graceMs: number): Promise<void> {
    signalGroup(proc.pid, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        signalGroup(proc.pid, "SIGKILL");
        resolve();
      }, graceMs);
    });
    await Promise.race([proc.done, late]);
    clearTimeout(timer);
    await proc.done;
  }

  /** On shutdown: every group gets SIGKILL at once. */
  killAll(): void {
    for (const p of this.procs.values()) if (!p.exited) signalGroup(p.pid, "SIGKILL");
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}
