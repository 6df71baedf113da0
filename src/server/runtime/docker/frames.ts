// Docker's multiplexed stream format (container logs and exec output without a TTY): frames of
// an 8-byte header [stream, 0, 0, 0, size(4, big-endian)] and `size` bytes of payload. Frames
// arrive split across arbitrary chunk boundaries; this turns them into frames, lines per stream,
// or text. The one demultiplexer of Armory's engine streams.
import { LineSplitter } from "../../streams/ndjson";
import type { OutputStream } from "../port";

export type { OutputStream };

const HEADER = 8;

/** Splits a multiplexed byte stream into (stream, payload) frames, keeping partial frames. */
export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { stream: OutputStream; payload: Buffer }[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: { stream: OutputStream; payload: Buffer }[] = [];
    let at = 0;
    while (this.pending.length - at >= HEADER) {
      const kind = this.pending[at];
      const size = this.pending.readUInt32BE(at + 4);
      if (this.pending.length - at < HEADER + size) break;
      const payload = this.pending.subarray(at + HEADER, at + HEADER + size);
      // 0 is stdin (only with a TTY-less attach of stdin, echoed back): treat it as stdout.
      frames.push({ stream: kind === 2 ? "stderr" : "stdout", payload });
      at += HEADER + size;
    }
    this.pending = this.pending.subarray(at);
    return frames;
  }
}

/** Multiplexed bytes in, complete lines out, each tagged with the stream it came from. */
export class MultiplexedLineSplitter {
  private frames = new FrameDemuxer();
  private splitters: Record<OutputStream, LineSplitter> = {
    stdout: new LineSplitter({ maxLineLength: 1024 * 1024 }),
    stderr: new LineSplitter({ maxLineLength: 1024 * 1024 }),
  };

  push(chunk: Buffer): { stream: OutputStream; line: string }[] {
    const out: { stream: OutputStream; line: string }[] = [];
    for (const f of this.frames.push(chunk)) {
      for (const line of this.splitters[f.stream].push(f.payload)) out.push({ stream: f.stream, line });
    }
    return out;
  }

  end(): { stream: OutputStream; line: string }[] {
    return (["stdout", "stderr"] as const).flatMap((stream) => this.splitters[stream].end().map((line) => ({ stream, line })));
  }
}

/** Whether `buf` starts like a multiplexed stream (a TTY container's output is raw bytes instead). */
export function looksMultiplexed(buf: Buffer): boolean {
  return buf.length >= HEADER && buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
}

/** All of a complete multiplexed buffer's payload as text (stdout and stderr in order); raw bytes are taken as they are. */
export function demuxText(buf: Buffer): string {
  if (!looksMultiplexed(buf)) return buf.toString("utf8");
  return Buffer.concat(new FrameDemuxer().push(buf).map((f) => f.payload)).toString("utf8");
}
