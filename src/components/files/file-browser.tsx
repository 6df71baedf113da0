"use client";
// The agent's files: tree on the left (lazily listed), the open file on the right, the config
// reload notice and capabilities. Used by the agent page's Files tab and the full-page editor.
import { skipToken, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { FileCode2, PowerOff } from "lucide-react";
import { useCallback, useState } from "react";
import { EmptyState } from "@/components/common/empty-state";
import { useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";
import { AgentCapabilities, ConfigReloadNotice } from "./config-status";
import { FileEditor } from "./file-editor";
import { FileTree } from "./file-tree";

const DEFAULT_ROOTS = ["/workspace", "/home/agent/.claude"];

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
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<string | null>(initialPath);
  const [dirty, setDirty] = useState(false);
  const canWrite = roleAtLeast(role, "operator");
  const caps = useQuery(trpc.agentConfig.capabilities.queryOptions({ projectId, agentId }));
  const writable = caps.data?.capabilities?.writablePaths;
  const roots = writable?.length ? writable : DEFAULT_ROOTS;

  // Sizes and entries in the tree follow changes (written through Armory or seen by the watcher).
  useSubscription(
    trpc.files.onChange.subscriptionOptions(running ? { projectId, agentId } : skipToken, {
      onData: () => void queryClient.invalidateQueries({ queryKey: trpc.files.list.queryKey({ projectId, agentId }) }),
    }),
  );

  const select = useCallback(
    (path: string) => {
      if (path === selected) return;
      // The unsaved-change guard for switching files.
      if (dirty && !window.confirm("You have unsaved changes. Discard them and open another file?")) return;
      setDirty(false);
      setSelected(path);
      const url = new URL(window.location.href);
      url.searchParams.set("path", path);
      window.history.replaceState(null, "", url);
    },
    [dirty, selected],
  );

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

  return (
    <div className={cn("flex flex-col gap-3", className)}>
      <ConfigReloadNotice projectId={projectId} agentId={agentId} />
      <div className="grid min-h-[32rem] flex-1 grid-cols-1 overflow-hidden rounded-lg border md:grid-cols-[18rem_1fr]">
        <aside className="flex min-h-0 flex-col gap-4 overflow-auto border-b p-2 md:border-r md:border-b-0">
          <FileTree projectId={projectId} agentId={agentId} roots={roots} selected={selected} onSelect={select} />
          <div className="mt-auto border-t p-2">
            <AgentCapabilities projectId={projectId} agentId={agentId} />
          </div>
        </aside>
        <section className="flex min-h-[32rem] min-w-0 flex-col" aria-label="Editor">
          {selected ? (
            <FileEditor key={selected} projectId={projectId} agentId={agentId} path={selected} canWrite={canWrite} onDirtyChange={setDirty} />
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
    </div>
  );
}
