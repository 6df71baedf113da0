// Splits a byte stream into lines (no runtime APIs beyond Buffer: unit-tested under vitest).
// Lines are cut on "\n" at the byte level, so a multi-byte character is never split between
// chunks; a trailing "\r" is dropped. A line longer than `maxLineBytes` is not kept: the
// splitter reports its length once it ends (`overflow`), or, with `splitLong`, hands it out in
// pieces of at most `maxLineBytes` bytes (used for stderr, where a long line is still worth showing).

export type SplitLine = { kind: "line"; text: string } | { kind: "overflow"; length: number };

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes of the current over-long line seen so far (it is being skipped); -1: none. */
  private skipped = -1;

  constructor(
    private readonly maxLineBytes: number,
    private readonly splitLong = false,
  ) {}

  push(chunk: Buffer): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      this.take(chunk.subarray(start, end), out);
      if (nl < 0) break;
      this.finishLine(out);
      start = nl + 1;
    }
    return out;
  }

  /** The stream ended: the last line without a newline, if any. */
  end(): SplitLine[] {
    const out: SplitLine[] = [];
    if (this.size > 0 || this.skipped >= 0) this.finishLine(out);
    return out;
  }

  private take(piece: Buffer, out: SplitLine[]): void {
    if (!piece.length) return;
    if (this.skipped >= 0) {
      this.skipped += piece.length;
      return;
    }
    if (this.size + piece.length <= this.maxLineBytes) {
      this.parts.push(piece);
      this.size += piece.length;
      return;
    }
    if (this.splitLong) {
      // Hand out full pieces, keep the rest.
      let rest = piece;
      while (this.size + rest.length > this.maxLineBytes) {
        const room = this.maxLineBytes - this.size;
        this.parts.push(rest.subarray(0, room));
        rest = rest.subarray(room);
        out.push({ kind: "line", text: Buffer.concat(this.parts).toString("utf8") });
        this.parts = [];
        this.size = 0;
      }
      if (rest.length) {
        this.parts.push(rest);
        this.size = rest.length;
      }
      return;
    }
    this.skipped = this.size + piece.length;
    this.parts = [];
    this.size = 0;
  }

  private finishLine(out: SplitLine[]): void {
    if (this.skipped >= 0) {
      out.push({ kind: "overflow", length: this.skipped });
      this.skipped = -1;
      return;
    }
    let buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    if (buf.length && buf[buf.length - 1] === 13) buf = buf.subarray(0, buf.length - 1);
    out.push({ kind: "line", text: buf.toString("utf8") });
  }
}
