"use client";
// The agent page's Chat tab, laid out like a chat app: conversations on the left (behind a
// button on a phone), the conversation on the right with its own scrolling transcript and the
// composer pinned under it. The panel has a definite height (the viewport below it, or the whole
// viewport under the top bar on a phone), so the composer is on screen when the tab opens.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { AlertTriangle, FlaskConical, MessagesSquare } from "lucide-react";
import { useSearchParams } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { useTRPC } from "@/lib/trpc/client";
import { Conversation } from "./conversation";
import { SessionList } from "./session-list";
import { SessionGitBar } from "@/components/agents/changes/session-git";
import { useFitToViewport } from "./use-fit-to-viewport";

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
  // ?session=<id> (a link from an approval, a notification) opens that conversation.
  const requested = useSearchParams()?.get("session") ?? null;
  const [selected, setSelected] = useState<string | null>(requested);
  const [draftNew, setDraftNew] = useState(false);
  const [listOpen, setListOpen] = useState(false);
  // Deleted here: gone at once, before the list is fetched again.
  const [deleted, setDeleted] = useState<string[]>([]);
  const list = (sessions.data?.sessions ?? []).filter((s) => !deleted.includes(s.id));
  // A session just created is selected before the list is fetched again: follow it at once.
  const chosen = selected && !deleted.includes(selected) ? selected : null;
  const sessionId = draftNew ? null : (chosen ?? list[0]?.id ?? null);
  const current = list.find((s) => s.id === sessionId);
  const refreshSessions = () => void queryClient.invalidateQueries({ queryKey: trpc.chat.sessions.queryKey({ projectId, agentId }) });
  const { ref, height } = useFitToViewport<HTMLDivElement>({ minHeight: 380 });
  const running = observedState === "running";

  // A later link to another session (a notification clicked while the page is open) follows it.
  const [followed, setFollowed] = useState(requested);
  if (requested !== followed) {
    setFollowed(requested);
    if (requested) {
      setDraftNew(false);
      setSelected(requested);
    }
  }

  const select = (id: string) => {
    setDraftNew(false);
    setSelected(id);
    setListOpen(false);
  };
  const startNew = () => {
    setDraftNew(true);
    setSelected(null);
    setListOpen(false);
  };
  const listProps = {
    projectId,
    agentId,
    selectedId: sessionId,
    canChat,
    onSelect: select,
    onNew: startNew,
    onDeleted: (id: string) => {
      setDeleted((d) => [...d, id]);
      if (id === selected) setSelected(null);
    },
  };

  return (
    <div ref={ref} style={height ? { height } : undefined} className="flex min-h-0 gap-4" data-testid="chat-panel">
      <aside aria-label="Chat sessions" className="hidden w-64 shrink-0 flex-col md:flex">
        <SessionList {...listProps} className="h-full" />
      </aside>
      <section className="flex min-h-0 min-w-0 flex-1 flex-col gap-2" aria-label="Conversation">
        <div className="flex items-center gap-2 md:hidden">
          <Button type="button" variant="outline" size="sm" onClick={() => setListOpen(true)} className="min-w-0 shrink">
            <MessagesSquare aria-hidden="true" />
            <span className="truncate">{current ? current.title : draftNew ? "New chat" : "Conversations"}</span>
          </Button>
          <span className="text-muted-foreground shrink-0 text-xs">{list.length} {list.length === 1 ? "conversation" : "conversations"}</span>
        </div>
        <Dialog open={listOpen} onOpenChange={setListOpen}>
          <DialogContent className="flex max-h-[85dvh] flex-col">
            <DialogHeader>
              <DialogTitle>Conversations</DialogTitle>
              <DialogDescription>Pick a conversation with {agentName}, or start a new one.</DialogDescription>
            </DialogHeader>
            <SessionList {...listProps} className="min-h-0 flex-1" />
          </DialogContent>
        </Dialog>
        {sessions.data?.demoModel ? <DemoNotice /> : null}
        {!running ? (
          <p role="status" className="flex items-center gap-2 rounded-md border border-amber-500/30 bg-amber-500/10 px-3 py-1.5 text-sm text-amber-900 dark:text-amber-200">
            <AlertTriangle className="size-4 shrink-0" aria-hidden="true" />
            <span>
              <strong className="font-medium">{agentName} is not running.</strong> Start the agent to chat with it; earlier conversations stay readable.
            </span>
          </p>
        ) : null}
        <SessionGitBar projectId={projectId} agentId={agentId} sessionId={sessionId} canChat={canChat} onCreated={select} />
        <Conversation
          key={sessionId ?? "new"}
          projectId={projectId}
          agentId={agentId}
          sessionId={sessionId}
          canChat={canChat}
          agentRunning={running}
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
    <p className="flex items-start gap-2 rounded-md border border-sky-500/30 bg-sky-500/5 px-3 py-1.5 text-xs text-sky-950 dark:text-sky-100" data-testid="demo-model-notice">
      <FlaskConical className="mt-0.5 size-3.5 shrink-0 text-sky-700 dark:text-sky-300" aria-hidden="true" />
      <span>
        <strong className="font-medium">The demo model is answering:</strong> no model key is configured (ANTHROPIC_API_KEY), so
        Armory&apos;s scripted model replies instead of Claude. Try &ldquo;show me some markdown&rdquo; or &ldquo;write a file hello.txt with hi&rdquo;.
      </span>
    </p>
  );
}
