"use client";
// Config hot-reload in the UI: a live notice when the agent's instruction files change (from
// agentConfig.onReload, whoever made the change), and the capabilities the agent reported.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { RefreshCw, ShieldCheck } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { useNow } from "@/components/agents/use-now";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Skeleton } from "@/components/ui/skeleton";
import { useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import { baseName } from "./file-format";

interface Reload {
  files: string[];
  filesTruncated: boolean;
  changes: number;
  receivedAt: Date;
}

/** Shows the latest config reload of this agent while mounted (and toasts each one). */
export function ConfigReloadNotice({ projectId, agentId }: { projectId: string; agentId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [last, setLast] = useState<Reload | null>(null);
  const now = useNow();
  useSubscription(
    trpc.agentConfig.onReload.subscriptionOptions(
      { projectId, agentId },
      {
        onData: (e) => {
          setLast(e);
          toast.info("Instructions reloaded", { description: e.files.map(baseName).join(", ") });
          void queryClient.invalidateQueries({ queryKey: trpc.agentConfig.capabilities.queryKey({ projectId, agentId }) });
        },
      },
    ),
  );
  if (!last) return null;
  const names = last.files.map((f) => f.replace(/^\/workspace\//, "").replace(/^\/home\/agent\//, "~/"));
  return (
    <Alert role="status" className="border-sky-500/30">
      <RefreshCw aria-hidden="true" />
      <AlertTitle>Instructions reloaded {timeAgo(last.receivedAt, new Date(now))}</AlertTitle>
      <AlertDescription>
        <p>
          {names.join(", ")}
          {last.filesTruncated ? " and more" : ""} changed; the agent&apos;s next turn uses the new instructions.
        </p>
      </AlertDescription>
    </Alert>
  );
}

/** What the agent's daemon (armoryd) reported when it connected: versions, config dir, writable paths, actions. */
export function AgentCapabilities({ projectId, agentId }: { projectId: string; agentId: string }) {
  const trpc = useTRPC();
  // Until the agent has reported (it does within a second of starting), look again now and then.
  const caps = useQuery(
    trpc.agentConfig.capabilities.queryOptions({ projectId, agentId }, { refetchInterval: (q) => (q.state.data?.capabilities ? false : 2000) }),
  );
  if (caps.isPending) return <Skeleton className="h-24 w-full" />;
  if (caps.isError) return <p className="text-destructive text-xs">Could not load the agent&apos;s capabilities.</p>;
  const c = caps.data.capabilities;
  if (!c) {
    return <p className="text-muted-foreground text-xs">The agent has not reported its capabilities yet (it does when it starts).</p>;
  }
  return (
    <section aria-labelledby="capabilities-title" className="flex flex-col gap-2 text-xs">
      <h4 id="capabilities-title" className="flex items-center gap-1.5 text-sm font-medium">
        <ShieldCheck className="size-4" aria-hidden="true" />
        Capabilities
      </h4>
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
        <dt className="text-muted-foreground">Agent</dt>
        <dd className="font-mono">{c.agentVersion ?? "unknown"}</dd>
        <dt className="text-muted-foreground">Claude Code</dt>
        <dd className="font-mono">{c.claudeVersion ?? "unknown"}</dd>
        <dt className="text-muted-foreground">Config dir</dt>
        <dd className="font-mono break-all">{c.configDir ?? "unknown"}</dd>
        <dt className="text-muted-foreground">Writable</dt>
        <dd className="font-mono break-all">{c.writablePaths.join(", ")}</dd>
        <dt className="text-muted-foreground">Watcher</dt>
        <dd>
          {caps.data.watching ? (
            <Badge variant="outline" className="border-emerald-500/30 text-emerald-700 dark:text-emerald-300">
              watching {caps.data.watching.dirs.length} directories
            </Badge>
          ) : (
            (c.configWatcher ?? "none")
          )}
        </dd>
        {caps.data.configReloadedAt ? (
          <>
            <dt className="text-muted-foreground">Last reload</dt>
            <dd>{caps.data.configReloadedAt.toLocaleString()}</dd>
          </>
        ) : null}
      </dl>
      <div className="flex flex-wrap gap-1">
        {c.supportedActions.map((a) => (
          <Badge key={a} variant="secondary" className="font-mono text-[11px]">
            {a}
          </Badge>
        ))}
      </div>
    </section>
  );
}
