// The agent's health probe: `armory-supervisor health` run in the container through docker exec.
// It prints one JSON line and exits 0 while the supervisor runs (see docker/agent/armory-supervisor).
import type Docker from "dockerode";
import { MultiplexedLineSplitter } from "./frames";
import { dockerError } from "./client";

export interface ProbeResult {
  ok: boolean;
  /** Why it failed, in words (the supervisor's reason, the exit code, or a timeout). */
  message: string;
  durationMs: number;
}

export const HEALTH_COMMAND = ["armory-supervisor", "health"];

export async function probeSupervisor(docker: Docker, containerId: string, timeoutMs = 5000): Promise<ProbeResult> {
  const started = performance.now();
  const container = docker.getContainer(containerId);
  let exec: Docker.Exec;
  let stream: NodeJS.ReadableStream & { destroy?: () => void };
  try {
    exec = await container.exec({ Cmd: HEALTH_COMMAND, AttachStdout: true, AttachStderr: true, User: "1000:1000" });
    stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream & { destroy?: () => void };
  } catch (err) {
    throw dockerError(err, "run the health check");
  }
  const splitter = new MultiplexedLineSplitter();
  const lines: string[] = [];
  const finished = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    stream.on("data", (chunk: Buffer) => lines.push(...splitter.push(chunk).map((l) => l.line)));
    const done = () => {
      clearTimeout(timer);
      lines.push(...splitter.end().map((l) => l.line));
      resolve(true);
    };
    stream.once("end", done);
    stream.once("close", done);
    stream.once("error", done);
  });
  const durationMs = Math.round(performance.now() - started);
  if (!finished) {
    stream.destroy?.();
    return { ok: false, message: `the health check did not answer within ${timeoutMs} ms`, durationMs };
  }
  let exitCode: number | null = null;
  for (let i = 0; i < 20; i++) {
    const info = await exec.inspect().catch(() => null);
    if (!info) break;
    if (!info.Running) {
      exitCode = info.ExitCode;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  let reason: string | null = null;
  for (const line of lines) {
    try {
      const parsed = JSON.parse(line) as { ok?: boolean; reason?: string };
      if (typeof parsed.ok === "boolean") reason = parsed.reason ?? null;
    } catch {
      // not the JSON answer (a diagnostic on stderr)
    }
  }
  if (exitCode === 0) return { ok: true, message: "the supervisor answered", durationMs };
  const what = reason ?? (exitCode === 126 || exitCode === 127 ? "armory-supervisor is not in the image" : lines.at(-1) ?? "no answer");
  return { ok: false, message: `health check failed (exit code ${exitCode ?? "unknown"}): ${what}`, durationMs };
}
