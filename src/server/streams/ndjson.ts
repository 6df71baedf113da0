// The one place byte streams become lines: newline-delimited text split across arbitrary chunk
// boundaries (also inside multi-byte UTF-8 characters), with a cap on line length so a runaway
// producer cannot exhaust memory. Linear in the input: a 10 MB line arriving in 64 KB chunks is
// scanned once, not re-split on every chunk.
import { StringDecoder } from "node:string_decoder";

export interface LineSplitterOptions {
  /** Longest line kept, in characters; longer lines are reported via onOverflow and dropped. */
  maxLineLength?: number;
  /** Called once per dropped over-long line with its length (characters). */
  onOverflow?: (length: number) => void;
}

export const DEFAULT_MAX_LINE_LENGTH = 32 * 1024 * 1024;

/** Splits chunks into complete lines (without the trailing \n or \r\n); keeps the partial tail. */
export class LineSplitter {
  private decoder = new StringDecoder("utf8");
  /** Pieces of the current (unfinished) line. */
  private parts: string[] = [];
  private partsLength = 0;
  /** The current line went over the cap: its text is dropped, only its length is counted. */
  private overflowLength = -1;
  private readonly max: number;

  constructor(private readonly opts: LineSplitterOptions = {}) {
    this.max = opts.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  }

  push(chunk: Buffer | Uint8Array | string): string[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl === -1) break;
      this.append(text.slice(start, nl));
      const line = this.take();
      if (line !== null) lines.push(line);
      start = nl + 1;
    }
    if (start < text.length) this.append(text.slice(start));
    return lines;
  }

  /** Whatever is left when the stream ends (a last line without a newline). */
  end(): string[] {
    const rest = this.decoder.end();
    if (rest) this.append(rest);
    if (this.overflowLength < 0 && this.partsLength === 0) return [];
    const line = this.take();
    return line === null || line === "" ? [] : [line];
  }

  private append(piece: string): void {
    if (!piece) return;
    if (this.overflowLength >= 0) {
      this.overflowLength += piece.length;
      return;
    }
    if (this.partsLength + piece.length > this.max) {
      this.overflowLength = this.partsLength + piece.length;
      this.parts = [];
      this.partsLength = 0;
      return;
    }
    this.parts.push(piece);
    this.partsLength += piece.length;
  }

  /** Ends the current line: its text, or null when it overflowed (reported instead). */
  private take(): string | null {
    if (this.overflowLength >= 0) {
      const length = this.overflowLength;
      this.overflowLength = -1;
      this.opts.onOverflow?.(length);
      return null;
    }
    const line = this.parts.length === 1 ? this.parts[0]! : this.parts.join("");
    this.parts = [];
    this.partsLength = 0;
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  }
}

export interface JsonLinesHandlers<T> {
  onValue: (value: T) => void;
  /** A non-empty line that is not JSON (or not a JSON object when objectsOnly). */
  onInvalid?: (line: string, err: Error) => void;
  /** A line longer than the cap, dropped; its length in characters. */
  onOverflow?: (length: number) => void;
}

/**
 * Parses each complete line as JSON. Lines that are not JSON go to onInvalid, over-long lines to
 * onOverflow; nothing throws and no line is silently lost.
 */
export function jsonLines<T = unknown>(
  handlers: JsonLinesHandlers<T> | ((value: T) => void),
  onInvalid?: (line: string, err: Error) => void,
  opts: { maxLineLength?: number; objectsOnly?: boolean } = {},
) {
  const h: JsonLinesHandlers<T> = typeof handlers === "function" ? { onValue: handlers, onInvalid } : handlers;
  const splitter = new LineSplitter({ maxLineLength: opts.maxLineLength, onOverflow: (n) => h.onOverflow?.(n) });
  const handle = (lines: string[]) => {
    for (const line of lines) {
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        h.onInvalid?.(line, err as Error);
        continue;
      }
      if (opts.objectsOnly && (typeof value !== "object" || value === null || Array.isArray(value))) {
        h.onInvalid?.(line, new Error("not a JSON object"));
        continue;
      }
      h.onValue(value as T);
    }
  };
  return {
    push: (chunk: Buffer | Uint8Array | string) => handle(splitter.push(chunk)),
    end: () => handle(splitter.end()),
  };
}
