// Processes inside containers (docker exec): a long-lived one with stdin/stdout/stderr streams
// (chat turns), short commands with collected output, and killing a process tree by the session
// id the process recorded (Docker has no API to kill an exec).
import { PassThrough, type Readable, type Writable } from "node:stream";
import type Docker from "dockerode";
import { dockerError, statusOf } from "./client";

export interface ExecOptions {
  cmd: string[];
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
  /** Attach stdin (the process reads until stdin is ended). */
  stdin?: boolean;
}

export interface ExecProcess {
  id: string;
  stdout: Readable;
  stderr: Readable;
  /** Present when opened with stdin: true; end() closes the process's stdin. */
  stdin: Writable | null;
  /** Resolves when the output ends, with the exit code (null when the engine cannot tell). */
  exited: Promise<{ exitCode: number | null }>;
  /** Drops the connection (the process keeps running: kill it separately). */
  detach(): void;
}

export async function startExec(docker: Docker, containerId: string, opts: ExecOptions): Promise<ExecProcess> {
  const container = docker.getContainer(containerId);
  let exec: Docker.Exec;
  try {
    exec = await container.exec({
      Cmd: opts.cmd,
      Env: opts.env ? Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) : undefined,
      User: opts.user,
      WorkingDir: opts.workingDir,
      AttachStdin: !!opts.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
  } catch (err) {
    throw dockerError(err, "start a process in the container");
  }
  let stream: NodeJS.ReadWriteStream & { destroy?: () => void };
  try {
    stream = (await exec.start({ hijack: !!opts.stdin, stdin: !!opts.stdin, Detach: false })) as typeof stream;
  } catch (err) {
    throw dockerError(err, "start a process in the container");
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  const ended = new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      // demuxStream never ends its outputs.
      stdout.end();
      stderr.end();
      resolve();
    };
    stream.on("end", finish);
    stream.on("close", finish);
    stream.on("error", finish);
  });
  const exited = ended.then(async () => {
    for (let i = 0; i < 50; i++) {
      try {
        const info = await exec.inspect();
        if (!info.Running) return { exitCode: info.ExitCode ?? null };
      } catch {
        return { exitCode: null };
      }
      await new Promise((r) => setTimeout(r, 20 + i * 10));
    }
    return { exitCode: null };
  });
  return {
    id: exec.id,
    stdout,
    stderr,
    stdin: opts.stdin ? (stream as unknown as Writable) : null,
    exited,
    detach: () => stream.destroy?.(),
  };
}

/** Runs a short command and collects its output. */
export async function runExec(
  docker: Docker,
  containerId: string,
  opts: Omit<ExecOptions, "stdin">,
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const p = await startExec(docker, containerId, opts);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  p.stdout.on("data", (d: Buffer) => out.push(d));
  p.stderr.on("data", (d: Buffer) => err.push(d));
  const { exitCode } = await p.exited;
  return { exitCode, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/** A shell snippet that records its session id in `pidFile` and then execs the command (so "$@" runs as session leader). */
export function sessionLeaderCmd(pidFile: string, script: string, args: string[]): string[] {
  return ["setsid", "-w", "sh", "-c", `echo $$ > '${pidFile}'; ${script}`, "armory-exec", ...args];
}

/**
 * Kills every process of the session recorded in `pidFile` (TERM, then KILL after `graceMs`) and
 * removes the file. Safe when the file or the processes are gone already.
 */
export async function killSession(docker: Docker, containerId: string, pidFile: string, user: string, graceMs = 500): Promise<void> {
  const rounds = Math.max(1, Math.round(graceMs / 50));
  const script = `f='${pidFile}'; [ -f "$f" ] || exit 0; s=$(cat "$f"); case "$s" in ''|*[!0-9]*) rm -f "$f"; exit 0;; esac;
pkill -TERM -s "$s" 2>/dev/null; i=0; while pgrep -s "$s" >/dev/null 2>&1; do i=$((i+1)); [ $i -gt ${rounds} ] && break; sleep 0.05; done;
pkill -KILL -s "$s" 2>/dev/null; rm -f "$f"; exit 0`;
  try {
    await runExec(docker, containerId, { cmd: ["sh", "-c", script], user });
  } catch (err) {
    // The container is gone or stopped: its processes are gone with it.
    if (statusOf(err) === 404 || statusOf(err) === 409) return;
    const code = (err as { code?: string }).code;
    if (code === "NOT_FOUND" || code === "PRECONDITION_FAILED" || code === "CONFLICT") return;
    throw err;
  }
}

/** Kills every session recorded in pid files matching the glob (processes a previous Armory left behind). */
export async function killSessionsMatching(docker: Docker, containerId: string, glob: string, user: string): Promise<void> {
  const script = `for f in ${glob}; do [ -f "$f" ] || continue; s=$(cat "$f"); case "$s" in ''|*[!0-9]*) ;; *) pkill -KILL -s "$s" 2>/dev/null;; esac; rm -f "$f"; done; exit 0`;
  try {
    await runExec(docker, containerId, { cmd: ["sh", "-c", script], user });
  } catch {
    // Not running or gone: nothing left to kill.
  }
}
