"use client";
// The project's approvals inbox: what waits for a decision first (live, through approval.onRequest,
// decidable right here), then the recent decisions; filtered by agent and status, each linking to
// its chat session.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Inbox, MessagesSquare } from "lucide-react";
import Link from "next/link";
import { useState } from "react";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { NativeSelect } from "@/components/trust/controls";
import { Badge } from "@/components/ui/badge";
import { Skeleton } from "@/components/ui/skeleton";
import { APPROVAL_STATUSES, type ApprovalStatus, type ApprovalView } from "@/contracts/approvals";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn, timeAgo } from "@/lib/utils";
import { ApprovalCard, type ApprovalCardData } from "./approval-card";
import { outcomeText, sessionHref, STATUS_LABELS } from "./format";
import { NotificationPrompt } from "./notification-prompt";
import { useApprovalStream } from "./use-approval-stream";

/** An approval from the API as the card shows it. */
export function cardData(a: ApprovalView): ApprovalCardData {
  return {
    approvalId: a.id,
    toolName: a.toolName,
    toolUseId: a.toolUseId,
    input: a.input,
    summary: a.summary,
    diff: a.diff,
    suggestedRule: a.suggestedRule,
    requestedAt: a.createdAt,
    expiresAt: a.expiresAt,
    status: a.status,
    decidedBy: a.decidedBy,
    remember: a.remember,
    rule: null,
    message: a.message,
    decidedAt: a.decidedAt,
  };
}

function SessionLink({ a }: { a: ApprovalView }) {
  return (
    <>
      <span className="font-mono">{a.agentName}</span>
      <span aria-hidden="true">·</span>
      <Link href={sessionHref(a.projectId, a.agentId, a.sessionId)} className="hover:text-foreground inline-flex min-w-0 items-center gap-1 underline underline-offset-2">
        <MessagesSquare className="size-3.5 shrink-0" aria-hidden="true" />
        <span className="max-w-60 truncate">{a.sessionTitle || "Open the chat"}</span>
      </Link>
      <span aria-hidden="true">·</span>
      <time dateTime={a.createdAt.toISOString()} title={a.createdAt.toLocaleString()}>
        {timeAgo(a.createdAt)}
      </time>
    </>
  );
}

type StatusFilter = "" | ApprovalStatus;

export function ApprovalsInbox({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [agentId, setAgentId] = useState("");
  const [status, setStatus] = useState<StatusFilter>("");
  const agents = useQuery(trpc.agent.list.queryOptions({ projectId }));
  const listInput = { projectId, ...(agentId ? { agentId } : {}), ...(status ? { status } : {}) };
  const recent = useQuery(trpc.approval.list.queryOptions(listInput));
  const refreshRecent = () => void queryClient.invalidateQueries({ queryKey: trpc.approval.list.queryKey() });
  const live = useApprovalStream(projectId, { onRequested: refreshRecent, onDecided: refreshRecent });

  const showPending = status === "" || status === "pending";
  const pending = (live.pending ?? []).filter((a) => !agentId || a.agentId === agentId);
  const decided = (recent.data ?? []).filter((a) => a.status !== "pending");
  const showDecided = status !== "pending";

  return (
    <section aria-labelledby="approvals-title" className="flex flex-col gap-5">
      <div className="flex flex-col gap-1">
        <h2 id="approvals-title" className="text-lg font-semibold tracking-tight">
          Approvals
        </h2>
        <p className="text-muted-foreground text-sm">
          Tool calls your agents asked a person about, by their tool policy. The turn waits until someone allows or denies
          it, or the agent&apos;s approval timeout denies it.
        </p>
      </div>
      <NotificationPrompt />
      <form aria-label="Approval filters" className="grid gap-3 sm:grid-cols-[16rem_16rem]" onSubmit={(e) => e.preventDefault()}>
        <div className="flex flex-col gap-1">
          <label htmlFor="approvals-agent" className="text-xs font-medium">
            Agent
          </label>
          <NativeSelect id="approvals-agent" value={agentId} onChange={(e) => setAgentId(e.target.value)}>
            <option value="">All agents</option>
            {(agents.data ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor="approvals-status" className="text-xs font-medium">
            Status
          </label>
          <NativeSelect id="approvals-status" value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)}>
            <option value="">Any</option>
            {APPROVAL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s === "pending" ? "Pending" : STATUS_LABELS[s]}
              </option>
            ))}
          </NativeSelect>
        </div>
      </form>

      {showPending ? (
        <section aria-labelledby="approvals-pending-title" className="flex flex-col gap-3" data-testid="approvals-pending">
          <h3 id="approvals-pending-title" className="flex items-center gap-2 font-medium">
            Waiting for a decision
            {live.pending ? <Badge variant={pending.length ? "default" : "secondary"}>{pending.length}</Badge> : null}
          </h3>
          {live.status === "error" ? (
            <p className="text-destructive text-sm" role="status">
              Live updates interrupted: {errorMessage(live.error)}. Reconnecting…
            </p>
          ) : null}
          {live.pending === null && live.status !== "error" ? (
            <Skeleton className="h-28 w-full rounded-lg" />
          ) : pending.length === 0 ? (
            <p className="text-muted-foreground flex items-center gap-2 rounded-lg border border-dashed px-4 py-6 text-sm">
              <Inbox className="size-4" aria-hidden="true" />
              Nothing waits for a decision{agentId ? " from this agent" : ""}.
            </p>
          ) : (
            <ul className="flex flex-col gap-3">
              {pending.map((a) => (
                <li key={a.id}>
                  <ApprovalCard projectId={projectId} approval={cardData(a)} canDecide={a.canDecide} context={<SessionLink a={a} />} onDecided={refreshRecent} />
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}

      {showDecided ? (
        <section aria-labelledby="approvals-recent-title" className="flex flex-col gap-3" data-testid="approvals-recent">
          <h3 id="approvals-recent-title" className="font-medium">
            Recent decisions
          </h3>
          {recent.isPending ? (
            <div className="flex flex-col gap-2">
              <Skeleton className="h-12 w-full" />
              <Skeleton className="h-12 w-full" />
            </div>
          ) : recent.isError ? (
            <QueryErrorAlert title="Could not load the approvals" error={recent.error} onRetry={() => void recent.refetch()} />
          ) : decided.length === 0 ? (
            <p className="text-muted-foreground rounded-lg border border-dashed px-4 py-6 text-sm">No decisions yet{agentId || status ? " that match these filters" : ""}.</p>
          ) : (
            <ul className="divide-y rounded-lg border">
              {decided.map((a) => (
                <li key={a.id} className="flex flex-col gap-1 px-3 py-2.5 text-sm" data-testid="approval-row" data-status={a.status}>
                  <div className="flex flex-wrap items-center gap-2">
                    <Badge
                      variant={a.status === "allowed" ? "secondary" : "outline"}
                      className={cn(a.status !== "allowed" && "border-red-500/40 text-red-800 dark:text-red-300")}
                    >
                      {STATUS_LABELS[a.status]}
                    </Badge>
                    <span className="font-mono font-medium">{a.toolName}</span>
                    <span className="text-muted-foreground min-w-0 flex-1 truncate font-mono text-xs">{a.summary}</span>
                  </div>
                  <p className="text-muted-foreground text-xs">{outcomeText(a.status, a.decidedBy, a.message)}</p>
                  <div className="text-muted-foreground flex flex-wrap items-center gap-x-2 text-xs">
                    <SessionLink a={a} />
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}
    </section>
  );
}
