"use client";
// A project's pending approvals, live: approval.onRequest sends what is pending first (a
// snapshot, also after a reconnect), then every request and decision. Callers get the pending
// list (oldest first) and hear about each new request and decision.
import { skipToken } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useState } from "react";
import type { ApprovalStreamEvent, ApprovalView } from "@/contracts/approvals";
import { useTRPC } from "@/lib/trpc/client";

export function useApprovalStream(
  projectId: string,
  {
    agentId,
    enabled = true,
    onRequested,
    onDecided,
  }: { agentId?: string; enabled?: boolean; onRequested?: (a: ApprovalView) => void; onDecided?: (a: ApprovalView) => void } = {},
) {
  const trpc = useTRPC();
  const [pending, setPending] = useState<ApprovalView[] | null>(null);
  const sub = useSubscription(
    // useSubscription calls the latest onData: changed callbacks do not restart the subscription.
    trpc.approval.onRequest.subscriptionOptions(enabled ? { projectId, ...(agentId ? { agentId } : {}) } : skipToken, {
      onData: (e: ApprovalStreamEvent) => {
        if (e.kind === "snapshot") {
          setPending([...e.pending].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()));
        } else if (e.kind === "requested") {
          setPending((list) => [...(list ?? []).filter((a) => a.id !== e.approval.id), e.approval]);
          onRequested?.(e.approval);
        } else if (e.kind === "decided") {
          setPending((list) => (list ?? []).filter((a) => a.id !== e.approval.id));
          onDecided?.(e.approval);
        }
      },
    }),
  );
  return { pending, status: sub.status, error: sub.error };
}
