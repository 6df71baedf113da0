"use client";
// The file tree: the agent's roots at the top, each directory listed (files.list) only when it
// is opened (and, while open, watched: the browser passes the open ones to files.onChange). Plain nested lists of buttons (a directory's button says whether it is expanded),
// each row with a menu of actions; files with unsaved drafts are marked. Files dropped on a
// directory row are uploaded into it. Symlinks show where they point; directories come first.
import { useQuery } from "@tanstack/react-query";
import { ChevronDown, ChevronRight, Download, File, FilePlus, FileText, Folder, FolderOpen, FolderPlus, Link2, MoreHorizontal, Pencil, RotateCcw, Trash2, Upload } from "lucide-react";
import { useEffect, useState, type DragEvent, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuSeparator, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import { formatMode, formatSize, type FileEntry } from "./file-format";

export type TreeAction = "new-file" | "new-folder" | "upload" | "rename" | "download" | "delete";

interface Shared {
  projectId: string;
  agentId: string;
  selected: string | null;
  /** The directory new files and uploads go to. */
  currentDir: string;
  drafts: ReadonlySet<string>;
  canWrite: boolean;
  onSelect(path: string): void;
  onSelectDir(path: string): void;
  onAction(action: TreeAction, path: string, type: "file" | "directory" | "other"): void;
  onDropFiles(dir: string, files: File[]): void;
  /** A directory's listing is shown (open) or no longer (closed, or its row went away): the browser watches the shown ones. */
  onShownChange?(dir: string, shown: boolean): void;
}

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes("Files");

export function FileTree({ roots, ...shared }: Shared & { roots: string[] }) {
  return (
    <nav aria-label="Files" className="text-sm">
      <ul className="flex flex-col gap-1">
        {roots.map((root) => (
          <DirectoryNode key={root} {...shared} path={root} label={root} depth={0} root initiallyOpen={root === roots[0]} />
        ))}
      </ul>
    </nav>
  );
}

function RowMenu({ name, children }: { name: string; children: ReactNode }) {
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="ghost" size="icon" className="size-6 shrink-0 opacity-70 hover:opacity-100" aria-label={`More actions for ${name}`}>
          <MoreHorizontal aria-hidden="true" />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end">{children}</DropdownMenuContent>
    </DropdownMenu>
  );
}

function DirectoryNode(props: Shared & { path: string; label: string; depth: number; root?: boolean; initiallyOpen?: boolean }) {
  const { path, label, depth, canWrite, onAction } = props;
  const [open, setOpen] = useState(!!props.initiallyOpen);
  const [dropping, setDropping] = useState(false);
  const { onShownChange } = props;
  useEffect(() => {
    if (!open || !onShownChange) return;
    onShownChange(path, true);
    return () => onShownChange(path, false);
  }, [open, path, onShownChange]);
  const Icon = open ? FolderOpen : Folder;
  const current = props.currentDir === path;
  const onDrop = (e: DragEvent) => {
    if (!hasFiles(e) || !canWrite) return;
    e.preventDefault();
    e.stopPropagation();
    setDropping(false);
    setOpen(true);
    props.onDropFiles(path, Array.from(e.dataTransfer.files));
  };
  return (
    <li
      onDragOver={(e) => {
        if (!hasFiles(e) || !canWrite) return;
        e.preventDefault();
        e.stopPropagation();
        e.dataTransfer.dropEffect = "copy";
        setDropping(true);
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropping(false);
      }}
      onDrop={onDrop}
      className={cn("rounded", dropping && "bg-primary/10 outline-primary outline-2 outline-dashed")}
      data-testid={`dir:${path}`}
    >
      <div className={cn("group flex items-center rounded", current && "bg-muted/60")}>
        <button
          type="button"
          className="hover:bg-muted flex min-w-0 flex-1 items-center gap-1 rounded px-1 py-0.5 text-left"
          style={{ paddingLeft: depth * 12 + 4 }}
          onClick={() => {
            setOpen((o) => !o || !current);
            props.onSelectDir(path);
          }}
          aria-expanded={open}
          title={path}
        >
          {open ? <ChevronDown className="size-3.5 shrink-0" aria-hidden="true" /> : <ChevronRight className="size-3.5 shrink-0" aria-hidden="true" />}
          <Icon className="text-muted-foreground size-4 shrink-0" aria-hidden="true" />
          <span className={cn("truncate", depth === 0 && "font-mono text-xs font-medium")}>{label}</span>
        </button>
        {canWrite ? (
          <RowMenu name={label}>
            <DropdownMenuItem onSelect={() => onAction("new-file", path, "directory")}>
              <FilePlus aria-hidden="true" />
              New file here
            </DropdownMenuItem>
            <DropdownMenuItem onSelect={() => onAction("new-folder", path, "directory")}>
              <FolderPlus aria-hidden="true" />
              New folder here
            </DropdownMenuItem>
            <DropdownMenuItem onSelect={() => onAction("upload", path, "directory")}>
              <Upload aria-hidden="true" />
              Upload here
            </DropdownMenuItem>
            {props.root ? null : (
              <>
                <DropdownMenuSeparator />
                <DropdownMenuItem onSelect={() => onAction("rename", path, "directory")}>
                  <Pencil aria-hidden="true" />
                  Rename or move
                </DropdownMenuItem>
                <DropdownMenuItem variant="destructive" onSelect={() => onAction("delete", path, "directory")}>
                  <Trash2 aria-hidden="true" />
                  Delete
                </DropdownMenuItem>
              </>
            )}
          </RowMenu>
        ) : null}
      </div>
      {open ? <DirectoryChildren {...props} /> : null}
    </li>
  );
}

function DirectoryChildren(props: Shared & { path: string; depth: number }) {
  const { projectId, agentId, path, depth } = props;
  const trpc = useTRPC();
  const list = useQuery(trpc.files.list.queryOptions({ projectId, agentId, path }));
  const pad = { paddingLeft: (depth + 1) * 12 + 4 };
  if (list.isPending) {
    return (
      <div className="flex flex-col gap-1 py-1" style={pad} aria-label="Loading" role="status">
        <Skeleton className="h-4 w-32" />
        <Skeleton className="h-4 w-24" />
      </div>
    );
  }
  if (list.isError) {
    return (
      <div className="text-destructive flex items-start gap-1 py-1 text-xs" style={pad} role="alert">
        <span className="min-w-0 break-words">{errorMessage(list.error)}</span>
        <button type="button" className="shrink-0 underline" onClick={() => void list.refetch()} aria-label="Try again">
          <RotateCcw className="size-3" aria-hidden="true" />
        </button>
      </div>
    );
  }
  const entries = list.data.entries;
  if (!entries.length) return <p className="text-muted-foreground py-0.5 text-xs italic" style={pad}>empty</p>;
  // Very large directories: show the first entries; the rest stay one click away in a shell.
  const shown = entries.slice(0, 2000);
  return (
    <>
      <ul aria-label={`Contents of ${path}`}>
        {shown.map((e) =>
          e.type === "directory" || (e.type === "symlink" && e.targetType === "directory") ? (
            <DirectoryNode key={e.path} {...props} path={e.path} label={e.name + (e.type === "symlink" ? ` → ${e.symlinkTarget}` : "")} depth={depth + 1} root={false} initiallyOpen={false} />
          ) : (
            <FileNode key={e.path} {...props} entry={e} depth={depth + 1} />
          ),
        )}
      </ul>
      {entries.length > shown.length || list.data.truncated ? (
        <p className="text-muted-foreground py-0.5 text-xs" style={pad}>
          {entries.length > shown.length ? `${(entries.length - shown.length).toLocaleString()} more entries not shown` : "listing truncated"}
        </p>
      ) : null}
    </>
  );
}

function FileNode(props: Shared & { entry: FileEntry; depth: number }) {
  const { entry, depth, canWrite, onAction } = props;
  const Icon = entry.type === "symlink" ? Link2 : /\.(md|txt|json|ya?ml)$/i.test(entry.name) ? FileText : File;
  const openable = entry.type === "file" || (entry.type === "symlink" && entry.targetType === "file");
  const selected = props.selected === entry.path;
  const draft = props.drafts.has(entry.path);
  return (
    <li className={cn("group flex items-center rounded", selected && "bg-muted")}>
      <button
        type="button"
        aria-current={selected ? "true" : undefined}
        disabled={!openable}
        className={cn("hover:bg-muted flex min-w-0 flex-1 items-center gap-1 rounded px-1 py-0.5 text-left disabled:cursor-default disabled:opacity-60", selected && "font-medium")}
        style={{ paddingLeft: depth * 12 + 18 }}
        onClick={() => props.onSelect(entry.path)}
        title={`${entry.path}\n${formatSize(entry.size)} · ${formatMode(entry.mode)} · ${entry.modifiedAt.toLocaleString()}${entry.symlinkTarget ? `\n→ ${entry.symlinkTarget}` : ""}`}
      >
        <Icon className="text-muted-foreground size-4 shrink-0" aria-hidden="true" />
        <span className="truncate">{entry.name}</span>
        {draft ? (
          <>
            <span className="size-2 shrink-0 rounded-full bg-amber-500" aria-hidden="true" title="Draft not saved" />
            <span className="sr-only">(draft not saved)</span>
          </>
        ) : null}
        {/* On the selected (muted) row the secondary text takes the full foreground colour: contrast. */}
        {entry.type === "symlink" ? <span className={cn("truncate text-xs", selected ? "text-foreground" : "text-muted-foreground")}>→ {entry.symlinkTarget}</span> : null}
        <span className={cn("ml-auto shrink-0 pl-2 text-xs tabular-nums", selected ? "text-foreground" : "text-muted-foreground")}>{entry.type === "file" ? formatSize(entry.size) : ""}</span>
      </button>
      {openable || canWrite ? <RowMenu name={entry.name}>
        {openable ? (
          <DropdownMenuItem onSelect={() => onAction("download", entry.path, "file")}>
            <Download aria-hidden="true" />
            Download
          </DropdownMenuItem>
        ) : null}
        {canWrite ? (
          <>
            <DropdownMenuItem onSelect={() => onAction("rename", entry.path, "file")}>
              <Pencil aria-hidden="true" />
              Rename or move
            </DropdownMenuItem>
            <DropdownMenuItem variant="destructive" onSelect={() => onAction("delete", entry.path, entry.type === "file" ? "file" : "other")}>
              <Trash2 aria-hidden="true" />
              Delete
            </DropdownMenuItem>
          </>
        ) : null}
      </RowMenu> : null}
    </li>
  );
}
