"use client";
// An approval inline in the chat, in the turn of its tool call. The chat's events say what was
// asked and how it was decided (live, whoever decided); while it is pending, approval.get says
// whether this person may decide (permission exec on the agent, by role or grant).
import { useQuery } from "@tanstack/react-query";
import type { ChatApproval } from "@/components/chat/transcript";
import { useTRPC } from "@/lib/trpc/client";
import { ApprovalCard } from "./approval-card";

export function ChatApprovalCard({ projectId, approval, turnRunning }: { projectId: string; approval: ChatApproval; turnRunning: boolean }) {
  const trpc = useTRPC();
  const pending = approval.status === "pending" && turnRunning;
  const view = useQuery({
    ...trpc.approval.get.queryOptions({ projectId, approvalId: approval.approvalId }),
    enabled: pending,
    staleTime: Infinity,
  });
  return (
    <ApprovalCard
      projectId={projectId}
      approval={approval}
      canDecide={view.isError ? false : view.data?.canDecide}
      ended={!turnRunning}
    />
  );
}
