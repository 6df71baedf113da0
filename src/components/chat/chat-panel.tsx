"use client";
// The agent page's Chat tab: sessions on the left, the conversation on the right. History loads
// once per session; chat.stream then follows from the last loaded seq (the SSE link reconnects by
// itself with the last seq it saw, so nothing is missed or shown twice). Text streams in as the
// CLI produces it; tool calls and their results are collapsible blocks; each turn ends with its
// duration and cost, or a clear error.
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { AlertTriangle, Bot, ChevronRight, CircleStop, FlaskConical, Loader2, MessageSquarePlus, SendHorizontal, User, Wrench } from "lucide-react";
import { useEffect, useMemo, useRef, useState } from "react";
import { toast } from "sonner";
import { buildTranscript, formatCost, formatDuration, formatTokens, type Turn, type TurnItem } from "@/components/chat/transcript";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";

export interface ChatPanelProps {
  projectId: string;
  agentId: string;
  agentName: string;
  /** Observed container state ("running", "exited", ...). */
  observedState: string;
  canChat: boolean;
}

export function ChatPanel({ projectId, agentId, agentName, observedState, canChat }: ChatPanelProps) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.chat.sessions.queryOptions({ projectId, agentId }));
  const [selected, setSelected] = useState<string | null>(null);
  const [draftNew, setDraftNew] = useState(false);
  const list = sessions.data?.sessions ?? [];
  const sessionId = draftNew ? null : (selected ?? list[0]?.id ?? null);
  const refreshSessions = () => void queryClient.invalidateQueries({ queryKey: trpc.chat.sessions.queryKey({ projectId, agentId }) });

  return (
    <div className="grid min-h-[70vh] gap-4 md:grid-cols-[16rem_1fr]">
      <aside aria-label="Chat sessions" className="flex flex-col gap-2 md:border-r md:pr-4">
        <Button
          variant="outline"
          className="justify-start"
          onClick={() => {
            setDraftNew(true);
            setSelected(null);
          }}
          disabled={!canChat}
        >
          <MessageSquarePlus aria-hidden="true" />
          New chat
        </Button>
        {sessions.isPending ? (
          <div className="flex flex-col gap-2" aria-busy="true">
            <Skeleton className="h-12" />
            <Skeleton className="h-12" />
          </div>
        ) : sessions.isError ? (
          <QueryErrorAlert title="Could not load sessions" error={sessions.error} onRetry={() => void sessions.refetch()} />
        ) : list.length === 0 ? (
          <p className="text-muted-foreground px-1 text-sm">No conversations yet.</p>
        ) : (
          <ul className="flex flex-col gap-1">
            {list.map((s) => (
              <li key={s.id}>
                <button
                  type="button"
                  onClick={() => {
                    setDraftNew(false);
                    setSelected(s.id);
                  }}
                  aria-current={s.id === sessionId ? "true" : undefined}
                  className={cn(
                    "hover:bg-muted flex w-full flex-col items-start gap-0.5 rounded-md px-2 py-1.5 text-left text-sm",
                    s.id === sessionId && "bg-muted",
                  )}
                >
                  <span className="line-clamp-1 font-medium">{s.title}</span>
                  <span className="text-muted-foreground text-xs">
                    {s.running ? "answering… · " : ""}
                    {s.turns} {s.turns === 1 ? "turn" : "turns"} · {formatCost(s.costUsd)} · {relativeTime(s.updatedAt)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
        {sessions.data ? (
          <p className="text-muted-foreground mt-auto border-t pt-2 text-xs" data-testid="chat-usage">
            This agent: {formatCost(sessions.data.usage.agent.costUsd)} · {formatTokens(sessions.data.usage.agent.inputTokens)} in /{" "}
            {formatTokens(sessions.data.usage.agent.outputTokens)} out tokens in {sessions.data.usage.agent.turns} turns. Project:{" "}
            {formatCost(sessions.data.usage.project.costUsd)}.
          </p>
        ) : null}
      </aside>
      <section className="flex min-w-0 flex-col gap-3" aria-label="Conversation">
        {sessions.data?.demoModel ? <DemoNotice /> : null}
        {observedState !== "running" ? (
          <Alert>
            <AlertTriangle aria-hidden="true" />
            <AlertTitle>{agentName} is not running</AlertTitle>
            <AlertDescription>Start the agent to chat with it. Earlier conversations stay readable.</AlertDescription>
          </Alert>
        ) : null}
        <Conversation
          key={sessionId ?? "new"}
          projectId={projectId}
          agentId={agentId}
          sessionId={sessionId}
          canChat={canChat}
          agentRunning={observedState === "running"}
          onSessionCreated={(id) => {
            setDraftNew(false);
            setSelected(id);
            refreshSessions();
          }}
          onTurnEnded={refreshSessions}
        />
      </section>
    </div>
  );
}

function DemoNotice() {
  return (
    <Alert className="border-sky-500/30 bg-sky-500/5" data-testid="demo-model-notice">
      <FlaskConical aria-hidden="true" />
      <AlertTitle>The demo model is answering</AlertTitle>
      <AlertDescription>
        No model key is configured (ANTHROPIC_API_KEY), so Armory&apos;s built-in scripted model replies instead of Claude. It
        streams text and can run a tool: try &ldquo;write a file hello.txt with hi&rdquo;.
      </AlertDescription>
    </Alert>
  );
}

function Conversation({
  projectId,
  agentId,
  sessionId,
  canChat,
  agentRunning,
  onSessionCreated,
  onTurnEnded,
}: {
  projectId: string;
  agentId: string;
  sessionId: string | null;
  canChat: boolean;
  agentRunning: boolean;
  onSessionCreated: (id: string) => void;
  onTurnEnded: () => void;
}) {
  const trpc = useTRPC();
  const history = useQuery({
    ...trpc.chat.history.queryOptions(sessionId ? { projectId, agentId, sessionId } : skipToken),
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const [live, setLive] = useState<ChatStreamEvent[]>([]);
  // Follow from the last seq history returned; the SSE link resumes from the last one it saw.
  const afterSeq = history.data ? (history.data.events.at(-1)?.seq ?? 0) : null;
  const sub = useSubscription(
    trpc.chat.stream.subscriptionOptions(sessionId && afterSeq !== null ? { projectId, agentId, sessionId, afterSeq } : skipToken, {
      onData: (tracked) => {
        const e = tracked.data;
        setLive((prev) => (prev.length && prev[prev.length - 1]!.seq >= e.seq ? prev : [...prev, e]));
        if (e.type === "run_completed" || e.type === "run_failed" || e.type === "run_interrupted") onTurnEnded();
      },
    }),
  );
  const events = useMemo(() => {
    const base = history.data?.events ?? [];
    const last = base.at(-1)?.seq ?? 0;
    return [...base, ...live.filter((e) => e.seq > last)];
  }, [history.data, live]);
  const turns = useMemo(() => buildTranscript(events), [events]);
  const running = turns.at(-1)?.status === "running";

  const send = useMutation(
    trpc.chat.send.mutationOptions({
      onSuccess: (res) => {
        if (!sessionId) onSessionCreated(res.sessionId);
      },
      onError: (err) => toast.error("Could not send the message", { description: errorMessage(err) }),
    }),
  );
  const interrupt = useMutation(
    trpc.chat.interrupt.mutationOptions({ onError: (err) => toast.error("Could not stop the turn", { description: errorMessage(err) }) }),
  );
  const [message, setMessage] = useState("");
  const bottom = useRef<HTMLDivElement>(null);
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [events.length]);

  function submit() {
    const text = message;
    if (!text.trim() || send.isPending) return;
    send.mutate({ projectId, agentId, sessionId: sessionId ?? undefined, message: text }, { onSuccess: () => setMessage("") });
  }

  return (
    <div className="flex min-h-[60vh] flex-col gap-3">
      <div className="flex flex-1 flex-col gap-6 overflow-y-auto rounded-lg border p-4" aria-live="polite" data-testid="chat-transcript">
        {sessionId && history.isPending ? (
          <div className="flex flex-col gap-3" aria-busy="true">
            <Skeleton className="h-10 w-2/3" />
            <Skeleton className="h-24 w-full" />
          </div>
        ) : history.isError ? (
          <QueryErrorAlert title="Could not load this conversation" error={history.error} onRetry={() => void history.refetch()} />
        ) : turns.length === 0 ? (
          <div className="text-muted-foreground m-auto flex flex-col items-center gap-2 text-center text-sm">
            <Bot className="size-8" aria-hidden="true" />
            <p>{sessionId ? "No messages in this conversation yet." : "Start a conversation: the answer streams in as the agent works."}</p>
          </div>
        ) : (
          turns.map((t) => <TurnView key={t.runId} turn={t} />)
        )}
        {sub.status === "error" ? (
          <p className="text-destructive text-xs">Live updates interrupted: {errorMessage(sub.error)}. Reconnecting…</p>
        ) : null}
        <div ref={bottom} />
      </div>
      <form
        className="flex items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <Textarea
          aria-label="Message"
          placeholder={canChat ? (agentRunning ? "Message the agent… (Enter to send, Shift+Enter for a new line)" : "Start the agent to chat") : "You can read this chat but not send messages (needs the operator role)."}
          value={message}
          onChange={(e) => setMessage(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              submit();
            }
          }}
          disabled={!canChat || running}
          className="max-h-48"
        />
        {running && sessionId ? (
          <Button
            type="button"
            variant="destructive"
            onClick={() => interrupt.mutate({ projectId, agentId, sessionId })}
            disabled={!canChat || interrupt.isPending}
          >
            <CircleStop aria-hidden="true" />
            Stop turn
          </Button>
        ) : (
          <Button type="submit" disabled={!canChat || !message.trim() || send.isPending}>
            {send.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : <SendHorizontal aria-hidden="true" />}
            Send
          </Button>
        )}
      </form>
    </div>
  );
}

function TurnView({ turn }: { turn: Turn }) {
  return (
    <article className="flex flex-col gap-3" data-testid="chat-turn" data-status={turn.status}>
      <div className="flex items-start gap-2">
        <User className="text-muted-foreground mt-1 size-4 shrink-0" aria-label="You" />
        <p className="bg-muted rounded-lg px-3 py-2 text-sm whitespace-pre-wrap break-words">
          {turn.userText.length > 4000 ? `${turn.userText.slice(0, 4000)}… (${turn.userText.length.toLocaleString()} characters)` : turn.userText}
        </p>
      </div>
      <div className="flex items-start gap-2">
        <Bot className="text-muted-foreground mt-1 size-4 shrink-0" aria-label="Agent" />
        <div className="flex min-w-0 flex-1 flex-col gap-2">
          {turn.items.map((item) => (
            <ItemView key={item.key} item={item} />
          ))}
          {turn.status === "running" ? (
            <p className="text-muted-foreground flex items-center gap-1.5 text-xs">
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

function ItemView({ item }: { item: TurnItem }) {
  if (item.kind === "text") return <p className="text-sm whitespace-pre-wrap break-words" data-testid="assistant-text">{item.text}</p>;
  if (item.kind === "notice")
    return <p className={cn("text-xs", item.tone === "warn" ? "text-amber-700 dark:text-amber-300" : "text-muted-foreground")}>{item.text}</p>;
  return (
    <details className="group rounded-md border text-sm" data-testid="tool-call">
      <summary className="flex cursor-pointer list-none items-center gap-2 px-3 py-2">
        <ChevronRight className="size-4 transition-transform group-open:rotate-90" aria-hidden="true" />
        <Wrench className="text-muted-foreground size-4" aria-hidden="true" />
        <span className="font-medium">{item.name}</span>
        <span className="text-muted-foreground truncate font-mono text-xs">{item.inputPreview}</span>
        <span className="ml-auto">
          {item.result === null ? (
            <Badge variant="outline">running</Badge>
          ) : item.isError ? (
            <Badge variant="destructive">error</Badge>
          ) : (
            <Badge variant="secondary">done</Badge>
          )}
        </span>
      </summary>
      <div className="flex flex-col gap-2 border-t px-3 py-2">
        <pre className="bg-muted max-h-64 overflow-auto rounded p-2 text-xs">{JSON.stringify(item.input, null, 2)}</pre>
        {item.result !== null ? (
          <pre className={cn("max-h-64 overflow-auto rounded p-2 text-xs", item.isError ? "bg-destructive/10" : "bg-muted")}>{item.result || "(no output)"}</pre>
        ) : null}
      </div>
    </details>
  );
}

function TurnFooter({ turn }: { turn: Turn }) {
  if (turn.status === "running") return null;
  const stats = [
    formatDuration(turn.durationMs),
    turn.costUsd != null ? formatCost(turn.costUsd) : "",
    turn.outputTokens ? `${formatTokens(turn.inputTokens)} in / ${formatTokens(turn.outputTokens)} out tokens` : "",
    turn.demoModel ? "demo model" : "",
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
        <p className="text-xs text-amber-700 dark:text-amber-300" data-testid="turn-interrupted">
          {turn.message ?? "Stopped."}
        </p>
      ) : null}
      <p className="text-muted-foreground text-xs" data-testid="turn-stats">
        {stats.join(" · ")}
      </p>
    </div>
  );
}

function relativeTime(d: Date): string {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return d.toLocaleDateString();
}
