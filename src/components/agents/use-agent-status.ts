"use client";
// Live agent status: follows agent.onStatus (SSE) and writes every change into the TanStack
// Query cache, so the cards, the detail page and anything else reading agent.list / agent.get
// update by themselves. Mutation results go through the same merge.
import { skipToken, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useState } from "react";
import type { Agent } from "@/components/agents/agent-format";
import { useTRPC } from "@/lib/trpc/client";
import type { EngineState } from "@/server/api/routers/agent/schemas";

type TRPC = ReturnType<typeof useTRPC>;

function byName(a: Agent, b: Agent) {
  return a.name.localeCompare(b.name);
}

/** Writes one agent into the list and its own query, unless the cache already holds a newer copy. */
export function storeAgent(queryClient: QueryClient, trpc: TRPC, agent: Agent) {
  const isStale = (held: Agent | undefined) => !!held && held.updatedAt.getTime() > agent.updatedAt.getTime();
  queryClient.setQueryData(trpc.agent.list.queryKey({ projectId: agent.projectId }), (list) => {
    if (!list) return list; // not loaded yet: the fetch brings it
    const i = list.findIndex((a) => a.id === agent.id);
    if (i === -1) return [...list, agent].sort(byName);
    if (isStale(list[i])) return list;
    const next = list.slice();
    next[i] = agent;
    return next;
  });
  queryClient.setQueryData(trpc.agent.get.queryKey({ projectId: agent.projectId, agentId: agent.id }), (held) =>
    isStale(held) ? held : agent,
  );
}

/** Drops a removed agent from the list; its own query refetches (and finds it gone). */
export function forgetAgent(queryClient: QueryClient, trpc: TRPC, projectId: string, agentId: string) {
  queryClient.setQueryData(trpc.agent.list.queryKey({ projectId }), (list) => list?.filter((a) => a.id !== agentId));
  void queryClient.invalidateQueries({ queryKey: trpc.agent.get.queryKey({ projectId, agentId }) });
}

export type LiveConnection = "connecting" | "live" | "reconnecting" | "off";

/**
 * Subscribes to the project's agents (or one agent) while mounted. Returns the Docker engine's
 * state (null until the first event) and how the live connection is doing.
 */
export function useAgentStatus({
  projectId,
  agentId,
  enabled = true,
}: {
  projectId: string;
  agentId?: string;
  enabled?: boolean;
}): { engine: EngineState | null; connection: LiveConnection } {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [engine, setEngine] = useState<EngineState | null>(null);
  const [everConnected, setEverConnected] = useState(false);

  const sub = useSubscription(
    trpc.agent.onStatus.subscriptionOptions(enabled ? (agentId ? { projectId, agentId } : { projectId }) : skipToken, {
      onStarted: () => setEverConnected(true),
      onData: (event) => {
        if (event.type === "engine") {
          // Every (re)connection starts with the engine state. After the first one, refetch:
          // changes made while the stream was down were not delivered.
          if (engine) {
            void queryClient.invalidateQueries({ queryKey: trpc.agent.list.queryKey({ projectId }) });
            if (agentId) void queryClient.invalidateQueries({ queryKey: trpc.agent.get.queryKey({ projectId, agentId }) });
          }
          setEngine(event.engine);
        } else if (event.type === "agent") {
          storeAgent(queryClient, trpc, event.agent);
        } else {
          forgetAgent(queryClient, trpc, event.projectId, event.agentId);
        }
      },
    }),
  );

  const connection: LiveConnection = !enabled
    ? "off"
    : sub.status === "pending"
      ? "live"
      : everConnected
        ? "reconnecting"
        : "connecting";
  return { engine, connection };
}
