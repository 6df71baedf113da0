"use client";
// One approval as a card, in the chat (inline, under its tool call) and in the project inbox: the
// tool, the command or file (with the diff of a Write/Edit), who may decide, a countdown to the
// timeout, and, for someone who may decide, Allow / Deny (with an optional message) / Always allow
// the rule in this chat / Always allow it for the agent. Once decided (here, in another tab, by a
// bot or by the timeout) it shows the outcome and who decided. Every control is a real button or
// form field, so the whole card works by keyboard.
import { useMutation } from "@tanstack/react-query";
import { Ban, Check, CheckCheck, Clock, Loader2, ShieldAlert, ShieldCheck, ShieldX, X } from "lucide-react";
import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from "react";
import { toast } from "sonner";
import { useNow } from "@/components/agents/use-now";
import { DiffView } from "@/components/chat/tool-block";
import { parseUnifiedDiff, toolDiff } from "@/components/chat/tool-diff";
import type { ChatApproval } from "@/components/chat/transcript";
import { apiErrorCode } from "@/components/projects/project-form";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn, timeAgo } from "@/lib/utils";
import { formatCountdown, outcomeText, STATUS_LABELS } from "./format";

export type ApprovalCardData = ChatApproval;

type Decision = { decision: "allow" | "deny"; remember?: "session" | "agent"; message?: string };

const WHO_MAY_DECIDE = "Operators and admins of this project may decide, and anyone (or any token) granted exec on this agent.";

/** The tool's input at a glance: the command, the file change, or the input as JSON. */
function RequestBody({ approval }: { approval: ApprovalCardData }) {
  const diff = useMemo(() => {
    const fromServer = approval.diff ? parseUnifiedDiff(approval.diff, approval.summary) : null;
    return fromServer ?? toolDiff(approval.toolName, approval.input);
  }, [approval.diff, approval.summary, approval.toolName, approval.input]);
  const input = (typeof approval.input === "object" && approval.input !== null ? approval.input : {}) as Record<string, unknown>;
  if (approval.toolName === "Bash" && typeof input.command === "string") {
    return (
      <pre className="bg-muted overflow-x-auto rounded p-2 font-mono text-xs whitespace-pre-wrap break-all" data-testid="approval-command">
        <span aria-hidden="true" className="text-foreground/70 select-none">$ </span>
        {input.command}
      </pre>
    );
  }
  if (diff) {
    return (
      <div className="flex flex-col gap-1">
        <p className="font-mono text-xs break-all" data-testid="approval-file">
          {diff.path}{" "}
          <span className="text-emerald-700 dark:text-emerald-300" aria-hidden="true">+{diff.added}</span>{" "}
          <span className="text-red-700 dark:text-red-300" aria-hidden="true">−{diff.removed}</span>
          <span className="sr-only">
            {diff.added} lines added, {diff.removed} removed
          </span>
        </p>
        <DiffView diff={diff} />
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-1">
      {approval.summary ? <p className="font-mono text-xs break-all">{approval.summary}</p> : null}
      <pre tabIndex={0} className="bg-muted max-h-48 overflow-auto rounded p-2 font-mono text-xs" aria-label="Tool input">
        {JSON.stringify(approval.input, null, 2)}
      </pre>
    </div>
  );
}

function Countdown({ expiresAt }: { expiresAt: Date }) {
  const now = useNow();
  const left = expiresAt.getTime() - now;
  return (
    <span className={cn("flex items-center gap-1 text-xs tabular-nums", left < 60_000 ? "text-amber-800 dark:text-amber-300" : "text-muted-foreground")} data-testid="approval-countdown">
      <Clock className="size-3.5" aria-hidden="true" />
      {left > 0 ? <>Times out in {formatCountdown(left)}</> : "Timing out…"}
    </span>
  );
}

function StatusIcon({ status }: { status: ApprovalCardData["status"] }) {
  const cls = "size-4 shrink-0";
  if (status === "allowed") return <ShieldCheck className={cn(cls, "text-emerald-700 dark:text-emerald-300")} aria-hidden="true" />;
  if (status === "pending") return <ShieldAlert className={cn(cls, "text-amber-700 dark:text-amber-300")} aria-hidden="true" />;
  return <ShieldX className={cn(cls, "text-red-700 dark:text-red-300")} aria-hidden="true" />;
}

/** The decide call, with its errors said in words (decided meanwhile: a 409 that is not a failure). */
export function useDecide(onDecided?: () => void) {
  const trpc = useTRPC();
  return useMutation(
    trpc.approval.decide.mutationOptions({
      onSuccess: () => onDecided?.(),
      onError: (err) => {
        if (apiErrorCode(err) === "CONFLICT") {
          toast.info("Already decided", { description: errorMessage(err) });
          onDecided?.();
        } else toast.error("Could not record the decision", { description: errorMessage(err) });
      },
    }),
  );
}

export function ApprovalCard({
  projectId,
  approval,
  canDecide,
  ended = false,
  context,
  onDecided,
  headingLevel = 3,
}: {
  projectId: string;
  approval: ApprovalCardData;
  /** Whether this person may decide (permission exec on the agent); undefined while unknown. */
  canDecide: boolean | undefined;
  /** The turn is over although no decision reached this view: no buttons. */
  ended?: boolean;
  /** Where it comes from (the inbox: the agent and the session, as links). */
  context?: ReactNode;
  onDecided?: () => void;
  headingLevel?: 3 | 4;
}) {
  const id = useId();
  const [denying, setDenying] = useState(false);
  const [message, setMessage] = useState("");
  const denyBox = useRef<HTMLTextAreaElement>(null);
  const denyButton = useRef<HTMLButtonElement>(null);
  const decide = useDecide(onDecided);
  const pending = approval.status === "pending" && !ended;
  const rule = approval.suggestedRule;
  const busy = decide.isPending;
  const Heading = headingLevel === 3 ? "h3" : "h4";

  useEffect(() => {
    if (denying) denyBox.current?.focus();
  }, [denying]);

  const send = (d: Decision) => decide.mutate({ projectId, approvalId: approval.approvalId, ...d });
  const working = (d: Partial<Decision>) =>
    busy && decide.variables?.decision === d.decision && decide.variables?.remember === d.remember ? <Loader2 className="animate-spin" aria-hidden="true" /> : null;

  return (
    <section
      aria-labelledby={`${id}-title`}
      data-testid="approval-card"
      data-status={approval.status}
      data-approval-id={approval.approvalId}
      className={cn(
        "flex flex-col gap-2.5 rounded-lg border p-3 text-sm",
        pending ? "border-amber-500/50 bg-amber-500/5" : approval.status === "allowed" ? "bg-card" : "bg-muted/40",
      )}
    >
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <StatusIcon status={pending ? "pending" : approval.status === "pending" ? "cancelled" : approval.status} />
        <Heading id={`${id}-title`} className="font-medium">
          {pending ? "Approval needed" : "Approval"}: <span className="font-mono">{approval.toolName}</span>
        </Heading>
        {pending ? (
          <Countdown expiresAt={approval.expiresAt} />
        ) : (
          <Badge variant={approval.status === "allowed" ? "secondary" : "outline"} data-testid="approval-status">
            {approval.status === "pending" ? "No decision" : STATUS_LABELS[approval.status]}
          </Badge>
        )}
        {context ? <div className="text-muted-foreground ml-auto flex min-w-0 flex-wrap items-center gap-x-2 text-xs">{context}</div> : null}
      </div>

      <RequestBody approval={approval} />

      {pending ? (
        canDecide === false ? (
          <p className="text-muted-foreground text-xs">You can see this request but not decide it. {WHO_MAY_DECIDE}</p>
        ) : (
          <>
            <p className="text-muted-foreground text-xs" id={`${id}-who`}>
              The agent waits for a decision. {WHO_MAY_DECIDE}
            </p>
            {canDecide === undefined ? (
              <p className="text-muted-foreground flex items-center gap-1.5 text-xs">
                <Loader2 className="size-3 animate-spin" aria-hidden="true" />
                Checking whether you may decide…
              </p>
            ) : denying ? (
              <form
                className="flex flex-col gap-2"
                aria-label={`Deny ${approval.toolName}`}
                onSubmit={(e) => {
                  e.preventDefault();
                  send({ decision: "deny", message: message.trim() || undefined });
                }}
                onKeyDown={(e) => {
                  if (e.key === "Escape") {
                    e.stopPropagation();
                    setDenying(false);
                    requestAnimationFrame(() => denyButton.current?.focus());
                  }
                }}
              >
                <label htmlFor={`${id}-message`} className="text-xs font-medium">
                  Message to the agent <span className="text-muted-foreground font-normal">(optional: the model reads it)</span>
                </label>
                <Textarea
                  ref={denyBox}
                  id={`${id}-message`}
                  value={message}
                  maxLength={2000}
                  rows={2}
                  placeholder="e.g. Don't touch that file; use a copy in /tmp."
                  onChange={(e) => setMessage(e.target.value)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) {
                      e.preventDefault();
                      e.currentTarget.form?.requestSubmit();
                    }
                  }}
                  disabled={busy}
                  className="min-h-14 text-sm"
                />
                <div className="flex flex-wrap gap-2">
                  <Button type="submit" size="sm" variant="destructive" disabled={busy}>
                    {working({ decision: "deny" }) ?? <Ban aria-hidden="true" />}
                    Deny
                  </Button>
                  <Button type="button" size="sm" variant="outline" disabled={busy} onClick={() => setDenying(false)}>
                    Cancel
                  </Button>
                </div>
              </form>
            ) : (
              <div className="flex flex-wrap gap-2" role="group" aria-label={`Decide ${approval.toolName}`} aria-describedby={`${id}-who`}>
                <Button type="button" size="sm" disabled={busy} onClick={() => send({ decision: "allow" })}>
                  {working({ decision: "allow" }) ?? <Check aria-hidden="true" />}
                  Allow
                </Button>
                <Button ref={denyButton} type="button" size="sm" variant="outline" disabled={busy} onClick={() => setDenying(true)}>
                  <X aria-hidden="true" />
                  Deny…
                </Button>
                <Button
                  type="button"
                  size="sm"
                  variant="outline"
                  disabled={busy}
                  title={`Allow now, and allow calls matching ${rule} for the rest of this chat session without asking`}
                  onClick={() => send({ decision: "allow", remember: "session" })}
                >
                  {working({ decision: "allow", remember: "session" }) ?? <CheckCheck aria-hidden="true" />}
                  Always allow <span className="max-w-56 truncate font-mono text-xs">{rule}</span>
                </Button>
                <Button
                  type="button"
                  size="sm"
                  variant="outline"
                  disabled={busy}
                  title={`Allow now, and add ${rule} to this agent's allowed rules (every session)`}
                  onClick={() => send({ decision: "allow", remember: "agent" })}
                >
                  {working({ decision: "allow", remember: "agent" }) ?? <CheckCheck aria-hidden="true" />}
                  Always allow for this agent
                </Button>
              </div>
            )}
          </>
        )
      ) : (
        <div className="flex flex-col gap-0.5" data-testid="approval-outcome" role="status">
          <p className={cn("text-sm", approval.status === "allowed" ? "text-emerald-800 dark:text-emerald-200" : "text-foreground")}>
            {approval.status === "pending" ? "The turn ended before a decision." : outcomeText(approval.status, approval.decidedBy, approval.message, approval.rule)}
            {approval.decidedAt ? (
              <span className="text-muted-foreground text-xs">
                {" "}
                · <time dateTime={approval.decidedAt.toISOString()} title={approval.decidedAt.toLocaleString()}>{timeAgo(approval.decidedAt)}</time>
              </span>
            ) : null}
          </p>
          {approval.remember && approval.status === "allowed" ? (
            <p className="text-muted-foreground text-xs">
              Remembered {approval.remember === "session" ? "for this chat session" : "for this agent"}
              {approval.rule ? (
                <>
                  : <span className="font-mono">{approval.rule}</span>
                </>
              ) : null}
            </p>
          ) : null}
        </div>
      )}
    </section>
  );
}
