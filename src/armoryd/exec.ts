// exec.run: one bounded command as the agent user (armoryd already is), e.g. git. No shell: argv
// is run as given. The process leads its own group, so the timeout's kill reaches what it started.
// Output is captured up to maxOutputBytes per stream; with `progress`, stderr pieces (split on \n
// and \r, as git --progress writes them) are reported as exec.progress events while it runs.
// Private `files` (a deploy key) live in a 0700 temporary directory only while the command runs.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DaemonEvent, RequestParams, RequestResult } from "../contracts/armoryd";
import { RequestError } from "./procs";
import { errorText } from "./log";

const PROGRESS_MAX_CHARS = 1000;
/** Commands running at once (each holds up to two capped buffers). */
const MAX_RUNNING = 16;

class Capped {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  constructor(private readonly max: number) {}
  push(d: Buffer): void {
    this.total += d.length;
    if (this.kept >= this.max) return;
    const take = d.subarray(0, this.max - this.kept);
    this.chunks.push(take);
    this.kept += take.length;
  }
  get buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export class Execs {
  private running = new Map<string, number>();

  constructor(
    private readonly emit: (event: DaemonEvent) => void,
    /** The daemon's environment without Armory's connection variables. */
    private readonly baseEnv: Record<string, string>,
  ) {}

  get count(): number {
    return this.running.size;
  }

  async run(p: RequestParams<"exec.run">): Promise<RequestResult<"exec.run">> {
    if (this.running.has(p.execId)) throw new RequestError("conflict", `command ${p.execId} is running already`);
    if (this.running.size >= MAX_RUNNING) throw new RequestError("limit", `${MAX_RUNNING} commands are running already`);
    const [file, ...args] = p.argv as [string, ...string[]];
    const started = performance.now();
    this.running.set(p.execId, 0);
    let privateDir: string | null = null;
    try {
      const fileEnv: Record<string, string> = {};
      if (p.files?.length) {
        privateDir = await fs.mkdtemp(path.join(os.tmpdir(), "armoryd-exec-"));
        await fs.chmod(privateDir, 0o700);
        for (const [i, f] of p.files.entries()) {
          const where = path.join(privateDir, `f${i}`);
          await fs.writeFile(where, f.content, { mode: 0o600, flag: "wx" });
          fileEnv[f.env] = where;
        }
      }
      const child = spawn(file, args, {
        cwd: p.cwd,
        env: { ...this.baseEnv, ...p.env, ...fileEnv } as NodeJS.ProcessEnv,
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
      });
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", () => resolve());
        child.once("error", (err) => reject(new RequestError("bad_request", `cannot start ${file}: ${errorText(err)}`)));
      });
      const pid = child.pid!;
      this.running.set(p.execId, pid);
      const out = new Capped(p.maxOutputBytes);
      const err = new Capped(p.maxOutputBytes);
      let pending = "";
      const progress = (text: string) => {
        const t = text.trim();
        if (t) this.emit({ type: "exec.progress", execId: p.execId, text: t.slice(0, PROGRESS_MAX_CHARS) });
      };
      child.stdout!.on("data", (d: Buffer) => out.push(d));
      child.stderr!.on("data", (d: Buffer) => {
        err.push(d);
        if (!p.progress) return;
        pending += d.toString("utf8");
        const pieces = pending.split(/[\r\n]/);
        pending = pieces.pop() ?? "";
        if (pending.length > PROGRESS_MAX_CHARS) pending = pending.slice(-PROGRESS_MAX_CHARS);
        for (const piece of pieces) progress(piece);
      });
      child.stdin!.on("error", () => {}); // EPIPE: the command did not read its input
      child.stdin!.end(p.stdin);
      const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("close", (code, signal) => resolve({ code, signal })),
      );
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup(pid, "SIGKILL");
      }, p.timeoutMs);
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      // Whatever the command left behind in its group (e.g. a git remote helper) ends with it.
      void exited.then(() => signalGroup(pid, "SIGKILL"));
      const status = await closed;
      clearTimeout(timer);
      if (p.progress) progress(pending);
      return {
        exitCode: status.code,
        signal: status.signal,
        timedOut,
        stdout: out.buffer.toString("base64"),
        stdoutBytes: out.total,
        stderr: err.buffer.toString("utf8"),
        stderrBytes: err.total,
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      this.running.delete(p.execId);
      if (privateDir) await fs.rm(privateDir, { recursive: true, force: true });
    }
  }

  killAll(): void {
    for (const pid of this.running.values()) if (pid) signalGroup(pid, "SIGKILL");
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}
