"use client";
// The file tree: the agent's roots at the top, each directory listed (files.list) only when it
// is opened. Symlinks show where they point; directories come first.
import { useQuery } from "@tanstack/react-query";
import { ChevronDown, ChevronRight, File, FileText, Folder, FolderOpen, Link2, RotateCcw } from "lucide-react";
import { useState } from "react";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import { formatMode, formatSize, type FileEntry } from "./file-format";

interface TreeProps {
  projectId: string;
  agentId: string;
  roots: string[];
  selected: string | null;
  onSelect(path: string): void;
}

export function FileTree({ projectId, agentId, roots, selected, onSelect }: TreeProps) {
  return (
    <nav aria-label="Files" className="flex flex-col gap-1 text-sm">
      {roots.map((root) => (
        <DirectoryNode key={root} projectId={projectId} agentId={agentId} path={root} label={root} depth={0} initiallyOpen={root === roots[0]} selected={selected} onSelect={onSelect} />
      ))}
    </nav>
  );
}

function DirectoryNode(props: { projectId: string; agentId: string; path: string; label: string; depth: number; initiallyOpen?: boolean; selected: string | null; onSelect(path: string): void }) {
  const { path, label, depth } = props;
  const [open, setOpen] = useState(!!props.initiallyOpen);
  const Icon = open ? FolderOpen : Folder;
  return (
    <div role="treeitem" aria-expanded={open} aria-selected={false}>
      <button
        type="button"
        className="hover:bg-muted flex w-full items-center gap-1 rounded px-1 py-0.5 text-left"
        style={{ paddingLeft: depth * 12 + 4 }}
        onClick={() => setOpen((o) => !o)}
        title={path}
      >
        {open ? <ChevronDown className="size-3.5 shrink-0" aria-hidden="true" /> : <ChevronRight className="size-3.5 shrink-0" aria-hidden="true" />}
        <Icon className="text-muted-foreground size-4 shrink-0" aria-hidden="true" />
        <span className={cn("truncate", depth === 0 && "font-mono text-xs font-medium")}>{label}</span>
      </button>
      {open ? <DirectoryChildren {...props} /> : null}
    </div>
  );
}

function DirectoryChildren({ projectId, agentId, path, depth, selected, onSelect }: { projectId: string; agentId: string; path: string; depth: number; selected: string | null; onSelect(path: string): void }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.files.list.queryOptions({ projectId, agentId, path }));
  const pad = { paddingLeft: (depth + 1) * 12 + 4 };
  if (list.isPending) {
    return (
      <div className="flex flex-col gap-1 py-1" style={pad} aria-label="Loading">
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
    <div role="group">
      {shown.map((e) =>
        e.type === "directory" || (e.type === "symlink" && e.targetType === "directory") ? (
          <DirectoryNode key={e.path} projectId={projectId} agentId={agentId} path={e.path} label={e.name + (e.type === "symlink" ? ` → ${e.symlinkTarget}` : "")} depth={depth + 1} selected={selected} onSelect={onSelect} />
        ) : (
          <FileNode key={e.path} entry={e} depth={depth + 1} selected={selected === e.path} onSelect={onSelect} />
        ),
      )}
      {entries.length > shown.length || list.data.truncated ? (
        <p className="text-muted-foreground py-0.5 text-xs" style={pad}>
          {entries.length > shown.length ? `${(entries.length - shown.length).toLocaleString()} more entries not shown` : "listing truncated"}
        </p>
      ) : null}
    </div>
  );
}

function FileNode({ entry, depth, selected, onSelect }: { entry: FileEntry; depth: number; selected: boolean; onSelect(path: string): void }) {
  const Icon = entry.type === "symlink" ? Link2 : /\.(md|txt|json|ya?ml)$/i.test(entry.name) ? FileText : File;
  const openable = entry.type === "file" || (entry.type === "symlink" && entry.targetType === "file");
  return (
    <button
      type="button"
      role="treeitem"
      aria-selected={selected}
      disabled={!openable}
      className={cn(
        "hover:bg-muted flex w-full items-center gap-1 rounded px-1 py-0.5 text-left disabled:cursor-default disabled:opacity-60",
        selected && "bg-muted font-medium",
      )}
      style={{ paddingLeft: depth * 12 + 18 }}
      onClick={() => onSelect(entry.path)}
      title={`${entry.path}\n${formatSize(entry.size)} · ${formatMode(entry.mode)} · ${entry.modifiedAt.toLocaleString()}${entry.symlinkTarget ? `\n→ ${entry.symlinkTarget}` : ""}`}
    >
      <Icon className="text-muted-foreground size-4 shrink-0" aria-hidden="true" />
      <span className="truncate">{entry.name}</span>
      {entry.type === "symlink" ? <span className="text-muted-foreground truncate text-xs">→ {entry.symlinkTarget}</span> : null}
      <span className="text-muted-foreground ml-auto shrink-0 pl-2 text-xs tabular-nums">{entry.type === "file" ? formatSize(entry.size) : ""}</span>
    </button>
  );
}
