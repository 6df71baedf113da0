"use client";
// The conversation's scrolling transcript: its own scroll area (the page does not scroll with
// it), pinned to the newest content while the agent answers unless the user scrolled up, then
// a "Jump to latest" button. Keyboard users can scroll it too (it is focusable).
import { ArrowDown, Bot } from "lucide-react";
import { Skeleton } from "@/components/ui/skeleton";
import { useEffect, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import type { Turn } from "./transcript";
import { TurnView } from "./turn-view";
import { useStickToBottom } from "./use-stick-to-bottom";

export function TranscriptView({
  projectId,
  turns,
  loading,
  emptyText,
  sentVersion,
  status,
}: {
  projectId: string;
  turns: Turn[];
  loading: boolean;
  emptyText: string;
  /** Changes when the user sends a message: the view jumps to the end. */
  sentVersion: number;
  /** A line under the turns (e.g. live updates interrupted). */
  status?: ReactNode;
}) {
  const { scrollRef, contentRef, stuck, jump } = useStickToBottom();
  useEffect(() => {
    if (sentVersion) jump("auto");
  }, [sentVersion, jump]);

  return (
    <div className="relative min-h-0 flex-1">
      <div
        ref={scrollRef}
        role="log"
        aria-label="Conversation transcript"
        // Focusable, so the transcript scrolls by keyboard.
        tabIndex={0}
        className="focus-visible:ring-ring/50 h-full overflow-y-auto overscroll-contain rounded-lg border outline-none focus-visible:ring-[3px]"
        data-testid="chat-transcript"
        data-stuck={stuck ? "true" : "false"}
      >
        <div ref={contentRef} className="flex min-h-full flex-col gap-6 p-3 sm:p-4">
          {loading ? (
            <div className="flex flex-col gap-3" aria-busy="true">
              <span className="sr-only">Loading the conversation…</span>
              <Skeleton className="ml-auto h-10 w-2/3" />
              <Skeleton className="h-24 w-full" />
            </div>
          ) : turns.length === 0 ? (
            <div className="text-muted-foreground m-auto flex flex-col items-center gap-2 text-center text-sm">
              <Bot className="size-8" aria-hidden="true" />
              <p>{emptyText}</p>
            </div>
          ) : (
            turns.map((t) => <TurnView key={t.runId} turn={t} projectId={projectId} />)
          )}
          {status}
        </div>
      </div>
      {!stuck ? (
        <Button
          type="button"
          size="sm"
          variant="secondary"
          className="absolute bottom-3 left-1/2 -translate-x-1/2 rounded-full border shadow-md"
          onClick={() => jump()}
        >
          <ArrowDown aria-hidden="true" />
          Jump to latest
        </Button>
      ) : null}
    </div>
  );
}
