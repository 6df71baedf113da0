"use client";
import { useQuery } from "@tanstack/react-query";
import { Crown } from "lucide-react";
import { useNow } from "@/components/agents/use-now";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { fullTime } from "@/components/trust/controls";
import { Badge } from "@/components/ui/badge";
import { Skeleton } from "@/components/ui/skeleton";
import { useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";

/** The Armory instances sharing this database: which one leads (background work) and which holds how many agent daemons. */
export function InstancesAdmin() {
  const trpc = useTRPC();
  // Heartbeats are seconds apart: a refresh every few seconds is live enough for this table.
  const cluster = useQuery({ ...trpc.instance.cluster.queryOptions(), refetchInterval: 3_000 });
  const now = useNow();

  if (cluster.isPending) {
    return (
      <div className="flex flex-col gap-2" aria-label="Loading instances">
        <Skeleton className="h-12 w-full" />
      </div>
    );
  }
  if (cluster.isError) return <QueryErrorAlert title="Could not load the instances" error={cluster.error} onRetry={() => void cluster.refetch()} />;
  const { mode, instances } = cluster.data;

  return (
    <div className="flex flex-col gap-3">
      <p className="text-muted-foreground text-sm">
        {mode === "single"
          ? "One Armory process on its embedded database. Run several instances on one PostgreSQL to share the load (see the README)."
          : `${instances.length} instance${instances.length === 1 ? "" : "s"} on one PostgreSQL. Any instance serves any request; the leader runs the background work (reconcile, self-heal, retention, schedules).`}
      </p>
      <div tabIndex={0} role="region" aria-label="Instances table" className="focus-visible:ring-ring/50 outline-none relative overflow-x-auto rounded-md border focus-visible:ring-[3px]">
        <table className="w-full text-sm" aria-label="Instances">
          <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
            <tr>
              <th className="px-3 py-2 font-medium">Instance</th>
              <th className="px-3 py-2 font-medium">Host</th>
              <th className="px-3 py-2 font-medium">Started</th>
              <th className="px-3 py-2 font-medium">Last heartbeat</th>
              <th className="px-3 py-2 text-right font-medium">Daemons connected</th>
            </tr>
          </thead>
          <tbody className="divide-y">
            {instances.map((i) => (
              <tr key={i.id} data-testid="instance-row" data-instance={i.id}>
                <td className="px-3 py-2 align-top">
                  <div className="flex flex-wrap items-center gap-1.5">
                    <span className="font-mono text-xs">{i.id}</span>
                    {i.leader ? (
                      <Badge variant="secondary">
                        <Crown aria-hidden="true" />
                        Leader
                      </Badge>
                    ) : null}
                    {i.self ? <Badge variant="outline">This page</Badge> : null}
                  </div>
                </td>
                <td className="px-3 py-2 align-top text-xs">
                  {i.host} <span className="text-muted-foreground">(pid {i.pid})</span>
                </td>
                <td className="px-3 py-2 align-top text-xs whitespace-nowrap">
                  <span title={fullTime(i.startedAt)}>{timeAgo(i.startedAt, new Date(now))}</span>
                </td>
                <td className="px-3 py-2 align-top text-xs whitespace-nowrap">
                  <span title={fullTime(i.heartbeatAt)}>{timeAgo(i.heartbeatAt, new Date(now))}</span>
                </td>
                <td className="px-3 py-2 text-right align-top tabular-nums">{i.daemons}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
