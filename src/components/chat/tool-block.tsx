"use client";
// One tool call in a reply, as a compact collapsible block: the tool's name and a one-line
// summary (the command, the file path, +/- line counts for file changes) and its state. Expanded:
// for Edit, MultiEdit and Write the diff of the change; for Bash the command and its output;
// for any other tool its input and result.
import { ChevronRight, FilePen, SquareTerminal, Wrench } from "lucide-react";
import { useMemo } from "react";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/lib/utils";
import type { TurnItem } from "./transcript";
import { toolDiff, type ToolDiff } from "./tool-diff";

type ToolItem = Extract<TurnItem, { kind: "tool" }>;

export function DiffView({ diff }: { diff: ToolDiff }) {
  return (
    <div className="overflow-hidden rounded border" data-testid="tool-diff">
      <pre tabIndex={0} className="max-h-80 overflow-auto py-1 font-mono text-xs leading-5">
        {diff.lines.map((l, i) => (
          <div
            key={i}
            data-kind={l.kind}
            className={cn(
              "px-2 whitespace-pre",
              l.kind === "add" && "bg-emerald-500/15 text-emerald-900 dark:text-emerald-200",
              l.kind === "del" && "bg-red-500/15 text-red-900 dark:text-red-200",
              l.kind === "hunk" && "text-foreground/70 bg-muted",
            )}
          >
            <span aria-hidden="true" className="inline-block w-4 select-none">
              {l.kind === "add" ? "+" : l.kind === "del" ? "-" : " "}
            </span>
            <span className="sr-only">{l.kind === "add" ? "added: " : l.kind === "del" ? "removed: " : ""}</span>
            {l.text || " "}
          </div>
        ))}
        {diff.truncated ? <div className="text-muted-foreground px-2">… more lines not shown</div> : null}
      </pre>
    </div>
  );
}

function Output({ text, error }: { text: string; error: boolean }) {
  return (
    <pre tabIndex={0} className={cn("max-h-64 overflow-auto rounded p-2 font-mono text-xs whitespace-pre-wrap break-words", error ? "bg-destructive/10" : "bg-muted")}>
      {text || "(no output)"}
    </pre>
  );
}

export function ToolBlock({ item }: { item: ToolItem }) {
  const diff = useMemo(() => toolDiff(item.name, item.input, item.toolUseResult), [item.name, item.input, item.toolUseResult]);
  const input = (typeof item.input === "object" && item.input !== null ? item.input : {}) as Record<string, unknown>;
  const command = item.name === "Bash" && typeof input.command === "string" ? input.command : null;
  const Icon = diff ? FilePen : command !== null ? SquareTerminal : Wrench;
  return (
    <details className="group bg-card rounded-md border text-sm" data-testid="tool-call" data-tool={item.name}>
      <summary className="hover:bg-muted/60 flex cursor-pointer list-none items-center gap-2 rounded-md px-2.5 py-1.5 [&::-webkit-details-marker]:hidden">
        <ChevronRight className="text-muted-foreground size-4 shrink-0 transition-transform group-open:rotate-90" aria-hidden="true" />
        <Icon className="text-muted-foreground size-4 shrink-0" aria-hidden="true" />
        <span className="shrink-0 font-medium">{item.name}</span>
        <span className="text-muted-foreground min-w-0 truncate font-mono text-xs" data-testid="tool-summary">
          {diff ? diff.path : item.inputPreview}
        </span>
        {diff ? (
          <span className="shrink-0 font-mono text-xs">
            <span className="text-emerald-700 dark:text-emerald-300" aria-hidden="true">+{diff.added}</span>{" "}
            <span className="text-red-700 dark:text-red-300" aria-hidden="true">−{diff.removed}</span>
            <span className="sr-only">
              {diff.added} lines added, {diff.removed} removed
            </span>
          </span>
        ) : null}
        <span className="ml-auto shrink-0">
          {item.result === null && item.approvalStatus === "pending" ? (
            <Badge variant="outline" className="border-amber-500/50 text-amber-800 dark:text-amber-300">waiting for approval</Badge>
          ) : item.result === null ? (
            <Badge variant="outline">running</Badge>
          ) : item.isError && item.approvalStatus && item.approvalStatus !== "allowed" ? (
            <Badge variant="destructive">{item.approvalStatus === "expired" ? "timed out" : "denied"}</Badge>
          ) : item.isError ? (
            <Badge variant="destructive">error</Badge>
          ) : (
            <Badge variant="secondary">done</Badge>
          )}
        </span>
      </summary>
      <div className="flex flex-col gap-2 border-t px-2.5 py-2">
        {diff ? (
          <DiffView diff={diff} />
        ) : command !== null ? (
          <pre className="bg-muted overflow-x-auto rounded p-2 font-mono text-xs whitespace-pre-wrap">
            <span aria-hidden="true" className="text-foreground/70 select-none">$ </span>
            {command}
          </pre>
        ) : (
          <pre tabIndex={0} className="bg-muted max-h-64 overflow-auto rounded p-2 font-mono text-xs">
            {JSON.stringify(item.input, null, 2)}
          </pre>
        )}
        {item.result !== null ? <Output text={item.result} error={item.isError} /> : null}
      </div>
    </details>
  );
}
