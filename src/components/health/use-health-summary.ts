"use client";
// The health summary, refreshed every two seconds while a page shows it: resources come from
// Armory's stats collector (memory), so a refresh is one cheap query for every agent at once.
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc/client";

export const HEALTH_REFRESH_MS = 2000;

export function useHealthSummary(projectId?: string) {
  const trpc = useTRPC();
  return useQuery(
    trpc.health.summary.queryOptions(projectId ? { projectId } : undefined, {
      refetchInterval: HEALTH_REFRESH_MS,
      refetchIntervalInBackground: false,
      staleTime: 1000,
    }),
  );
}
