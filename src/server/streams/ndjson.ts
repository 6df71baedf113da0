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
    const lines: string[] = [];
    this.pushEach(chunk, (line) => lines.push(line), (n) => this.opts.onOverflow?.(n));
    return lines;
  }

  /** Whatever is left when the stream ends (a last line without a newline). */
  end(): string[] {
    const lines: string[] = [];
    this.endEach((line) => lines.push(line), (n) => this.opts.onOverflow?.(n));
    return lines;
  }

  /** Like push, but hands over lines and overflows one by one, in stream order. */
  pushEach(chunk: Buffer | Uint8Array | string, onLine: (line: string) => void, onOverflow: (length: number) => void): void {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl === -1) break;
      this.append(text.slice(start, nl));
      this.take(onLine, onOverflow);
      start = nl + 1;
    }
    if (start < text.length) this.append(text.slice(start));
  }

  endEach(onLine: (line: string) => void, onOverflow: (length: number) => void): void {
    const rest = this.decoder.end();
    if (rest) this.append(rest);
    if (this.overflowLength < 0 && this.partsLength === 0) return;
    this.take((line) => line !== "" && onLine(line), onOverflow);
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

  /** Ends the current line: hands over its text, or its length when it overflowed. */
  private take(onLine: (line: string) => void, onOverflow: (length: number) => void): void {
    if (this.overflowLength >= 0) {
      const length = this.overflowLength;
      this.overflowLength = -1;
      onOverflow(length);
      return;
    }
    const line = this.parts.length === 1 ? this.parts[0]! : this.parts.join("");
    this.parts = [];
    this.partsLength = 0;
    onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
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
  const splitter = new LineSplitter({ maxLineLength: opts.maxLineLength });
  const onLine = (line: string) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      h.onInvalid?.(line, err as Error);
      return;
    }
    if (opts.objectsOnly && (typeof value !== "object" || value === null || Array.isArray(value))) {
      h.onInvalid?.(line, new Error("not a JSON object"));
      return;
    }
    h.onValue(value as T);
  };
  const onOverflow = (n: number) => h.onOverflow?.(n);
  return {
    push: (chunk: Buffer | Uint8Array | string) => splitter.pushEach(chunk, onLine, onOverflow),
    end: () => splitter.endEach(onLine, onOverflow),
  };
}
