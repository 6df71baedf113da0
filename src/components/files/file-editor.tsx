"use client";
// One open file: Monaco (lazy), Save / Discard / Close / Preview (markdown), and what happens when
// the file changes underneath — taken over silently while there are no local edits, otherwise a
// notice offering to keep mine or take theirs. Saves are conditional on the content the edit
// started from (expectedSha256), so nothing is lost to a concurrent change. Unsaved edits live in
// the draft store (./draft-store): they survive this editor unmounting, and dropping them asks.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { TRPCClientError } from "@trpc/client";
import { Eye, FileWarning, Pencil, RotateCcw, Save, Upload, X } from "lucide-react";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
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
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { CodeEditor, languageFor, MarkdownPreview } from "./code-editor";
import { clearDraft, getDraft, saveDraft } from "./draft-store";
import { formatMode, formatSize, isMarkdown, type FileRead } from "./file-format";

function subscribeDark(cb: () => void) {
  const obs = new MutationObserver(cb);
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  return () => obs.disconnect();
}
const useDark = () =>
  useSyncExternalStore(
    subscribeDark,
    () => document.documentElement.classList.contains("dark"),
    () => false,
  );


const codeOf = (err: unknown) => (err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined);

interface Baseline {
  content: string;
  sha256: string;
}

export function FileEditor({
  projectId,
  agentId,
  path,
  canWrite,
  onClose,
}: {
  projectId: string;
  agentId: string;
  path: string;
  canWrite: boolean;
  onClose(): void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const dark = useDark();
  const readKey = { projectId, agentId, path };
  const read = useQuery(trpc.files.read.queryOptions(readKey, { staleTime: 0 }));
  // A draft kept from an earlier visit comes back as it was (text and the version it started from).
  const [stored] = useState(() => getDraft(agentId, path));
  const [baseline, setBaseline] = useState<Baseline | null>(stored?.baseline ?? null);
  const [draft, setDraft] = useState(stored?.text ?? "");
  /** What the editor is told to show; a new object only when the text is set from outside typing. */
  const [shown, setShown] = useState({ text: stored?.text ?? "" });
  /** Which discard is being confirmed. */
  const [confirm, setConfirm] = useState<null | "discard" | "close" | "theirs">(null);
  const [underneath, setUnderneath] = useState<null | "changed" | "deleted">(null);
  const [updatedFromContainer, setUpdatedFromContainer] = useState(false);
  const [preview, setPreview] = useState(false);
  const [seenSha, setSeenSha] = useState<string | null>(null);
  const dirty = !!baseline && draft !== baseline.content;

  // Unsaved edits go to the draft store (kept when this editor unmounts); a clean file has none.
  useEffect(() => {
    if (!baseline) return;
    if (dirty) saveDraft({ projectId, agentId, path, baseline, text: draft });
    else clearDraft(agentId, path);
  }, [projectId, agentId, path, baseline, draft, dirty]);

  const showText = (text: string) => {
    setDraft(text);
    setShown({ text });
  };

  const adopt = (data: FileRead) => {
    setBaseline({ content: data.content, sha256: data.sha256 });
    showText(data.content);
    setUnderneath(null);
  };

  // New content from the server (adjusting state while rendering, as React recommends): take it
  // over unless there are local edits, which get the changed-underneath notice instead.
  const data = read.data;
  if (data && data.sha256 !== seenSha) {
    setSeenSha(data.sha256);
    if (!baseline) adopt(data);
    else if (data.sha256 !== baseline.sha256) {
      if (dirty) setUnderneath("changed");
      else {
        adopt(data);
        setUpdatedFromContainer(true);
      }
    }
  }

  // Changes made elsewhere (another tab, the config watcher, the agent: its directory is watched
  // once the file could be read, i.e. the agent runs): look again.
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  useSubscription(
    trpc.files.onChange.subscriptionOptions(
      { projectId, agentId, ...(read.isSuccess ? { paths: [dir] } : {}) },
      {
        onData: (e) => {
          if (e.path !== path || (e.sha256 && e.sha256 === baseline?.sha256)) return;
          if (e.change === "deleted") setUnderneath("deleted");
          else void queryClient.invalidateQueries({ queryKey: trpc.files.read.queryKey(readKey) });
        },
      },
    ),
  );

  const write = useMutation(
    trpc.files.write.mutationOptions({
      onSuccess: (res, vars) => {
        setBaseline({ content: vars.content, sha256: res.sha256 });
        setSeenSha(res.sha256);
        setUnderneath(null);
        setUpdatedFromContainer(false);
        queryClient.setQueryData(trpc.files.read.queryKey(readKey), (old) =>
          old ? { ...old, content: vars.content, encoding: "utf-8" as const, sha256: res.sha256, size: res.size, modifiedAt: res.modifiedAt } : old,
        );
        void queryClient.invalidateQueries({ queryKey: trpc.files.list.queryKey() });
        toast.success("Saved", { description: path });
      },
      onError: (err) => {
        if (codeOf(err) === "CONFLICT") setUnderneath("changed");
        else toast.error("Could not save", { description: errorMessage(err) });
      },
    }),
  );

  const save = (overwrite = false) => {
    if (!baseline || !canWrite || write.isPending) return;
    write.mutate({ projectId, agentId, path, content: draft, ...(overwrite ? {} : { expectedSha256: baseline.sha256 }) });
  };
  const saveRef = useRef(save);
  useEffect(() => {
    saveRef.current = save;
  });
  const onSaveKey = useCallback(() => saveRef.current(), []);

  /** Take theirs: the server's version replaces the draft. */
  const reload = async () => {
    const res = await read.refetch();
    if (res.data) adopt(res.data);
  };
  /** Keep mine: the draft stays, now based on the server's version (a save replaces theirs). */
  const keepMine = () => {
    const latest = read.data;
    if (latest && latest.encoding === "utf-8") setBaseline({ content: latest.content, sha256: latest.sha256 });
    setUnderneath(null);
  };
  const confirmed = () => {
    const what = confirm;
    setConfirm(null);
    if (what === "discard") showText(baseline?.content ?? "");
    else if (what === "close") {
      clearDraft(agentId, path);
      onClose();
    } else if (what === "theirs") void reload();
  };
  const close = () => (dirty ? setConfirm("close") : onClose());

  if (read.isError) {
    return (
      <div className="p-4">
        <QueryErrorAlert title={`Could not open ${path}`} error={read.error} onRetry={() => void read.refetch()} />
      </div>
    );
  }
  if (!read.data || !baseline) {
    return (
      <div className="flex flex-col gap-2 p-4" aria-label="Loading the file">
        <Skeleton className="h-5 w-64" />
        <Skeleton className="h-72 w-full" />
      </div>
    );
  }

  const file = read.data;
  const binary = file.encoding === "base64";
  const markdown = isMarkdown(path);

  return (
    <div className="flex h-full min-h-0 flex-col">
      <div className="flex flex-wrap items-center gap-2 border-b px-3 py-2">
        <h3 className="min-w-0 truncate font-mono text-sm font-medium" title={file.resolvedPath}>
          {path}
        </h3>
        {updatedFromContainer && !dirty ? (
          <Badge variant="outline" title="The file changed in the container; the editor shows the new content">
            Updated from the container
          </Badge>
        ) : null}
        {dirty ? (
          <Badge variant="outline" className="border-amber-500/30 bg-amber-500/10 text-amber-700 dark:text-amber-300">
            Unsaved changes
          </Badge>
        ) : null}
        <span className="text-muted-foreground text-xs tabular-nums">
          {formatSize(file.size)} · {formatMode(file.mode)} · modified {file.modifiedAt.toLocaleString()}
        </span>
        <div className="ml-auto flex items-center gap-2">
          {markdown && !binary ? (
            <Button variant="outline" size="sm" onClick={() => setPreview((p) => !p)} aria-pressed={preview}>
              {preview ? <Pencil aria-hidden="true" /> : <Eye aria-hidden="true" />}
              {preview ? "Edit" : "Preview"}
            </Button>
          ) : null}
          {canWrite && !binary ? (
            <>
              <Button variant="outline" size="sm" onClick={() => setConfirm("discard")} disabled={!dirty}>
                <RotateCcw aria-hidden="true" />
                Discard
              </Button>
              <Button size="sm" onClick={() => save()} disabled={!dirty || write.isPending}>
                <Save aria-hidden="true" />
                {write.isPending ? "Saving…" : "Save"}
              </Button>
            </>
          ) : null}
          <Button variant="ghost" size="icon" className="size-8" onClick={close} aria-label={`Close ${path}`} title="Close the file">
            <X aria-hidden="true" />
          </Button>
        </div>
      </div>

      {underneath ? (
        <Alert className="m-3 w-auto border-amber-500/40" role="alert">
          <FileWarning aria-hidden="true" />
          <AlertTitle>{underneath === "deleted" ? "This file was deleted" : "This file changed underneath you"}</AlertTitle>
          <AlertDescription>
            <p>
              {underneath === "deleted"
                ? "It no longer exists in the container. Save to create it again with your text."
                : "Someone (or the agent) changed it on the server since your unsaved edits began. Keep mine (your text stays; saving replaces their version) or take theirs (your edits are dropped)."}
            </p>
            <div className="mt-2 flex flex-wrap gap-2">
              {underneath === "changed" ? (
                <>
                  <Button variant="outline" size="sm" onClick={keepMine}>
                    <Pencil aria-hidden="true" />
                    Keep mine
                  </Button>
                  <Button variant="outline" size="sm" onClick={() => setConfirm("theirs")}>
                    <RotateCcw aria-hidden="true" />
                    Take theirs
                  </Button>
                </>
              ) : null}
              {canWrite ? (
                <Button variant="outline" size="sm" onClick={() => save(true)} disabled={write.isPending}>
                  <Upload aria-hidden="true" />
                  {underneath === "deleted" ? "Save mine again" : "Overwrite with mine now"}
                </Button>
              ) : null}
            </div>
          </AlertDescription>
        </Alert>
      ) : null}

      <div className="min-h-0 flex-1">
        {binary ? (
          <p className="text-muted-foreground p-4 text-sm">This is a binary file ({formatSize(file.size)}); it cannot be edited here.</p>
        ) : (
          <>
            {preview && markdown ? <MarkdownPreview text={draft} /> : null}
            {/* Kept mounted while previewing: the edits and their undo history stay. */}
            <div className={preview && markdown ? "hidden" : "h-full min-h-80"} data-testid="code-editor">
              <CodeEditor path={path} content={shown} language={languageFor(path)} readOnly={!canWrite} dark={dark} onChange={setDraft} onSave={onSaveKey} />
            </div>
          </>
        )}
      </div>

      <AlertDialog open={confirm !== null} onOpenChange={(open) => !open && setConfirm(null)}>
        <AlertDialogContent>
          <AlertDialogHeader>
            <AlertDialogTitle>{confirm === "theirs" ? "Take their version?" : confirm === "close" ? "Close and discard your changes?" : "Discard your changes?"}</AlertDialogTitle>
            <AlertDialogDescription>
              {confirm === "theirs"
                ? `Your unsaved edits to ${path} are dropped and the editor shows the version on the server.`
                : `Your unsaved edits to ${path} are lost; the file stays as it is on the server.`}
            </AlertDialogDescription>
          </AlertDialogHeader>
          <AlertDialogFooter>
            <AlertDialogCancel>Keep editing</AlertDialogCancel>
            <AlertDialogAction className="bg-destructive text-white hover:bg-destructive/90" onClick={confirmed}>
              {confirm === "theirs" ? "Take theirs" : "Discard changes"}
            </AlertDialogAction>
          </AlertDialogFooter>
        </AlertDialogContent>
      </AlertDialog>
    </div>
  );
}
