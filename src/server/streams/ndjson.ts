// The one place byte streams become lines: newline-delimited text split across arbitrary chunk
// boundaries, with a cap on line length so a runaway producer cannot exhaust memory.
import { StringDecoder } from "node:string_decoder";

export interface LineSplitterOptions {
  /** Longest line kept, in bytes (characters); longer lines are reported via onOverflow and dropped. */
  maxLineLength?: number;
  onOverflow?: (length: number) => void;
}

/** Splits chunks into complete lines (without the trailing \n or \r\n); keeps the partial tail. */
export class LineSplitter {
  private decoder = new StringDecoder("utf8");
  private tail = "";
  private overflowing = false;
  private readonly max: number;

  constructor(private readonly opts: LineSplitterOptions = {}) {
    this.max = opts.maxLineLength ?? 16 * 1024 * 1024;
  }

  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    const parts = (this.tail + text).split("\n");
    this.tail = parts.pop() ?? "";
    const lines: string[] = [];
    for (const part of parts) {
      if (this.overflowing) {
        // The rest of an over-long line: drop it and resume with the next line.
        this.overflowing = false;
        this.opts.onOverflow?.(part.length);
        continue;
      }
      lines.push(part.endsWith("\r") ? part.slice(0, -1) : part);
    }
    if (this.tail.length > this.max) {
      this.overflowing = true;
      this.tail = "";
    }
    return lines;
  }

  /** Whatever is left when the stream ends (a last line without a newline). */
  end(): string[] {
    const rest = this.tail + this.decoder.end();
    this.tail = "";
    if (this.overflowing) {
      this.overflowing = false;
      this.opts.onOverflow?.(rest.length);
      return [];
    }
    return rest.length ? [rest.endsWith("\r") ? rest.slice(0, -1) : rest] : [];
  }
}

/** Parses each complete line as JSON; lines that are not JSON go to onInvalid instead of throwing. */
export function jsonLines<T = unknown>(onValue: (value: T) => void, onInvalid?: (line: string, err: Error) => void) {
  const splitter = new LineSplitter();
  const handle = (lines: string[]) => {
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        onValue(JSON.parse(line) as T);
      } catch (err) {
        onInvalid?.(line, err as Error);
      }
    }
  };
  return {
    push: (chunk: Buffer | string) => handle(splitter.push(chunk)),
    end: () => handle(splitter.end()),
  };
}
