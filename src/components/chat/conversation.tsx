"use client";
// One conversation: its history (loaded once), then chat.stream from the last loaded seq (the
// live link resumes by the last seq it saw, so nothing is missed or shown twice); the transcript
// and the composer under it. Without a session, the first message creates one.
import { skipToken, useMutation, useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useMemo, useState } from "react";
import { toast } from "sonner";
import { NotificationPrompt } from "@/components/approvals/notification-prompt";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { Composer } from "./composer";
import { buildTranscript } from "./transcript";
import { TranscriptView } from "./transcript-view";

const TERMINAL = new Set(["run_completed", "run_failed", "run_interrupted"]);

export function Conversation({
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
  const afterSeq = history.data ? (history.data.events.at(-1)?.seq ?? 0) : null;
  const sub = useSubscription(
    trpc.chat.stream.subscriptionOptions(sessionId && afterSeq !== null ? { projectId, agentId, sessionId, afterSeq } : skipToken, {
      onData: (tracked) => {
        const e = tracked.data;
        setLive((prev) => (prev.length && prev[prev.length - 1]!.seq >= e.seq ? prev : [...prev, e]));
        if (TERMINAL.has(e.type)) onTurnEnded();
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
  // A tool call waits for a person: the place to offer browser notifications for the next one.
  const awaitingApproval = turns.some((t) => t.status === "running" && t.items.some((i) => i.kind === "approval" && i.approval.status === "pending"));

  const [message, setMessage] = useState("");
  const [sentVersion, setSentVersion] = useState(0);
  const send = useMutation(
    trpc.chat.send.mutationOptions({
      onSuccess: (res) => {
        setMessage("");
        setSentVersion((v) => v + 1);
        if (!sessionId) onSessionCreated(res.sessionId);
      },
      onError: (err) => toast.error("Could not send the message", { description: errorMessage(err) }),
    }),
  );
  const interrupt = useMutation(
    trpc.chat.interrupt.mutationOptions({ onError: (err) => toast.error("Could not stop the turn", { description: errorMessage(err) }) }),
  );

  function submit() {
    if (!message.trim() || send.isPending) return;
    send.mutate({ projectId, agentId, sessionId: sessionId ?? undefined, message });
  }

  return (
    <div className="flex min-h-0 flex-1 flex-col gap-2">
      {history.isError ? (
        <QueryErrorAlert title="Could not load this conversation" error={history.error} onRetry={() => void history.refetch()} />
      ) : (
        <TranscriptView
          projectId={projectId}
          turns={turns}
          loading={!!sessionId && history.isPending}
          sentVersion={sentVersion}
          emptyText={sessionId ? "No messages in this conversation yet." : "Start a conversation: the answer streams in as the agent works."}
          status={
            sub.status === "error" ? (
              <p className="text-destructive text-xs" role="status">
                Live updates interrupted: {errorMessage(sub.error)}. Reconnecting…
              </p>
            ) : null
          }
        />
      )}
      {awaitingApproval ? <NotificationPrompt /> : null}
      <Composer
        value={message}
        onChange={setMessage}
        onSend={submit}
        onStop={() => sessionId && interrupt.mutate({ projectId, agentId, sessionId })}
        canChat={canChat}
        agentRunning={agentRunning}
        running={running && !!sessionId}
        sending={send.isPending}
        stopping={interrupt.isPending}
      />
    </div>
  );
}
