"use client";
// One open file: Monaco (lazy), Save / Revert / Preview (markdown), and what happens when the
// file changes underneath — taken over silently while there are no local edits, otherwise a
// notice offering to reload (drop mine) or overwrite (keep mine). Saves are conditional on the
// content the edit started from (expectedSha256), so nothing is lost to a concurrent change.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { TRPCClientError } from "@trpc/client";
import { Eye, FileWarning, Pencil, RotateCcw, Save, Upload } from "lucide-react";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { CodeEditor, languageFor, MarkdownPreview } from "./code-editor";
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
  onDirtyChange,
}: {
  projectId: string;
  agentId: string;
  path: string;
  canWrite: boolean;
  onDirtyChange(dirty: boolean): void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const dark = useDark();
  const readKey = { projectId, agentId, path };
  const read = useQuery(trpc.files.read.queryOptions(readKey, { staleTime: 0 }));
  const [baseline, setBaseline] = useState<Baseline | null>(null);
  const [draft, setDraft] = useState("");
  /** What the editor is told to show; a new object only when the text is set from outside typing. */
  const [shown, setShown] = useState({ text: "" });
  const [underneath, setUnderneath] = useState<null | "changed" | "deleted">(null);
  const [updatedFromContainer, setUpdatedFromContainer] = useState(false);
  const [preview, setPreview] = useState(false);
  const [seenSha, setSeenSha] = useState<string | null>(null);
  const dirty = !!baseline && draft !== baseline.content;

  useEffect(() => onDirtyChange(dirty), [dirty, onDirtyChange]);

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

  // Changes made elsewhere (another tab, the config watcher): look again.
  useSubscription(
    trpc.files.onChange.subscriptionOptions(
      { projectId, agentId },
      {
        onData: (e) => {
          if (e.path !== path || (e.sha256 && e.sha256 === baseline?.sha256)) return;
          if (e.change === "deleted") setUnderneath("deleted");
          else void queryClient.invalidateQueries({ queryKey: trpc.files.read.queryKey(readKey) });
        },
      },
    ),
  );

  // The unsaved-change guard for leaving the page.
  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [dirty]);

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

  const reload = async () => {
    const res = await read.refetch();
    if (res.data) adopt(res.data);
  };

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
              <Button variant="outline" size="sm" onClick={() => showText(baseline.content)} disabled={!dirty}>
                <RotateCcw aria-hidden="true" />
                Revert
              </Button>
              <Button size="sm" onClick={() => save()} disabled={!dirty || write.isPending}>
                <Save aria-hidden="true" />
                {write.isPending ? "Saving…" : "Save"}
              </Button>
            </>
          ) : null}
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
                : "Someone (or the agent) changed it since you opened it. Reload to see their version and drop your edits, or overwrite it with yours."}
            </p>
            <div className="mt-2 flex gap-2">
              {underneath === "changed" ? (
                <Button variant="outline" size="sm" onClick={() => void reload()}>
                  <RotateCcw aria-hidden="true" />
                  Reload
                </Button>
              ) : null}
              {canWrite ? (
                <Button variant="outline" size="sm" onClick={() => save(true)} disabled={write.isPending}>
                  <Upload aria-hidden="true" />
                  Overwrite with mine
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
    </div>
  );
}
