// Running commands inside an agent's container from tests (as the agent user, like its own processes).
import { PassThrough, type Readable, type Writable } from "node:stream";
import type Docker from "dockerode";
import { docker } from "./docker";

/** Runs a bash script in the container; resolves with its output when it ends (or at once with detach). */
export async function execIn(containerId: string, script: string, detach = false): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: ["bash", "-c", script],
    User: "1000:1000",
    AttachStdout: !detach,
    AttachStderr: !detach,
  });
  if (detach) {
    await exec.start({ Detach: true });
    return "";
  }
  const stream = await exec.start({});
  return new Promise<string>((resolve) => {
    let out = "";
    stream.on("data", (d: Buffer) => (out += d.toString("utf8")));
    stream.on("end", () => resolve(out));
  });
}

/** Writes to the container's own stdout/stderr (what `docker logs` shows), as the agent's main process would. */
export const writeContainerLog = (containerId: string, script: string) =>
  execIn(containerId, `exec 1>/proc/1/fd/1 2>/proc/1/fd/2; ${script}`);

/**
 * A script that gets the container OOM-killed: it makes the container's own processes (init and
 * armoryd) the OOM killer's first choice, then fills memory with `hogs` × `mb` MB.
 */
export const oomScript = (hogs = 4, mb = 60) =>
  `echo 1000 > /proc/$(pgrep -x armoryd)/oom_score_adj; echo 1000 > /proc/1/oom_score_adj;
for i in $(seq 1 ${hogs}); do (x=$(head -c ${mb}m /dev/zero | tr "\\0" a); sleep 30) & done; wait`;

/**
 * Runs a shell command in the container as the agent user (or as root: uid 0 without capabilities,
 * like every process in an agent container); returns stdout.
 */
export async function sh(containerId: string, script: string, user: "agent" | "root" = "agent"): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: ["bash", "-c", script], AttachStdout: true, AttachStderr: true, User: user === "root" ? "0:0" : "1000:1000" });
  const stream = await exec.start({});
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (d: Buffer) => out.push(d));
  stderr.on("data", (d: Buffer) => err.push(d));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise((resolve) => stream.on("end", resolve));
  const info = await exec.inspect();
  if (info.ExitCode !== 0) throw new Error(`${script} exited ${info.ExitCode}: ${Buffer.concat(err).toString()}`);
  return Buffer.concat(out).toString("utf8");
}

// ---- docker exec for tests and the bench (Armory itself never execs into an agent's container:
// everything goes through the agent's daemon).

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
    throw err;
  }
  let stream: NodeJS.ReadWriteStream & { destroy?: () => void };
  try {
    stream = (await exec.start({ hijack: !!opts.stdin, stdin: !!opts.stdin, Detach: false })) as typeof stream;
  } catch (err) {
    throw err;
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

