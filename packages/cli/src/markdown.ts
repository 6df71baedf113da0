// Renders a streamed markdown reply for the terminal: text is buffered until a block is complete
// (a blank line outside a code fence), then that block is rendered with marked-terminal, so the
// reply appears block by block as it streams. Not a terminal: the markdown is written as it comes.
import { Marked } from "marked";
import { markedTerminal } from "marked-terminal";

export interface MarkdownStream {
  write(text: string): void;
  end(): void;
}

export function markdownStream(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }): MarkdownStream {
  if (!out.isTTY) {
    let last = "";
    return {
      write: (t) => {
        if (t) last = t;
        out.write(t);
      },
      end: () => {
        if (last && !last.endsWith("\n")) out.write("\n");
      },
    };
  }
  const marked = new Marked(markedTerminal({ width: Math.min(out.columns ?? 100, 120), reflowText: false, tab: 2 }));
  let buffer = "";
  const render = (block: string) => {
    if (!block.trim()) return;
    out.write(String(marked.parse(block)).replace(/\n+$/, "\n\n"));
  };
  const flushComplete = () => {
    for (;;) {
      let inFence = false;
      let cut = -1;
      let offset = 0;
      for (const line of buffer.split("\n").slice(0, -1)) {
        if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
        offset += line.length + 1;
        if (!inFence && line.trim() === "" && offset > 1) {
          cut = offset;
          break;
        }
      }
      if (cut < 0) return;
      render(buffer.slice(0, cut));
      buffer = buffer.slice(cut);
    }
  };
  return {
    write(text) {
      buffer += text;
      flushComplete();
    },
    end() {
      render(buffer);
      buffer = "";
    },
  };
}
