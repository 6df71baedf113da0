// Container logs: Docker's json-file log, read with timestamps and demultiplexed into lines of
// stdout and stderr (agent containers run without a TTY).
import type Docker from "dockerode";
import { listenerStream } from "../../streams/listener-stream";
import type { LogLine, OutputStream } from "../port";
import { dockerError, statusOf } from "./client";
import { MultiplexedLineSplitter } from "./frames";

export type { LogLine };

const TS_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) ?/;

/** "2026-11-22T04:21:31.884823926Z message" → a LogLine. */
export function parseLogLine(stream: OutputStream, line: string): LogLine {
  const m = TS_RE.exec(line);
  if (!m) return { timestamp: new Date(), rawTime: "", stream, message: line };
  return { timestamp: new Date(m[1]!), rawTime: m[1]!, stream, message: line.slice(m[0].length) };
}

/** Docker's `since` for "strictly after this line": seconds.nanoseconds. */
export function sinceAfter(rawTime: string): string | undefined {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(rawTime);
  if (!m) return undefined;
  const seconds = Math.floor(new Date(`${m[1]}${m[3]}`).getTime() / 1000);
  const nanos = Number((m[2] ?? "").padEnd(9, "0").slice(0, 9)) + 1;
  return nanos >= 1e9 ? `${seconds + 1}.000000000` : `${seconds}.${String(nanos).padStart(9, "0")}`;
}

/** Compares two Docker timestamps (RFC 3339 UTC with up to 9 fractional digits). */
export function compareRawTime(a: string, b: string): number {
  const norm = (t: string) => {
    const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(t);
    return m ? `${m[1]}.${(m[2] ?? "").padEnd(9, "0")}` : t;
  };
  const x = norm(a);
  const y = norm(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** What has a log the engine serves the same way: a container, or a Swarm service (all its tasks). */
export interface LogSource {
  logs(opts: object): Promise<unknown>;
}

/** The last `lines` lines of the container's log (stdout and stderr interleaved, in order). */
export function tailContainerLogs(docker: Docker, containerId: string, lines: number): Promise<LogLine[]> {
  return tailLogsOf(docker.getContainer(containerId) as unknown as LogSource, lines, "the container's logs");
}

/** The last `lines` lines of `source`'s log; [] when it is gone. */
export async function tailLogsOf(source: LogSource, lines: number, what: string): Promise<LogLine[]> {
  let buf: Buffer;
  try {
    buf = (await source.logs({
      stdout: true,
      stderr: true,
      timestamps: true,
      follow: false,
      tail: lines,
    })) as unknown as Buffer;
  } catch (err) {
    if (statusOf(err) === 404) return [];
    throw dockerError(err, `read ${what}`);
  }
  const splitter = new MultiplexedLineSplitter();
  const out = [...splitter.push(Buffer.isBuffer(buf) ? buf : Buffer.from(buf)), ...splitter.end()].map((l) => parseLogLine(l.stream, l.line));
  return out.slice(Math.max(0, out.length - lines));
}

/**
 * Follows the container's log until the container stops (the stream then ends) or `signal`
 * aborts. `tail` lines of history first, or everything after `since` (seconds.nanos).
 */
export function followContainerLogs(
  docker: Docker,
  containerId: string,
  opts: { tail?: number; since?: string },
  signal?: AbortSignal,
): AsyncGenerator<LogLine> {
  return followLogsOf(docker.getContainer(containerId) as unknown as LogSource, opts, "the container's logs", signal);
}

/** Follows `source`'s log until it ends or `signal` aborts. */
export async function* followLogsOf(source: LogSource, opts: { tail?: number; since?: string }, what: string, signal?: AbortSignal): AsyncGenerator<LogLine> {
  let stream: NodeJS.ReadableStream & { destroy?: () => void };
  try {
    stream = (await source.logs({
      stdout: true,
      stderr: true,
      timestamps: true,
      follow: true,
      ...(opts.since !== undefined ? { since: opts.since as unknown as number } : { tail: opts.tail ?? 0 }),
    })) as unknown as NodeJS.ReadableStream & { destroy?: () => void };
  } catch (err) {
    if (statusOf(err) === 404) return;
    throw dockerError(err, `follow ${what}`);
  }
  const splitter = new MultiplexedLineSplitter();
  // Unbounded: a log reader gets every line, however slowly it reads.
  yield* listenerStream<LogLine>(
    (sink) => {
      stream.on("data", (chunk: Buffer) => {
        for (const l of splitter.push(chunk)) sink.push(parseLogLine(l.stream, l.line));
      });
      let ended = false;
      const finish = () => {
        if (ended) return;
        ended = true;
        for (const l of splitter.end()) sink.push(parseLogLine(l.stream, l.line));
        sink.close();
      };
      stream.once("end", finish);
      stream.once("close", finish);
      stream.once("error", finish);
      return () => stream.destroy?.();
    },
    signal,
    Infinity,
  );
}
