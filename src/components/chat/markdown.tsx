"use client";
// An agent's reply rendered as Markdown (GitHub flavoured: tables, task lists, strikethrough).
// Code blocks are syntax-highlighted (highlight.js through lowlight, a fixed set of common
// languages: ./highlight-code.ts) and have a Copy button. Links open in a new tab without access to this page
// (rel="noopener noreferrer"); react-markdown's URL filter drops javascript:, data: and other
// unsafe schemes. Raw HTML in a reply is shown as text, never rendered; images are shown as links
// (a reply must not make the browser fetch from arbitrary hosts).
import "./highlight-theme.css";
import { Check, Copy } from "lucide-react";
import { memo, useRef, useState, type ReactNode } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/utils";
import { rehypeHighlightCode } from "./highlight-code";

const REHYPE = [rehypeHighlightCode];
const REMARK = [remarkGfm];

const PROSE = [
  "text-sm leading-relaxed break-words",
  "[&_h1]:mt-4 [&_h1]:mb-2 [&_h1]:text-xl [&_h1]:font-semibold [&_h2]:mt-4 [&_h2]:mb-2 [&_h2]:text-lg [&_h2]:font-semibold",
  "[&_h3]:mt-3 [&_h3]:mb-1.5 [&_h3]:font-semibold [&_h4]:mt-3 [&_h4]:font-semibold [&>*:first-child]:mt-0 [&>*:last-child]:mb-0",
  "[&_p]:my-2 [&_ul]:my-2 [&_ul]:list-disc [&_ul]:pl-6 [&_ol]:my-2 [&_ol]:list-decimal [&_ol]:pl-6 [&_li]:my-0.5",
  "[&_:not(pre)>code]:bg-muted [&_:not(pre)>code]:rounded [&_:not(pre)>code]:px-1 [&_:not(pre)>code]:py-0.5 [&_:not(pre)>code]:font-mono [&_:not(pre)>code]:text-[0.85em]",
  "[&_blockquote]:text-muted-foreground [&_blockquote]:my-2 [&_blockquote]:border-l-2 [&_blockquote]:pl-3 [&_hr]:my-4",
  "[&_th]:bg-muted [&_td]:border [&_td]:px-2 [&_td]:py-1 [&_th]:border [&_th]:px-2 [&_th]:py-1 [&_th]:text-left [&_th]:font-medium",
].join(" ");

function CodeBlock({ children, language }: { children: ReactNode; language: string | null }) {
  const pre = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  async function copy() {
    const text = pre.current?.textContent ?? "";
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // Clipboard refused (no permission, insecure context): select the code so it can be copied by hand.
      const range = document.createRange();
      if (pre.current) range.selectNodeContents(pre.current);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
    }
  }
  return (
    <div className="chat-code my-3 overflow-hidden rounded-md border" data-testid="code-block">
      <div className="flex items-center justify-between border-b border-current/10 py-1 pr-1 pl-3 text-xs">
        <span className="font-mono opacity-90">{language ?? "text"}</span>
        <Button type="button" variant="ghost" size="sm" className="h-7 text-inherit hover:text-inherit" onClick={() => void copy()} aria-label={copied ? "Copied" : `Copy ${language ? `${language} ` : ""}code`}>
          {copied ? <Check aria-hidden="true" /> : <Copy aria-hidden="true" />}
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
      {/* Focusable: a wide block scrolls sideways by keyboard too. */}
      <pre ref={pre} tabIndex={0} className="overflow-x-auto p-3 font-mono text-[0.8rem] leading-relaxed outline-none focus-visible:ring-2">
        {children}
      </pre>
    </div>
  );
}

function languageOf(node: unknown): string | null {
  const code = (node as { children?: { tagName?: string; properties?: { className?: unknown } }[] } | undefined)?.children?.find((c) => c.tagName === "code");
  const classes = code?.properties?.className;
  const list = Array.isArray(classes) ? classes.map(String) : [];
  const lang = list.find((c) => c.startsWith("language-"));
  return lang ? lang.slice("language-".length) : null;
}

const COMPONENTS: Components = {
  pre: ({ node, children }) => <CodeBlock language={languageOf(node)}>{children}</CodeBlock>,
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer" className="text-primary font-medium underline underline-offset-2">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  img: ({ src, alt }) =>
    typeof src === "string" && src ? (
      <a href={src} target="_blank" rel="noopener noreferrer" className="text-primary underline underline-offset-2">
        image: {alt || src}
      </a>
    ) : (
      <span>{alt}</span>
    ),
  table: ({ children }) => (
    <div className="my-3 max-w-full overflow-x-auto" tabIndex={0} role="region" aria-label="Table">
      <table className="border-collapse text-left">{children}</table>
    </div>
  ),
};

/** One reply's Markdown; memoized so a streaming turn re-renders only the block that grows. */
export const Markdown = memo(function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <div className={cn(PROSE, className)} data-testid="assistant-text">
      <ReactMarkdown remarkPlugins={REMARK} rehypePlugins={REHYPE} components={COMPONENTS}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
