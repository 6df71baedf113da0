"use client";
// The agent's conversations: New chat, a search (titles, the user's messages and the agent's
// replies), the list (newest activity first) with rename and delete per conversation, and the
// usage totals. Deleting asks first; a conversation whose turn is running cannot be deleted.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Loader2, MessageSquarePlus, MoreHorizontal, Pencil, Search, Trash2 } from "lucide-react";
import { useEffect, useId, useState } from "react";
import { toast } from "sonner";
import { FormError } from "@/components/auth/form-error";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import {
  AlertDialog,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import type { ChatSessionView } from "@/server/api/routers/chat/schemas";
import { formatCost, formatTokens } from "./transcript";

type Session = ChatSessionView;

export function relativeTime(d: Date): string {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return d.toLocaleDateString();
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function SessionList({
  projectId,
  agentId,
  selectedId,
  canChat,
  onSelect,
  onNew,
  onDeleted,
  className,
}: {
  projectId: string;
  agentId: string;
  selectedId: string | null;
  canChat: boolean;
  onSelect: (id: string) => void;
  onNew: () => void;
  onDeleted: (id: string) => void;
  className?: string;
}) {
  const trpc = useTRPC();
  const [search, setSearch] = useState("");
  const query = useDebounced(search.trim(), 250);
  const all = useQuery(trpc.chat.sessions.queryOptions({ projectId, agentId }));
  const found = useQuery({
    ...trpc.chat.sessions.queryOptions({ projectId, agentId, search: query }),
    enabled: !!query,
    placeholderData: keepPreviousData,
  });
  const shown = query ? found : all;
  const list = shown.data?.sessions ?? [];
  const demo = !!all.data?.demoModel;
  const searchId = useId();
  const [renaming, setRenaming] = useState<Session | null>(null);
  const [deleting, setDeleting] = useState<Session | null>(null);

  return (
    <div className={cn("flex min-h-0 flex-col gap-2", className)}>
      <Button variant="outline" className="justify-start" onClick={onNew} disabled={!canChat}>
        <MessageSquarePlus aria-hidden="true" />
        New chat
      </Button>
      <div className="relative">
        <Label htmlFor={searchId} className="sr-only">
          Search conversations
        </Label>
        <Search className="text-muted-foreground pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2" aria-hidden="true" />
        <Input id={searchId} type="search" placeholder="Search conversations" value={search} onChange={(e) => setSearch(e.target.value)} className="pl-8" />
      </div>
      {shown.isPending && !shown.data ? (
        <div className="flex flex-col gap-2" aria-busy="true">
          <span className="sr-only">Loading conversations…</span>
          <Skeleton className="h-12" />
          <Skeleton className="h-12" />
        </div>
      ) : shown.isError ? (
        <QueryErrorAlert title="Could not load conversations" error={shown.error} onRetry={() => void shown.refetch()} />
      ) : list.length === 0 ? (
        <p className="text-muted-foreground px-1 text-sm" role="status">
          {query ? `No conversation matches “${query}”.` : "No conversations yet."}
        </p>
      ) : (
        <ul className="-mr-1 flex min-h-0 flex-1 flex-col gap-0.5 overflow-y-auto pr-1" aria-label={query ? `Conversations matching ${query}` : "Conversations"} aria-busy={found.isFetching && !!query}>
          {list.map((s) => (
            <li key={s.id} className={cn("group hover:bg-muted flex items-center rounded-md", s.id === selectedId && "bg-muted")} data-testid="chat-session">
              <button
                type="button"
                onClick={() => onSelect(s.id)}
                aria-current={s.id === selectedId ? "true" : undefined}
                className="focus-visible:ring-ring/50 flex min-w-0 flex-1 flex-col items-start gap-0.5 rounded-md px-2 py-1.5 text-left text-sm outline-none focus-visible:ring-[3px]"
              >
                <span className="line-clamp-1 font-medium break-all" data-testid="chat-session-title">
                  {s.title}
                </span>
                <span className="text-muted-foreground text-xs">
                  {s.running ? "answering… · " : ""}
                  {s.turns} {s.turns === 1 ? "turn" : "turns"} · {formatCost(s.costUsd, { demo })} · {relativeTime(s.updatedAt)}
                </span>
              </button>
              {canChat ? (
                <DropdownMenu modal={false}>
                  <DropdownMenuTrigger asChild>
                    <Button type="button" variant="ghost" size="icon-sm" className="mr-1 shrink-0" aria-label={`Actions for ${s.title}`}>
                      <MoreHorizontal aria-hidden="true" />
                    </Button>
                  </DropdownMenuTrigger>
                  <DropdownMenuContent align="end">
                    <DropdownMenuItem onSelect={() => setRenaming(s)}>
                      <Pencil aria-hidden="true" />
                      Rename
                    </DropdownMenuItem>
                    <DropdownMenuItem variant="destructive" onSelect={() => setDeleting(s)}>
                      <Trash2 aria-hidden="true" />
                      Delete
                    </DropdownMenuItem>
                  </DropdownMenuContent>
                </DropdownMenu>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {all.data ? (
        <p className="text-muted-foreground mt-auto border-t pt-2 text-xs" data-testid="chat-usage">
          This agent: {formatCost(all.data.usage.agent.costUsd, { demo })} · {formatTokens(all.data.usage.agent.inputTokens)} in /{" "}
          {formatTokens(all.data.usage.agent.outputTokens)} out tokens in {all.data.usage.agent.turns} turns. Project:{" "}
          {formatCost(all.data.usage.project.costUsd, { demo })}.
        </p>
      ) : null}
      <RenameDialog projectId={projectId} agentId={agentId} session={renaming} onClose={() => setRenaming(null)} />
      <DeleteDialog
        projectId={projectId}
        agentId={agentId}
        session={deleting}
        onClose={() => setDeleting(null)}
        onDeleted={(id) => {
          setDeleting(null);
          onDeleted(id);
        }}
      />
    </div>
  );
}

function useRefreshSessions(projectId: string, agentId: string) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: trpc.chat.sessions.queryKey({ projectId, agentId }) });
}

function RenameDialog({ projectId, agentId, session, onClose }: { projectId: string; agentId: string; session: Session | null; onClose: () => void }) {
  const trpc = useTRPC();
  const refresh = useRefreshSessions(projectId, agentId);
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const [prev, setPrev] = useState<Session | null>(null);
  if (session !== prev) {
    setPrev(session);
    setTitle(session?.title ?? "");
    setError(null);
  }
  const rename = useMutation(
    trpc.chat.renameSession.mutationOptions({
      onSuccess: () => {
        void refresh();
        onClose();
        toast.success("Conversation renamed");
      },
      onError: (err) => setError(errorMessage(err)),
    }),
  );
  return (
    <Dialog open={!!session} onOpenChange={(open) => !open && !rename.isPending && onClose()}>
      <DialogContent>
        <form
          className="flex flex-col gap-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (!session || !title.trim()) return;
            setError(null);
            rename.mutate({ projectId, agentId, sessionId: session.id, title });
          }}
        >
          <DialogHeader>
            <DialogTitle>Rename conversation</DialogTitle>
            <DialogDescription>The new name is shown to everyone in the project.</DialogDescription>
          </DialogHeader>
          <div className="flex flex-col gap-2">
            <Label htmlFor={inputId}>Title</Label>
            <Input id={inputId} value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} autoComplete="off" />
          </div>
          <FormError message={error} />
          <DialogFooter>
            <Button type="button" variant="outline" onClick={onClose} disabled={rename.isPending}>
              Cancel
            </Button>
            <Button type="submit" disabled={rename.isPending || !title.trim()}>
              {rename.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
              Save
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

function DeleteDialog({
  projectId,
  agentId,
  session,
  onClose,
  onDeleted,
}: {
  projectId: string;
  agentId: string;
  session: Session | null;
  onClose: () => void;
  onDeleted: (id: string) => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshSessions(projectId, agentId);
  const [error, setError] = useState<string | null>(null);
  const [prev, setPrev] = useState<Session | null>(null);
  if (session !== prev) {
    setPrev(session);
    setError(null);
  }
  const remove = useMutation(
    trpc.chat.deleteSession.mutationOptions({
      onSuccess: (res) => {
        void refresh();
        onDeleted(res.sessionId);
        toast.success("Conversation deleted");
      },
      onError: (err) => setError(errorMessage(err)),
    }),
  );
  return (
    <AlertDialog open={!!session} onOpenChange={(open) => !open && !remove.isPending && onClose()}>
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>Delete this conversation?</AlertDialogTitle>
          <AlertDialogDescription>
            “{session?.title}” and its {session?.turns ?? 0} {session?.turns === 1 ? "turn" : "turns"} are deleted for everyone in the
            project. This cannot be undone. The agent&apos;s files are not touched.
          </AlertDialogDescription>
        </AlertDialogHeader>
        <FormError message={error} />
        <AlertDialogFooter>
          <AlertDialogCancel type="button" disabled={remove.isPending}>
            Cancel
          </AlertDialogCancel>
          <Button
            type="button"
            variant="destructive"
            disabled={remove.isPending || !session}
            onClick={() => session && remove.mutate({ projectId, agentId, sessionId: session.id })}
          >
            {remove.isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : <Trash2 aria-hidden="true" />}
            Delete conversation
          </Button>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
