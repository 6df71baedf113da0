"use client";
// The team chat: a message box; each message shows, above the reply, where the router sent it and
// why ("→ reviewer · matched keyword 'review'", or the model's reason), then the chosen agent's
// reply as it streams from that agent's chat session (the chat page's own transcript components:
// buildTranscript + TurnView). History is team.messages; each reply loads its session's history
// once and follows chat.stream until its run has ended.
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { ArrowLeft, Bot, Route } from "lucide-react";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { toast } from "sonner";
import { Composer } from "@/components/chat/composer";
import { buildTranscript } from "@/components/chat/transcript";
import { TurnView } from "@/components/chat/turn-view";
import { useStickToBottom } from "@/components/chat/use-stick-to-bottom";
import { useFitToViewport } from "@/components/chat/use-fit-to-viewport";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Badge } from "@/components/ui/badge";
import { Skeleton } from "@/components/ui/skeleton";
import type { TeamMessageView } from "@/contracts/teams";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { roleAtLeast } from "@/server/domain/roles";
import { timeAgo } from "@/lib/utils";
import { ROUTER_LABELS } from "./team-dialog";

const TERMINAL = new Set(["run_completed", "run_failed", "run_interrupted"]);
const METHOD_LABELS = { keyword: "keyword", llm: "model", fallback: "fallback" } as const;

/** Where the router sent a message, and why. */
export function RouteLine({ message }: { message: Pick<TeamMessageView, "agentName" | "method" | "reason"> }) {
  return (
    <p className="text-muted-foreground flex flex-wrap items-center gap-1.5 text-xs" data-testid="team-route" data-method={message.method}>
      <Route className="size-3.5" aria-hidden="true" />
      <span>
        → <strong className="text-foreground font-medium">{message.agentName ?? "a removed agent"}</strong> · {message.reason}
      </span>
      <Badge variant="outline" className="text-[10px]">
        {METHOD_LABELS[message.method]}
      </Badge>
    </p>
  );
}

/** One routed message: the decision, then the chosen agent's turn for it (live until it ends). */
function TeamReply({ projectId, message }: { projectId: string; message: TeamMessageView }) {
  const trpc = useTRPC();
  const ref = { projectId, agentId: message.agentId, sessionId: message.sessionId };
  const history = useQuery({ ...trpc.chat.history.queryOptions(ref), staleTime: Infinity, refetchOnWindowFocus: false });
  const [live, setLive] = useState<ChatStreamEvent[]>([]);
  const events = useMemo(() => {
    const base = history.data?.events ?? [];
    const last = base.at(-1)?.seq ?? 0;
    return [...base, ...live.filter((e) => e.seq > last)];
  }, [history.data, live]);
  const ended = events.some((e) => e.runId === message.runId && TERMINAL.has(e.type));
  const afterSeq = history.data ? (history.data.events.at(-1)?.seq ?? 0) : null;
  useSubscription(
    trpc.chat.stream.subscriptionOptions(!ended && afterSeq !== null ? { ...ref, afterSeq } : skipToken, {
      onData: (tracked) => {
        const e = tracked.data;
        setLive((prev) => (prev.length && prev[prev.length - 1]!.seq >= e.seq ? prev : [...prev, e]));
      },
    }),
  );
  const turn = useMemo(() => buildTranscript(events).find((t) => t.runId === message.runId), [events, message.runId]);
  return (
    <section className="flex flex-col gap-2" data-testid="team-message" aria-label={`Routed to ${message.agentName ?? "a removed agent"}`}>
      <RouteLine message={message} />
      {turn ? (
        <TurnView turn={turn} projectId={projectId} />
      ) : history.isError ? (
        <p className="text-muted-foreground text-sm">
          <span className="whitespace-pre-wrap">{message.message}</span> — the reply cannot be shown ({errorMessage(history.error)}).
        </p>
      ) : (
        <Skeleton className="h-16 w-full" />
      )}
    </section>
  );
}

export function TeamChat({ projectId, teamId }: { projectId: string; teamId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  const team = useQuery(trpc.team.get.queryOptions({ projectId, teamId }));
  const history = useQuery(trpc.team.messages.queryOptions({ projectId, teamId, limit: 50 }));
  const messages = useMemo(() => [...(history.data?.items ?? [])].reverse(), [history.data]);
  // The server checks "chat" on the agent it routes to; operators have it by default.
  const canSend = project.data ? roleAtLeast(project.data.role, "operator") : false;
  const [text, setText] = useState("");
  const { scrollRef, contentRef, jump } = useStickToBottom();
  const { ref: fitRef, height } = useFitToViewport<HTMLDivElement>({ minHeight: 380 });
  const [sentVersion, setSentVersion] = useState(0);
  useEffect(() => {
    if (sentVersion) jump("auto");
  }, [sentVersion, jump]);
  const send = useMutation(
    trpc.team.send.mutationOptions({
      onSuccess: async () => {
        setText("");
        await queryClient.invalidateQueries({ queryKey: trpc.team.messages.queryKey({ projectId, teamId }) });
        setSentVersion((v) => v + 1);
      },
      onError: (err) => toast.error("The message was not sent", { description: errorMessage(err) }),
    }),
  );

  if (team.isError) return <QueryErrorAlert title="Could not load the team" error={team.error} onRetry={() => void team.refetch()} />;
  return (
    <div ref={fitRef} style={height ? { height } : undefined} className="flex min-h-0 flex-col gap-3" data-testid="team-chat">
      <div className="flex flex-wrap items-center gap-2">
        <Link href={`/projects/${projectId}/teams`} className="text-muted-foreground hover:text-foreground inline-flex items-center gap-1 text-sm">
          <ArrowLeft className="size-4" aria-hidden="true" />
          Teams
        </Link>
        {team.data ? (
          <>
            <h2 className="text-lg font-semibold">{team.data.name}</h2>
            <Badge variant="outline">{ROUTER_LABELS[team.data.router]}</Badge>
            <span className="text-muted-foreground text-xs">{team.data.members.map((m) => m.agentName).join(", ")}</span>
          </>
        ) : (
          <Skeleton className="h-6 w-48" />
        )}
      </div>
      <div
        ref={scrollRef}
        role="log"
        aria-label="Team conversation"
        tabIndex={0}
        className="focus-visible:ring-ring/50 min-h-0 flex-1 overflow-y-auto overscroll-contain rounded-lg border outline-none focus-visible:ring-[3px]"
      >
        <div ref={contentRef} className="flex min-h-full flex-col gap-6 p-3 sm:p-4">
          {history.isPending ? (
            <Skeleton className="h-24 w-full" />
          ) : history.isError ? (
            <QueryErrorAlert title="Could not load the team's messages" error={history.error} onRetry={() => void history.refetch()} />
          ) : messages.length === 0 ? (
            <div className="text-muted-foreground m-auto flex flex-col items-center gap-2 text-center text-sm">
              <Bot className="size-8" aria-hidden="true" />
              <p>Send the team a message: the router picks the member, and the reply streams in here.</p>
            </div>
          ) : (
            <>
              {history.data?.nextCursor ? <p className="text-muted-foreground text-center text-xs">Showing the latest {messages.length} messages.</p> : null}
              {messages.map((m) => (
                <div key={m.id} className="flex flex-col gap-1">
                  <span className="text-muted-foreground text-[11px]" title={m.createdAt.toLocaleString()}>
                    {timeAgo(m.createdAt)}
                  </span>
                  <TeamReply projectId={projectId} message={m} />
                </div>
              ))}
            </>
          )}
        </div>
      </div>
      <Composer
        value={text}
        onChange={setText}
        onSend={() => text.trim() && !send.isPending && send.mutate({ projectId, teamId, message: text })}
        onStop={() => {}}
        canChat={canSend}
        agentRunning
        running={false}
        sending={send.isPending}
        stopping={false}
      />
    </div>
  );
}
