"use client";
// The lazy entries to Monaco and the markdown renderer: next/dynamic without SSR, so the editor
// (and its workers) load only when a file is opened, the renderer only on Preview.
import dynamic from "next/dynamic";
import { Skeleton } from "@/components/ui/skeleton";

export const CodeEditor = dynamic(() => import("./monaco-editor"), {
  ssr: false,
  loading: () => <Skeleton className="h-full min-h-80 w-full rounded-none" />,
});

export const MarkdownPreview = dynamic(() => import("./markdown-preview"), {
  ssr: false,
  loading: () => <Skeleton className="m-4 h-40" />,
});

const LANGUAGES: Record<string, string> = {
  md: "markdown", markdown: "markdown", mdx: "markdown",
  ts: "typescript", tsx: "typescript", mts: "typescript", cts: "typescript",
  js: "javascript", jsx: "javascript", mjs: "javascript", cjs: "javascript",
  json: "json", jsonc: "json", jsonl: "json",
  py: "python", rb: "ruby", go: "go", rs: "rust", java: "java", kt: "kotlin", swift: "swift",
  c: "cpp", h: "cpp", cc: "cpp", cpp: "cpp", hpp: "cpp", cs: "csharp", php: "php", lua: "lua", r: "r",
  sh: "shell", bash: "shell", zsh: "shell",
  yml: "yaml", yaml: "yaml", toml: "ini", ini: "ini", cfg: "ini", conf: "ini", env: "ini",
  html: "html", htm: "html", xml: "xml", svg: "xml", css: "css", scss: "scss", less: "less",
  sql: "sql", graphql: "graphql", gql: "graphql", proto: "protobuf", tf: "hcl", hcl: "hcl",
};

/** Monaco's language id for a file name (by extension; Dockerfile and Makefile by name). */
export function languageFor(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (/^Dockerfile(\..*)?$/i.test(name)) return "dockerfile";
  if (/^\.(bash|zsh)rc$|^\.profile$/.test(name)) return "shell";
  const dot = name.lastIndexOf(".");
  if (dot <= 0 && !name.startsWith(".env")) return "plaintext";
  if (name.startsWith(".env")) return "ini";
  return LANGUAGES[name.slice(dot + 1).toLowerCase()] ?? "plaintext";
}
