"use client";
// The agent's Changes tab: what changed in its repository workspace (or in one session's branch),
// live as the agent edits (git.onChange), with a side-by-side diff per file, the whole patch,
// commit (message suggested by the agent on request), push, discard and a pull request.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { ExternalLink, GitBranch, GitCommitHorizontal, GitPullRequest, Sparkles, Undo2, Upload } from "lucide-react";
import dynamic from "next/dynamic";
import { useState, useSyncExternalStore } from "react";
import { toast } from "sonner";
import type { GitDiffView, GitFileChange, GitStatusView } from "@/contracts/git";
import { CloneFailed } from "@/components/agents/changes/repository-status";
import { languageFor } from "@/components/files/code-editor";
import { formatSize } from "@/components/files/file-format";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage, useTRPC } from "@/lib/trpc/client";

const MonacoDiff = dynamic(() => import("./monaco-diff"), { ssr: false, loading: () => <Skeleton className="h-full min-h-80 w-full rounded-none" /> });

function subscribeDark(cb: () => void) {
  const obs = new MutationObserver(cb);
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  return () => obs.disconnect();
}
const useDark = () => useSyncExternalStore(subscribeDark, () => document.documentElement.classList.contains("dark"), () => false);

const STATUS_TEXT: Record<GitFileChange["status"], string> = { M: "modified", A: "added", D: "deleted", R: "renamed", "?": "new, untracked", U: "conflict", T: "type changed" };
const STATUS_CLASS: Record<GitFileChange["status"], string> = {
  M: "text-amber-700 dark:text-amber-300",
  A: "text-emerald-700 dark:text-emerald-300",
  "?": "text-emerald-700 dark:text-emerald-300",
  D: "text-red-700 dark:text-red-300",
  R: "text-sky-700 dark:text-sky-300",
  U: "text-red-700 dark:text-red-300",
  T: "text-sky-700 dark:text-sky-300",
};

export function ChangesPanel({ projectId, agentId, canWrite, canChat }: { projectId: string; agentId: string; canWrite: boolean; canChat: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const agent = useQuery(trpc.agent.get.queryOptions({ projectId, agentId }));
  const sessions = useQuery(trpc.chat.sessions.queryOptions({ projectId, agentId }));
  const [sessionId, setSessionId] = useState<string | undefined>(undefined);
  const [selected, setSelected] = useState<string | null>(null);
  const [message, setMessage] = useState("");
  const [confirmDiscard, setConfirmDiscard] = useState<string | null>(null);
  const repo = agent.data?.repository ?? null;
  const ready = repo?.cloneState === "ready";
  const ref = { projectId, agentId, ...(sessionId ? { sessionId } : {}) };

  const statusKey = trpc.git.status.queryKey(ref);
  const status = useQuery({ ...trpc.git.status.queryOptions(ref), enabled: ready });
  useSubscription(
    trpc.git.onChange.subscriptionOptions(ref, {
      enabled: ready,
      onData: (s) => {
        queryClient.setQueryData(statusKey, s);
        void queryClient.invalidateQueries({ queryKey: trpc.git.diff.queryKey() });
      },
    }),
  );
  const view: GitStatusView | null = status.data ?? null;
  const files = view?.files ?? [];
  const current = selected && files.some((f) => f.path === selected) ? selected : null;
  const diff = useQuery({ ...trpc.git.diff.queryOptions({ ...ref, ...(current ? { path: current } : {}) }), enabled: ready && files.length > 0 });
  const gitSessions = (sessions.data?.sessions ?? []).filter((s) => s.git);
  const session = gitSessions.find((s) => s.id === sessionId) ?? null;

  const refresh = () => void queryClient.invalidateQueries({ queryKey: trpc.git.pathKey() });
  const onError = (what: string) => (err: unknown) => toast.error(what, { description: errorMessage(err) });
  const commit = useMutation(
    trpc.git.commit.mutationOptions({
      onSuccess: (r) => {
        toast.success(`Committed ${r.commit.slice(0, 8)} (${r.files} file${r.files === 1 ? "" : "s"})`);
        setMessage("");
        refresh();
      },
      onError: onError("Nothing was committed"),
    }),
  );
  const suggest = useMutation(trpc.git.suggestMessage.mutationOptions({ onSuccess: (r) => setMessage(r.message), onError: onError("No message was suggested") }));
  const push = useMutation(trpc.git.push.mutationOptions({ onSuccess: (r) => toast.success(`Pushed ${r.branch}`), onError: onError("The push failed") }));
  const discard = useMutation(
    trpc.git.discard.mutationOptions({
      onSuccess: (r) => {
        toast.success(`${r.path}: changes discarded`);
        refresh();
      },
      onError: onError("Nothing was discarded"),
    }),
  );
  const pr = useMutation(
    trpc.git.openPullRequest.mutationOptions({
      onSuccess: (r) => {
        toast.success(r.created ? `Opened ${r.kind === "gitlab" ? "merge request" : "pull request"} #${r.number}` : `#${r.number} was already open`);
        void queryClient.invalidateQueries({ queryKey: trpc.chat.sessions.queryKey() });
      },
      onError: onError("No pull request was opened"),
    }),
  );

  if (agent.isPending) return <Skeleton className="h-64 w-full" />;
  if (!repo) {
    return (
      <Card>
        <CardContent className="text-muted-foreground py-10 text-center text-sm">
          This agent has no repository. Create an agent with a repository (its URL, branch and a token secret) to review its changes here.
        </CardContent>
      </Card>
    );
  }
  if (!ready) {
    return (
      <Card>
        <CardContent className="flex flex-col gap-2 py-8 text-sm">
          {repo.cloneState === "failed" ? (
            <CloneFailed projectId={projectId} agentId={agentId} repository={repo} canRetry={canWrite} />
          ) : (
            <>
              <p>
                Cloning <span className="font-mono">{repo.url}</span>… {repo.clonePercent}%{repo.clonePhase ? ` (${repo.clonePhase})` : ""}
              </p>
              <progress className="w-full" max={100} value={repo.clonePercent} aria-label="Clone progress" />
            </>
          )}
        </CardContent>
      </Card>
    );
  }

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <Label htmlFor="changes-session" className="text-sm">
          Show
        </Label>
        <select
          id="changes-session"
          className="border-input bg-background h-9 rounded-md border px-2 text-sm"
          value={sessionId ?? ""}
          onChange={(e) => {
            setSessionId(e.target.value || undefined);
            setSelected(null);
          }}
        >
          <option value="">Workspace ({repo.branch ?? "default branch"})</option>
          {gitSessions.map((s) => (
            <option key={s.id} value={s.id}>
              {s.title} ({s.git!.branch})
            </option>
          ))}
        </select>
        {view?.branch ? (
          <Badge variant="outline" className="font-mono">
            <GitBranch aria-hidden="true" />
            {view.branch}
            {view.base ? ` ← ${view.base}` : ""}
          </Badge>
        ) : null}
        {view?.ahead ? <span className="text-muted-foreground text-xs">{view.ahead} commit(s) not pushed</span> : null}
        {session?.git?.pullRequestUrl ? (
          <a href={session.git.pullRequestUrl} target="_blank" rel="noreferrer" className="inline-flex items-center gap-1 text-sm underline">
            <ExternalLink className="size-3.5" aria-hidden="true" />
            Pull request
          </a>
        ) : null}
      </div>

      <div className="grid gap-4 lg:grid-cols-[18rem_1fr]">
        <Card className="py-3">
          <CardHeader className="px-3">
            <CardTitle className="text-sm">
              {files.length} changed file{files.length === 1 ? "" : "s"}
              {view?.truncated ? " (list cut short)" : ""}
            </CardTitle>
          </CardHeader>
          <CardContent className="px-1">
            <ul aria-label="Changed files" className="flex flex-col">
              <li>
                <button
                  type="button"
                  onClick={() => setSelected(null)}
                  aria-current={current === null}
                  className="hover:bg-muted aria-[current=true]:bg-muted w-full rounded px-2 py-1 text-left text-sm"
                >
                  All changes
                </button>
              </li>
              {files.map((f) => (
                <li key={f.path} className="group flex items-center gap-1">
                  <button
                    type="button"
                    onClick={() => setSelected(f.path)}
                    aria-current={current === f.path}
                    className="hover:bg-muted aria-[current=true]:bg-muted flex min-w-0 flex-1 items-center gap-2 rounded px-2 py-1 text-left text-sm"
                  >
                    <span className={`w-3 font-mono font-semibold ${STATUS_CLASS[f.status]}`} title={STATUS_TEXT[f.status]}>
                      {f.status}
                      <span className="sr-only"> ({STATUS_TEXT[f.status]})</span>
                    </span>
                    <span className="min-w-0 flex-1 truncate font-mono text-xs">{f.path}</span>
                    {f.additions !== null ? <span className="text-xs text-emerald-700 dark:text-emerald-300">+{f.additions}</span> : null}
                    {f.deletions !== null ? <span className="text-xs text-red-700 dark:text-red-300">-{f.deletions}</span> : null}
                  </button>
                  {canWrite ? (
                    <Button variant="ghost" size="icon" className="size-7" aria-label={`Discard changes to ${f.path}`} onClick={() => setConfirmDiscard(f.path)}>
                      <Undo2 aria-hidden="true" />
                    </Button>
                  ) : null}
                </li>
              ))}
            </ul>
          </CardContent>
        </Card>

        <Card className="min-h-96 overflow-hidden py-0">
          <DiffView diff={diff.data} pending={diff.isPending && files.length > 0} empty={files.length === 0} />
        </Card>
      </div>

      {canWrite ? (
        <Card>
          <CardContent className="flex flex-col gap-3">
            <Label htmlFor="commit-message">Commit message</Label>
            <Textarea id="commit-message" value={message} onChange={(e) => setMessage(e.target.value)} rows={3} placeholder="Describe the change" />
            <div className="flex flex-wrap gap-2">
              <Button disabled={!message.trim() || !files.length || commit.isPending} onClick={() => commit.mutate({ ...ref, message })}>
                <GitCommitHorizontal aria-hidden="true" />
                {commit.isPending ? "Committing…" : "Commit"}
              </Button>
              {canChat ? (
                <Button variant="outline" disabled={!files.length || suggest.isPending} onClick={() => suggest.mutate(ref)}>
                  <Sparkles aria-hidden="true" />
                  {suggest.isPending ? "Asking the agent…" : "Suggest a message"}
                </Button>
              ) : null}
              <Button variant="outline" disabled={push.isPending} onClick={() => push.mutate(ref)}>
                <Upload aria-hidden="true" />
                {push.isPending ? "Pushing…" : "Push"}
              </Button>
              {session && canChat ? (
                <Button variant="outline" disabled={pr.isPending} onClick={() => pr.mutate({ projectId, agentId, sessionId: session.id })}>
                  <GitPullRequest aria-hidden="true" />
                  {pr.isPending ? "Opening…" : session.git?.pullRequestUrl ? "Update pull request" : "Open pull request"}
                </Button>
              ) : null}
            </div>
          </CardContent>
        </Card>
      ) : null}

      <AlertDialog open={confirmDiscard !== null} onOpenChange={(open) => !open && setConfirmDiscard(null)}>
        <AlertDialogContent>
          <AlertDialogHeader>
            <AlertDialogTitle>Discard the changes to {confirmDiscard}?</AlertDialogTitle>
            <AlertDialogDescription>The file goes back to its last committed content (a new file is deleted). This cannot be undone.</AlertDialogDescription>
          </AlertDialogHeader>
          <AlertDialogFooter>
            <AlertDialogCancel>Keep</AlertDialogCancel>
            <AlertDialogAction
              onClick={() => {
                if (confirmDiscard) discard.mutate({ ...ref, path: confirmDiscard });
                setConfirmDiscard(null);
              }}
            >
              Discard
            </AlertDialogAction>
          </AlertDialogFooter>
        </AlertDialogContent>
      </AlertDialog>
    </div>
  );
}

function DiffView({ diff, pending, empty }: { diff: GitDiffView | undefined; pending: boolean; empty: boolean }) {
  const dark = useDark();
  if (empty) return <p className="text-muted-foreground p-6 text-sm">No changes: the working tree matches the last commit.</p>;
  if (pending || !diff) return <Skeleton className="h-96 w-full rounded-none" />;
  if (diff.kind === "patch") {
    return (
      <pre aria-label="All changes" className="max-h-[36rem] overflow-auto p-3 font-mono text-xs leading-5">
        {diff.patch.split("\n").map((line, i) => (
          <span
            key={i}
            className={
              line.startsWith("+") && !line.startsWith("+++")
                ? "block bg-emerald-500/10"
                : line.startsWith("-") && !line.startsWith("---")
                  ? "block bg-red-500/10"
                  : "block"
            }
          >
            {line || " "}
          </span>
        ))}
        {diff.truncated ? <span className="text-muted-foreground block">… the patch is cut short (too large to show).</span> : null}
        {diff.files.some((f) => f.status === "?") ? (
          <span className="text-muted-foreground block">New files: {diff.files.filter((f) => f.status === "?").map((f) => f.path).join(", ")} (select one to see it).</span>
        ) : null}
      </pre>
    );
  }
  const sideNote = (s: typeof diff.old) => (s.binary ? "binary file" : s.tooLarge ? `too large to show (${formatSize(s.size ?? 0)})` : null);
  const note = sideNote(diff.old) ?? sideNote(diff.new);
  if (note) return <p className="text-muted-foreground p-6 text-sm">{diff.path}: {note}; the diff is not shown.</p>;
  return (
    <div className="h-[36rem]" aria-label={`Diff of ${diff.path}`} role="region">
      <MonacoDiff path={diff.path} original={diff.old.content ?? ""} modified={diff.new.content ?? ""} language={languageFor(diff.path)} dark={dark} />
    </div>
  );
}
