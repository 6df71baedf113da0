"use client";
// The agent's files: tree on the left (lazily listed) with New file / New folder / Upload, the
// open file on the right, the config reload notice and capabilities. Used by the agent page's
// Files tab and the full-page editor. Unsaved edits live in the draft store (./draft-store), so
// they survive leaving this view; the open file is in the URL (?path=) and reopened on return.
import { skipToken, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { FileCode2, FilePlus, FolderPlus, PowerOff, Upload } from "lucide-react";
import { useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { toast } from "sonner";
import { EmptyState } from "@/components/common/empty-state";
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
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { errorMessage, useTRPC, useTRPCClient } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";
import { AgentCapabilities, ConfigReloadNotice } from "./config-status";
import { clearDraft, lastOpenPath, moveDrafts, rememberOpen, useDraftPaths } from "./draft-store";
import { FileEditor } from "./file-editor";
import { baseName, formatSize } from "./file-format";
import { FileTree, type TreeAction } from "./file-tree";

const DEFAULT_ROOTS = ["/workspace", "/home/agent/.claude"];
/** Uploads larger than this go in chunks of this size (files.write, then files.append), with progress. */
const CHUNK_BYTES = 1024 * 1024;
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

interface UploadState {
  id: string;
  name: string;
  dir: string;
  size: number;
  sent: number;
  error?: string;
}

type NameDialog = { kind: "new-file" | "new-folder"; dir: string } | { kind: "rename"; path: string };

const parentOf = (p: string) => p.slice(0, p.lastIndexOf("/")) || "/";
/** Most directories one files.onChange watches (the server's limit). */
const MAX_WATCHED = 32;
const join = (dir: string, name: string) => `${dir === "/" ? "" : dir}/${name}`;

function base64Of(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function FileBrowser({
  projectId,
  agentId,
  role,
  running,
  className,
  initialPath = null,
}: {
  projectId: string;
  agentId: string;
  role: ProjectRole;
  running: boolean;
  className?: string;
  initialPath?: string | null;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const search = useSearchParams();
  const fromUrl = search.get("path");
  const [selected, setSelected] = useState<string | null>(() => initialPath ?? (fromUrl?.startsWith("/") ? fromUrl : null) ?? lastOpenPath(agentId));
  const [currentDir, setCurrentDir] = useState<string>(() => (selected ? parentOf(selected) : DEFAULT_ROOTS[0]!));
  const [dialog, setDialog] = useState<NameDialog | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [nameError, setNameError] = useState<string | null>(null);
  const [toDelete, setToDelete] = useState<{ path: string; type: "file" | "directory" | "other" } | null>(null);
  const [uploads, setUploads] = useState<UploadState[]>([]);
  const [dropping, setDropping] = useState(false);
  const uploadInput = useRef<HTMLInputElement>(null);
  const uploadDir = useRef<string>(DEFAULT_ROOTS[0]!);
  const drafts = useDraftPaths(agentId);
  const canWrite = roleAtLeast(role, "operator");
  const caps = useQuery(trpc.agentConfig.capabilities.queryOptions({ projectId, agentId }));
  const writable = caps.data?.capabilities?.writablePaths;
  const roots = writable?.length ? writable : DEFAULT_ROOTS;
  const rootList = useQuery(trpc.files.list.queryOptions(running ? { projectId, agentId, path: roots[0]! } : skipToken));
  const maxBytes = rootList.data?.maxBytes ?? DEFAULT_MAX_BYTES;

  // Sizes and entries in the tree follow changes: written through Armory, seen by the config
  // watcher, or written by anyone in a directory the tree shows open (watched by the agent's daemon
  // while it is open; at most MAX_WATCHED of them, the first in order).
  const [shownDirs, setShownDirs] = useState<string[]>([]);
  const onShownChange = useCallback((dir: string, shown: boolean) => {
    setShownDirs((prev) => {
      if (prev.includes(dir) === shown) return prev;
      return shown ? [...prev, dir].sort() : prev.filter((d) => d !== dir);
    });
  }, []);
  const watched = shownDirs.slice(0, MAX_WATCHED);
  // One refresh for a burst of events (a watch reports up to 200 names at once).
  const refreshLists = useMemo(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    return () => {
      timer ??= setTimeout(() => {
        timer = null;
        void queryClient.invalidateQueries({ queryKey: trpc.files.list.queryKey({ projectId, agentId }) });
      }, 50);
    };
  }, [queryClient, trpc, projectId, agentId]);
  useSubscription(
    trpc.files.onChange.subscriptionOptions(running ? { projectId, agentId, ...(watched.length ? { paths: watched } : {}) } : skipToken, { onData: refreshLists }),
  );

  const setUrlPath = (path: string | null) => {
    const url = new URL(window.location.href);
    if (path) url.searchParams.set("path", path);
    else url.searchParams.delete("path");
    window.history.replaceState(window.history.state, "", url);
  };

  // The open file is remembered for this agent (reopened when the view comes back) and put in
  // the URL, so the page can be reloaded or shared.
  useEffect(() => {
    rememberOpen(agentId, selected);
    if (selected && new URL(window.location.href).searchParams.get("path") !== selected) setUrlPath(selected);
  }, [agentId, selected]);

  const select = useCallback((path: string) => {
    // Drafts are kept per file: switching files never drops one.
    setSelected(path);
    setCurrentDir(parentOf(path));
  }, []);

  const closeFile = () => {
    setSelected(null);
    setUrlPath(null);
  };

  const openDialog = (d: NameDialog) => {
    setDialog(d);
    setNameError(null);
    setName(d.kind === "rename" ? d.path : "");
  };

  const submitName = async () => {
    if (!dialog) return;
    const value = name.trim();
    if (!value) return setNameError("Give a name.");
    if (dialog.kind !== "rename" && value.includes("/")) return setNameError("A name cannot contain /; create the folders first.");
    setBusy(true);
    setNameError(null);
    try {
      if (dialog.kind === "new-file") {
        const path = join(dialog.dir, value);
        await client.files.write.mutate({ projectId, agentId, path, content: "", ifAbsent: true });
        toast.success("File created", { description: path });
        select(path);
      } else if (dialog.kind === "new-folder") {
        const path = join(dialog.dir, value);
        await client.files.mkdir.mutate({ projectId, agentId, path });
        toast.success("Folder created", { description: path });
        setCurrentDir(path);
      } else if (dialog.kind === "rename") {
        const to = value.startsWith("/") ? value : join(parentOf(dialog.path), value);
        await client.files.rename.mutate({ projectId, agentId, path: dialog.path, to });
        moveDrafts(agentId, dialog.path, to);
        if (selected && (selected === dialog.path || selected.startsWith(`${dialog.path}/`))) select(to + selected.slice(dialog.path.length));
        toast.success("Renamed", { description: `${dialog.path} → ${to}` });
      }
      refreshLists();
      setDialog(null);
    } catch (err) {
      setNameError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const download = async (path: string) => {
    try {
      const file = await client.files.read.query({ projectId, agentId, path });
      const bytes = file.encoding === "base64" ? Uint8Array.from(atob(file.content), (c) => c.charCodeAt(0)) : new TextEncoder().encode(file.content);
      const url = URL.createObjectURL(new Blob([bytes]));
      const a = document.createElement("a");
      a.href = url;
      a.download = baseName(path);
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      toast.error(`Could not download ${path}`, { description: errorMessage(err) });
    }
  };

  const remove = async () => {
    if (!toDelete) return;
    const { path, type } = toDelete;
    setToDelete(null);
    try {
      await client.files.delete.mutate({ projectId, agentId, path, recursive: type === "directory" });
      clearDraft(agentId, path);
      if (selected && (selected === path || selected.startsWith(`${path}/`))) closeFile();
      toast.success("Deleted", { description: path });
      refreshLists();
    } catch (err) {
      toast.error(`Could not delete ${path}`, { description: errorMessage(err) });
    }
  };

  const uploadOne = async (dir: string, file: File, overwrite: boolean) => {
    const id = crypto.randomUUID();
    const path = join(dir, file.name);
    const update = (patch: Partial<UploadState>) => setUploads((u) => u.map((x) => (x.id === id ? { ...x, ...patch } : x)));
    setUploads((u) => [...u, { id, name: file.name, dir, size: file.size, sent: 0 }]);
    if (file.size > maxBytes) {
      update({ error: `${file.name} is ${formatSize(file.size)}; files can be at most ${formatSize(maxBytes)} (ARMORY_FILES_MAX_BYTES).` });
      return;
    }
    // One request for small files; larger ones go to a temporary name in chunks, then take their name.
    const chunked = file.size > CHUNK_BYTES;
    const target = chunked ? join(dir, `.${file.name}.armory-upload-${id.slice(0, 8)}`) : path;
    try {
      for (let off = 0; off === 0 || off < file.size; off += CHUNK_BYTES) {
        const content = base64Of(new Uint8Array(await file.slice(off, off + CHUNK_BYTES).arrayBuffer()));
        if (off === 0) {
          await client.files.write.mutate({ projectId, agentId, path: target, content, encoding: "base64", ifAbsent: chunked || !overwrite });
        } else {
          await client.files.append.mutate({ projectId, agentId, path: target, content, offset: off });
        }
        update({ sent: Math.min(off + CHUNK_BYTES, file.size) });
        if (file.size === 0) break;
      }
      if (chunked) await client.files.rename.mutate({ projectId, agentId, path: target, to: path, overwrite });
      setUploads((u) => u.filter((x) => x.id !== id));
      toast.success("Uploaded", { description: `${path} (${formatSize(file.size)})` });
    } catch (err) {
      if (chunked) await client.files.delete.mutate({ projectId, agentId, path: target }).catch(() => {});
      const exists = /already exists/.test(errorMessage(err));
      setUploads((u) => u.filter((x) => x.id !== id));
      if (exists) {
        toast.error(`${path} already exists`, {
          description: "Upload it again to replace it, or rename the existing file first.",
          action: { label: "Replace", onClick: () => void uploadOne(dir, file, true) },
        });
      } else {
        toast.error(`Could not upload ${file.name}`, { description: errorMessage(err) });
      }
    } finally {
      refreshLists();
    }
  };

  const uploadFiles = (dir: string, files: File[]) => {
    if (!canWrite) return;
    setCurrentDir(dir);
    for (const f of files) void uploadOne(dir, f, false);
  };

  const onAction = (action: TreeAction, path: string, type: "file" | "directory" | "other") => {
    if (action === "new-file" || action === "new-folder") openDialog({ kind: action, dir: path });
    else if (action === "upload") {
      uploadDir.current = path;
      uploadInput.current?.click();
    } else if (action === "rename") openDialog({ kind: "rename", path });
    else if (action === "download") void download(path);
    else if (action === "delete") setToDelete({ path, type });
  };

  if (!running) {
    return (
      <section aria-labelledby="files-not-running" className="flex flex-col items-center gap-3 rounded-xl border border-dashed px-6 py-16 text-center">
        <PowerOff className="text-muted-foreground size-6" aria-hidden="true" />
        <h3 id="files-not-running" className="font-medium">
          The agent is not running
        </h3>
        <p className="text-muted-foreground max-w-md text-sm">Start the agent to browse and edit its files: they are read from its running container.</p>
      </section>
    );
  }

  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes("Files");

  return (
    <div className={cn("flex flex-col gap-3", className)}>
      <ConfigReloadNotice projectId={projectId} agentId={agentId} />
      <div className="grid min-h-[32rem] flex-1 grid-cols-1 overflow-hidden rounded-lg border md:grid-cols-[18rem_1fr]">
        <aside
          aria-label="File tree"
          className={cn("flex min-h-0 flex-col gap-2 overflow-auto border-b p-2 md:border-r md:border-b-0", dropping && "bg-primary/5")}
          onDragOver={(e) => {
            if (!hasFiles(e) || !canWrite) return;
            e.preventDefault();
            setDropping(true);
          }}
          onDragLeave={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropping(false);
          }}
          onDrop={(e) => {
            setDropping(false);
            if (!hasFiles(e) || !canWrite) return;
            e.preventDefault();
            uploadFiles(currentDir, Array.from(e.dataTransfer.files));
          }}
        >
          {canWrite ? (
            <div className="flex flex-col gap-1 border-b pb-2">
              <div className="flex flex-wrap gap-1">
                <Button variant="outline" size="sm" onClick={() => openDialog({ kind: "new-file", dir: currentDir })}>
                  <FilePlus aria-hidden="true" />
                  New file
                </Button>
                <Button variant="outline" size="sm" onClick={() => openDialog({ kind: "new-folder", dir: currentDir })}>
                  <FolderPlus aria-hidden="true" />
                  New folder
                </Button>
                <Button
                  variant="outline"
                  size="sm"
                  onClick={() => {
                    uploadDir.current = currentDir;
                    uploadInput.current?.click();
                  }}
                >
                  <Upload aria-hidden="true" />
                  Upload
                </Button>
              </div>
              <p className="text-muted-foreground truncate text-xs" title={currentDir}>
                In <span className="font-mono">{currentDir}</span> · drop files on a folder to upload (up to {formatSize(maxBytes)})
              </p>
              <input
                ref={uploadInput}
                type="file"
                multiple
                className="sr-only"
                tabIndex={-1}
                aria-label="Files to upload"
                data-testid="upload-input"
                onChange={(e) => {
                  uploadFiles(uploadDir.current, Array.from(e.target.files ?? []));
                  e.target.value = "";
                }}
              />
            </div>
          ) : null}
          {uploads.length ? (
            <ul aria-label="Uploads" className="flex flex-col gap-1 text-xs">
              {uploads.map((u) => (
                <li key={u.id} className="flex flex-col gap-0.5">
                  <span className={cn(u.error ? "text-destructive break-words" : "truncate")} role={u.error ? "alert" : undefined}>
                    {u.error ?? `Uploading ${u.name}: ${formatSize(u.sent)} of ${formatSize(u.size)}`}
                  </span>
                  {u.error ? (
                    <button type="button" className="self-start underline" onClick={() => setUploads((x) => x.filter((y) => y.id !== u.id))}>
                      Dismiss
                    </button>
                  ) : (
                    <progress className="h-1.5 w-full accent-current" max={u.size || 1} value={u.sent} aria-label={`Uploading ${u.name}`} />
                  )}
                </li>
              ))}
            </ul>
          ) : null}
          <FileTree
            projectId={projectId}
            agentId={agentId}
            roots={roots}
            selected={selected}
            currentDir={currentDir}
            drafts={drafts}
            canWrite={canWrite}
            onSelect={select}
            onSelectDir={setCurrentDir}
            onAction={onAction}
            onDropFiles={uploadFiles}
            onShownChange={onShownChange}
          />
          <div className="mt-auto border-t p-2">
            <AgentCapabilities projectId={projectId} agentId={agentId} />
          </div>
        </aside>
        <section className="flex min-h-[32rem] min-w-0 flex-col" aria-label="Editor">
          {selected ? (
            <FileEditor key={selected} projectId={projectId} agentId={agentId} path={selected} canWrite={canWrite} onClose={closeFile} />
          ) : (
            <div className="m-auto p-6">
              <EmptyState
                id="files-empty"
                headingLevel={3}
                icon={FileCode2}
                title="Open a file"
                description={`Pick a file on the left. ${canWrite ? "Edits are saved into the container; CLAUDE.md and the other instruction files are picked up by the agent at once." : "You can read files; editing needs the operator role."}`}
              />
            </div>
          )}
        </section>
      </div>

      <Dialog open={dialog !== null} onOpenChange={(open) => !open && !busy && setDialog(null)}>
        <DialogContent>
          <form
            className="flex flex-col gap-4"
            onSubmit={(e) => {
              e.preventDefault();
              void submitName();
            }}
          >
            <DialogHeader>
              <DialogTitle>{dialog?.kind === "new-file" ? "New file" : dialog?.kind === "new-folder" ? "New folder" : "Rename or move"}</DialogTitle>
              <DialogDescription>
                {dialog?.kind === "rename"
                  ? "Change the name, or the whole path to move it to another folder (the folder must exist)."
                  : `In ${dialog?.dir ?? ""}. Nothing is replaced: a name that exists already is refused.`}
              </DialogDescription>
            </DialogHeader>
            <div className="flex flex-col gap-2">
              <Label htmlFor="files-name">{dialog?.kind === "rename" ? "New path" : "Name"}</Label>
              <Input
                id="files-name"
                value={name}
                onChange={(e) => setName(e.target.value)}
                autoFocus
                autoComplete="off"
                spellCheck={false}
                aria-invalid={nameError ? true : undefined}
                aria-describedby={nameError ? "files-name-error" : undefined}
                className="font-mono"
              />
              {nameError ? (
                <p id="files-name-error" role="alert" className="text-destructive text-sm">
                  {nameError}
                </p>
              ) : null}
            </div>
            <DialogFooter>
              <Button type="button" variant="outline" onClick={() => setDialog(null)} disabled={busy}>
                Cancel
              </Button>
              <Button type="submit" disabled={busy}>
                {dialog?.kind === "rename" ? (busy ? "Renaming…" : "Rename") : busy ? "Creating…" : "Create"}
              </Button>
            </DialogFooter>
          </form>
        </DialogContent>
      </Dialog>

      <AlertDialog open={toDelete !== null} onOpenChange={(open) => !open && setToDelete(null)}>
        <AlertDialogContent>
          <AlertDialogHeader>
            <AlertDialogTitle>Delete {toDelete ? baseName(toDelete.path) : ""}?</AlertDialogTitle>
            <AlertDialogDescription>
              {toDelete?.type === "directory" ? `${toDelete.path} and everything in it are removed from the container.` : `${toDelete?.path ?? ""} is removed from the container.`} This cannot be undone.
            </AlertDialogDescription>
          </AlertDialogHeader>
          <AlertDialogFooter>
            <AlertDialogCancel>Cancel</AlertDialogCancel>
            <AlertDialogAction className="bg-destructive text-white hover:bg-destructive/90" onClick={() => void remove()}>
              Delete
            </AlertDialogAction>
          </AlertDialogFooter>
        </AlertDialogContent>
      </AlertDialog>
    </div>
  );
}
