"use client";
// One turn of a conversation: the user's message, then the agent's reply as it streams in
// (Markdown text, tool blocks, approval cards, notices) and how the turn ended (duration, cost, tokens, errors).
import { AlertTriangle, Bot, Loader2 } from "lucide-react";
import { ChatApprovalCard } from "@/components/approvals/chat-approval-card";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { cn } from "@/lib/utils";
import { Markdown } from "./markdown";
import { ToolBlock } from "./tool-block";
import { formatCost, formatDuration, formatTokens, type Turn, type TurnItem } from "./transcript";

const USER_TEXT_MAX = 4000;

function ItemView({ item, projectId, turnRunning }: { item: TurnItem; projectId: string; turnRunning: boolean }) {
  if (item.kind === "text") return <Markdown text={item.text} />;
  if (item.kind === "approval") return <ChatApprovalCard projectId={projectId} approval={item.approval} turnRunning={turnRunning} />;
  if (item.kind === "notice")
    return <p className={cn("text-xs", item.tone === "warn" ? "text-amber-800 dark:text-amber-300" : "text-muted-foreground")}>{item.text}</p>;
  return <ToolBlock item={item} />;
}

function TurnFooter({ turn }: { turn: Turn }) {
  if (turn.status === "running") return null;
  const stats = [
    formatDuration(turn.durationMs),
    turn.costUsd != null || turn.demoModel ? formatCost(turn.costUsd, { demo: turn.demoModel }) : "",
    turn.outputTokens ? `${formatTokens(turn.inputTokens)} in / ${formatTokens(turn.outputTokens)} out tokens` : "",
  ].filter(Boolean);
  return (
    <div className="flex flex-col gap-2">
      {turn.status === "failed" ? (
        <Alert variant="destructive" className="border-destructive/30" data-testid="turn-error">
          <AlertTriangle aria-hidden="true" />
          <AlertTitle>The turn failed</AlertTitle>
          <AlertDescription>{turn.message ?? "Unknown error."}</AlertDescription>
        </Alert>
      ) : turn.status === "interrupted" ? (
        <p className="text-xs text-amber-800 dark:text-amber-300" data-testid="turn-interrupted">
          {turn.message ?? "Stopped."}
        </p>
      ) : null}
      <p className="text-muted-foreground text-xs" data-testid="turn-stats">
        {stats.join(" · ")}
      </p>
    </div>
  );
}

/** Turns are rebuilt from the events on every change; their Markdown blocks are memoized by text. */
export function TurnView({ turn, projectId }: { turn: Turn; projectId: string }) {
  const userText = turn.userText.length > USER_TEXT_MAX ? `${turn.userText.slice(0, USER_TEXT_MAX)}… (${turn.userText.length.toLocaleString()} characters)` : turn.userText;
  return (
    <article className="flex flex-col gap-3" data-testid="chat-turn" data-status={turn.status} aria-label={`Turn: ${turn.userText.slice(0, 80)}`}>
      <div className="flex justify-end">
        <p className="bg-muted max-w-[85%] rounded-2xl rounded-br-sm px-3.5 py-2 text-sm whitespace-pre-wrap break-words" data-testid="user-text">
          <span className="sr-only">You: </span>
          {userText}
        </p>
      </div>
      <div className="flex items-start gap-2.5">
        <span aria-hidden="true" className="bg-muted text-muted-foreground mt-0.5 flex size-6 shrink-0 items-center justify-center rounded-full">
          <Bot className="size-3.5" />
        </span>
        <div className="flex min-w-0 flex-1 flex-col gap-2">
          <span className="sr-only">Agent:</span>
          {turn.items.map((item) => (
            <ItemView key={item.key} item={item} projectId={projectId} turnRunning={turn.status === "running"} />
          ))}
          {turn.status === "running" ? (
            <p className="text-muted-foreground flex items-center gap-1.5 text-xs" role="status">
              <Loader2 className="size-3 animate-spin" aria-hidden="true" />
              Working…
            </p>
          ) : null}
          <TurnFooter turn={turn} />
        </div>
      </div>
    </article>
  );
}
