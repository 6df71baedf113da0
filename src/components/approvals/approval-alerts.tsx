"use client";
// What every project page knows about approvals: how many wait (the navigation's count, live) and,
// when the tab is in the background, a browser notification for each new one (a click focuses the
// tab and opens the session).
import { useRouter } from "next/navigation";
import { sessionHref } from "./format";
import { closeApprovalNotification, notifyApproval } from "./notify";
import { useApprovalStream } from "./use-approval-stream";

/** The number of pending approvals in the project (null until known). */
export function useApprovalAlerts(projectId: string): number | null {
  const router = useRouter();
  const { pending } = useApprovalStream(projectId, {
    onRequested: (a) => notifyApproval({ id: a.id, toolName: a.toolName, agentName: a.agentName, summary: a.summary }, () => router.push(sessionHref(a.projectId, a.agentId, a.sessionId))),
    onDecided: (a) => closeApprovalNotification(a.id),
  });
  return pending ? pending.length : null;
}

export function PendingApprovalsBadge({ count }: { count: number | null }) {
  if (!count) return null;
  return (
    <span
      data-testid="pending-approvals-count"
      className="rounded-full bg-amber-500 px-1.5 py-px text-[0.7rem] leading-4 font-semibold text-amber-950 tabular-nums"
    >
      {count > 99 ? "99+" : count}
      <span className="sr-only"> pending</span>
    </span>
  );
}
