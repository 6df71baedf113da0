"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CirclePause, CirclePlay, Lock } from "lucide-react";
import Link from "next/link";
import { useState } from "react";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { formatMB } from "@/components/health/health-format";
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
import type { NodeView } from "@/contracts/nodes";
import { errorMessage, useTRPC } from "@/lib/trpc/client";

const STATE_LABEL: Record<NodeView["state"], string> = { ready: "Ready", down: "Down", disconnected: "Disconnected", unknown: "Unknown" };

/** The machines agents run on: state, availability, CPU and memory, labels, agents; drain and activate. */
export function NodesAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Live: a node going down or an agent being placed shows within a few seconds.
  const nodes = useQuery({ ...trpc.node.list.queryOptions(), refetchInterval: 3_000 });
  const [confirm, setConfirm] = useState<NodeView | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.node.list.queryKey() });
  const drain = useMutation(
    trpc.node.drain.mutationOptions({
      onSuccess: async (r) => {
        await refresh();
        toast.success("Node drained", {
          description: r.stranded.length
            ? `${r.stranded.length} agent${r.stranded.length === 1 ? "" : "s"} stay${r.stranded.length === 1 ? "s" : ""} on it (local volumes) and stop${r.stranded.length === 1 ? "s" : ""} until it is active again.`
            : "No agent had to stay on it.",
        });
      },
      onError: (err) => toast.error("Could not drain the node", { description: errorMessage(err) }),
    }),
  );
  const activate = useMutation(
    trpc.node.activate.mutationOptions({
      onSuccess: () => refresh(),
      onError: (err) => toast.error("Could not make the node active", { description: errorMessage(err) }),
    }),
  );

  if (nodes.isPending) {
    return (
      <div className="flex flex-col gap-2" aria-label="Loading nodes">
        <Skeleton className="h-12 w-full" />
        <Skeleton className="h-12 w-full" />
      </div>
    );
  }
  if (nodes.isError) return <QueryErrorAlert title="Could not load the nodes" error={nodes.error} onRetry={() => void nodes.refetch()} />;
  const swarm = nodes.data.runtime === "swarm";

  return (
    <div className="flex flex-col gap-3">
      <p className="text-muted-foreground text-sm">
        {swarm
          ? `${nodes.data.nodes.length} Swarm node${nodes.data.nodes.length === 1 ? "" : "s"}. New agents go to the ready, active node with the most free memory and stay there: their volumes are local to it. Draining a node places nothing new there.`
          : "Armory runs its agents on one Docker engine (ARMORY_RUNTIME=docker). Run it on a Docker Swarm to spread agents over several hosts."}
      </p>
      <div tabIndex={0} role="region" aria-label="Nodes table" className="focus-visible:ring-ring/50 outline-none relative overflow-x-auto rounded-md border focus-visible:ring-[3px]">
        <table className="w-full text-sm" aria-label="Nodes">
          <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
            <tr>
              <th className="px-3 py-2 font-medium">Node</th>
              <th className="px-3 py-2 font-medium">State</th>
              <th className="px-3 py-2 text-right font-medium">CPUs</th>
              <th className="px-3 py-2 text-right font-medium">Memory</th>
              <th className="px-3 py-2 font-medium">Labels</th>
              <th className="px-3 py-2 font-medium">Agents</th>
              <th className="px-3 py-2 text-right font-medium">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y">
            {nodes.data.nodes.map((n) => (
              <tr key={n.id} data-testid="node-row" data-node-id={n.id}>
                <td className="px-3 py-2 align-top">
                  <div className="flex flex-wrap items-center gap-1.5">
                    <span className="font-medium">{n.hostname}</span>
                    <Badge variant="secondary">{n.role === "engine" ? "Engine" : n.role === "manager" ? "Manager" : "Worker"}</Badge>
                  </div>
                  <div className="text-muted-foreground font-mono text-xs">{n.id.slice(0, 12)}</div>
                  {n.engineVersion ? <div className="text-muted-foreground text-xs">Docker {n.engineVersion}</div> : null}
                </td>
                <td className="px-3 py-2 align-top text-xs" data-testid="node-state">
                  <div className="flex flex-wrap gap-1">
                    <Badge variant={n.state === "ready" ? "outline" : "destructive"}>{STATE_LABEL[n.state]}</Badge>
                    {n.availability !== "active" ? <Badge variant="outline">{n.availability === "drain" ? "Drained" : "Paused"}</Badge> : null}
                  </div>
                  {n.message ? <div className="text-muted-foreground mt-1">{n.message}</div> : null}
                </td>
                <td className="px-3 py-2 text-right align-top tabular-nums">{n.cpus}</td>
                <td className="px-3 py-2 text-right align-top tabular-nums whitespace-nowrap">{formatMB(n.memoryBytes / 1024 / 1024)}</td>
                <td className="px-3 py-2 align-top font-mono text-xs">
                  {Object.keys(n.labels).length ? (
                    <ul>
                      {Object.entries(n.labels).map(([k, v]) => (
                        <li key={k}>
                          {k}={v}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <span className="text-muted-foreground font-sans">none</span>
                  )}
                </td>
                <td className="px-3 py-2 align-top text-xs">
                  {n.agents.length ? (
                    <ul className="flex flex-col gap-0.5">
                      {n.agents.map((a) => (
                        <li key={a.agentId} className="flex items-center gap-1">
                          <Link className="underline-offset-2 hover:underline" href={`/projects/${a.projectId}/agents/${a.agentId}`}>
                            {a.name}
                          </Link>
                          <span className="text-muted-foreground">
                            ({a.projectName}, {a.observedState})
                          </span>
                          {a.cannotMove ? (
                            <span title={a.cannotMove} aria-label={`Cannot move: ${a.cannotMove}`}>
                              <Lock className="text-muted-foreground size-3" aria-hidden="true" />
                            </span>
                          ) : null}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <span className="text-muted-foreground">none</span>
                  )}
                </td>
                <td className="px-3 py-2 text-right align-top">
                  {!swarm ? null : n.availability === "drain" ? (
                    <Button variant="outline" size="sm" disabled={activate.isPending} onClick={() => activate.mutate({ nodeId: n.id })}>
                      <CirclePlay aria-hidden="true" />
                      Activate
                    </Button>
                  ) : (
                    <Button variant="outline" size="sm" onClick={() => setConfirm(n)}>
                      <CirclePause aria-hidden="true" />
                      Drain
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <AlertDialog open={!!confirm} onOpenChange={(o) => (o ? undefined : setConfirm(null))}>
        <AlertDialogContent>
          <AlertDialogHeader>
            <AlertDialogTitle>Drain {confirm?.hostname}?</AlertDialogTitle>
            <AlertDialogDescription>
              No new agent is placed there.{" "}
              {confirm?.agents.some((a) => a.cannotMove)
                ? `${confirm.agents.filter((a) => a.cannotMove).length} agent(s) cannot move: ${confirm.agents.find((a) => a.cannotMove)!.cannotMove}`
                : "No agent has to stay on it."}
            </AlertDialogDescription>
          </AlertDialogHeader>
          <AlertDialogFooter>
            <AlertDialogCancel>Cancel</AlertDialogCancel>
            <AlertDialogAction
              onClick={() => {
                if (confirm) drain.mutate({ nodeId: confirm.id });
                setConfirm(null);
              }}
            >
              Drain node
            </AlertDialogAction>
          </AlertDialogFooter>
        </AlertDialogContent>
      </AlertDialog>
    </div>
  );
}
