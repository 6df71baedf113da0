// Following an agent container's stdout (the supervisor's JSON lines) through Docker's logs API:
// `follow` with timestamps, from an exact point in time, so a follower that reconnects — after
// a network blip or a container restart — resumes where it stopped without repeats.
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { LineSplitter } from "../../streams/ndjson";
import { splitDockerTimestamp, dockerSince } from "../../streams/supervisor";
import { dockerError, statusOf } from "./client";

export interface OutputLine {
  /** Docker's timestamp of the line, in nanoseconds since the epoch. */
  nanos: bigint;
  text: string;
}

export interface ContainerRun {
  running: boolean;
  /** When the current (or last) run started, in nanoseconds since the epoch. */
  startedAtNanos: bigint;
}

/** Whether the container runs, and since when; null when it no longer exists. */
export async function containerRun(docker: Docker, containerId: string): Promise<ContainerRun | null> {
  try {
    const info = await docker.getContainer(containerId).inspect();
    const started = splitDockerTimestamp(info.State.StartedAt ?? "");
    return { running: info.State.Running, startedAtNanos: started?.nanos ?? 0n };
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw dockerError(err, "inspect the container");
  }
}

/**
 * Streams the container's stdout lines written at or after `sinceNanos` until the log stream
 * ends (the container stopped) or `signal` aborts. Resolves when it ends; rejects on engine errors.
 */
export async function followContainerStdout(
  docker: Docker,
  containerId: string,
  opts: { sinceNanos: bigint; signal: AbortSignal; onLine(line: OutputLine): void },
): Promise<void> {
  let stream: Readable;
  try {
    stream = (await docker.getContainer(containerId).logs({
      follow: true,
      stdout: true,
      stderr: false,
      timestamps: true,
      since: dockerSince(opts.sinceNanos) as unknown as number, // the engine takes "seconds.nanoseconds"
      abortSignal: opts.signal,
    } as Docker.ContainerLogsOptions & { follow: true })) as unknown as Readable;
  } catch (err) {
    if (opts.signal.aborted) return;
    throw dockerError(err, "follow the container's output");
  }
  const splitter = new LineSplitter({ maxLineLength: 1024 * 1024 });
  const emit = (lines: string[]) => {
    for (const l of lines) {
      const parsed = splitDockerTimestamp(l);
      if (parsed) opts.onLine(parsed);
    }
  };
  await new Promise<void>((resolve) => {
    // Frames: 8-byte header (stream id, 3 zero bytes, big-endian length), then the payload.
    let buf: Buffer = Buffer.alloc(0);
    const onAbort = () => stream.destroy();
    opts.signal.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 8) {
        const len = buf.readUInt32BE(4);
        if (buf.length < 8 + len) break;
        if (buf[0] === 1) emit(splitter.push(buf.subarray(8, 8 + len)));
        buf = buf.subarray(8 + len);
      }
    });
    const done = () => {
      opts.signal.removeEventListener("abort", onAbort);
      emit(splitter.end());
      resolve();
    };
    stream.once("end", done);
    stream.once("close", done);
    stream.once("error", done);
  });
}
