"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Loader2, Play, RotateCw, Square, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { availableActions, type Agent } from "@/components/agents/agent-format";
import { forgetAgent, storeAgent } from "@/components/agents/use-agent-status";
import { FormError } from "@/components/auth/form-error";
import {
  AlertDialog,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";
import { roleAtLeast, type ProjectRole } from "@/server/domain/roles";

type Action = "start" | "stop" | "restart";

const ACTION_TEXT: Record<Action, { idle: string; busy: string; failed: string; icon: typeof Play }> = {
  start: { idle: "Start", busy: "Starting…", failed: "Could not start", icon: Play },
  stop: { idle: "Stop", busy: "Stopping…", failed: "Could not stop", icon: Square },
  restart: { idle: "Restart", busy: "Restarting…", failed: "Could not restart", icon: RotateCw },
};

/** Start / Stop / Restart for one agent: the result and any error go to the cache and a toast. */
export function useAgentAction(agent: Pick<Agent, "id" | "projectId" | "name">) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const options = (action: Action) => ({
    onSuccess: (saved: Agent) => storeAgent(queryClient, trpc, saved),
    onError: (err: unknown) => toast.error(`${ACTION_TEXT[action].failed} ${agent.name}`, { description: errorMessage(err) }),
  });
  const start = useMutation(trpc.agent.start.mutationOptions(options("start")));
  const stop = useMutation(trpc.agent.stop.mutationOptions(options("stop")));
  const restart = useMutation(trpc.agent.restart.mutationOptions(options("restart")));
  const mutations = { start, stop, restart };
  const pending: Action | null = start.isPending ? "start" : stop.isPending ? "stop" : restart.isPending ? "restart" : null;
  return {
    pending,
    run: (action: Action) => mutations[action].mutate({ projectId: agent.projectId, agentId: agent.id }),
  };
}

/**
 * The lifecycle buttons a role may use, disabled where the state does not allow them; the
 * clicked one shows its progress. Remove (admins) asks first; with `confirmStop` (the agent
 * page's header) Stop asks first too, saying that it stops the container.
 */
export function AgentControls({
  agent,
  role,
  engineDown,
  size = "sm",
  describedBy,
  compact = false,
  confirmStop = false,
  onRemoved,
  className,
}: {
  agent: Agent;
  role: ProjectRole;
  engineDown: boolean;
  size?: "sm" | "default";
  /** Remove as an icon button (cards). */
  compact?: boolean;
  /** Stop asks for confirmation first. */
  confirmStop?: boolean;
  /** The id of the element naming the agent, so "Start" is announced as "Start, <agent>". */
  describedBy?: string;
  onRemoved?: () => void;
  className?: string;
}) {
  const { pending, run } = useAgentAction(agent);
  const [removeOpen, setRemoveOpen] = useState(false);
  const [stopOpen, setStopOpen] = useState(false);
  const allowed = availableActions(agent);
  const canOperate = roleAtLeast(role, "operator");
  const canRemove = roleAtLeast(role, "admin");
  if (!canOperate) return null;
  const engineTitle = engineDown ? "The Docker engine is not reachable" : undefined;

  return (
    <div className={cn("flex flex-wrap items-center gap-2", className)}>
      {(["start", "stop", "restart"] as const).map((action) => {
        const { idle, busy, icon: Icon } = ACTION_TEXT[action];
        const isPending = pending === action;
        return (
          <Button
            key={action}
            type="button"
            size={size}
            variant={action === "start" && allowed.start ? "default" : "outline"}
            disabled={pending !== null || !allowed[action] || engineDown}
            title={engineTitle}
            aria-describedby={describedBy}
            onClick={() => (action === "stop" && confirmStop ? setStopOpen(true) : run(action))}
          >
            {isPending ? <Loader2 className="animate-spin" aria-hidden="true" /> : <Icon aria-hidden="true" />}
            {isPending ? busy : idle}
          </Button>
        );
      })}
      {confirmStop ? (
        <StopAgentDialog
          agent={agent}
          open={stopOpen}
          onOpenChange={setStopOpen}
          onConfirm={() => {
            setStopOpen(false);
            run("stop");
          }}
        />
      ) : null}
      {canRemove ? (
        <>
          <Button
            type="button"
            size={compact ? (size === "sm" ? "icon-sm" : "icon") : size}
            variant="ghost"
            className="text-destructive hover:bg-destructive/10 hover:text-destructive ml-auto"
            disabled={pending !== null || !allowed.remove || engineDown}
            title={engineTitle ?? (compact ? "Remove" : undefined)}
            aria-describedby={describedBy}
            onClick={() => setRemoveOpen(true)}
          >
            <Trash2 aria-hidden="true" />
            {compact ? <span className="sr-only">Remove</span> : "Remove"}
          </Button>
          <RemoveAgentDialog agent={agent} open={removeOpen} onOpenChange={setRemoveOpen} onRemoved={onRemoved} />
        </>
      ) : null}
    </div>
  );
}

/** Asks before stopping: Stop stops the agent's container (and whatever runs in it). */
function StopAgentDialog({
  agent,
  open,
  onOpenChange,
  onConfirm,
}: {
  agent: Agent;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onConfirm: () => void;
}) {
  return (
    <AlertDialog open={open} onOpenChange={onOpenChange}>
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>Stop {agent.name}&apos;s container?</AlertDialogTitle>
          <AlertDialogDescription>
            This stops the agent&apos;s Docker container: a chat turn that is running ends, and so does every process in the
            container. Its files in <code>/workspace</code> and its Claude sessions are kept; Start runs it again.
          </AlertDialogDescription>
        </AlertDialogHeader>
        <AlertDialogFooter>
          <AlertDialogCancel type="button">Cancel</AlertDialogCancel>
          <Button type="button" variant="destructive" onClick={onConfirm}>
            <Square aria-hidden="true" />
            Stop container
          </Button>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}

/** Asks whether to keep the agent's volumes (its /workspace and Claude sessions), then removes it. */
export function RemoveAgentDialog({
  agent,
  open,
  onOpenChange,
  onRemoved,
}: {
  agent: Agent;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onRemoved?: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const remove = useMutation(
    trpc.agent.remove.mutationOptions({
      onSuccess: (result) => {
        onOpenChange(false);
        forgetAgent(queryClient, trpc, agent.projectId, agent.id);
        toast.success("Agent removed", {
          description: result.volumesKept ? `${agent.name} — its volumes were kept` : agent.name,
        });
        onRemoved?.();
      },
      onError: (err) => setError(errorMessage(err)),
    }),
  );
  const keeping = remove.isPending && remove.variables?.keepVolumes === true;
  const deleting = remove.isPending && remove.variables?.keepVolumes === false;

  function submit(keepVolumes: boolean) {
    if (remove.isPending) return;
    setError(null);
    remove.mutate({ projectId: agent.projectId, agentId: agent.id, keepVolumes });
  }

  return (
    <AlertDialog
      open={open}
      onOpenChange={(next) => {
        if (remove.isPending) return;
        onOpenChange(next);
        if (!next) setError(null);
      }}
    >
      <AlertDialogContent className="sm:max-w-xl">
        <AlertDialogHeader>
          <AlertDialogTitle>Remove {agent.name}?</AlertDialogTitle>
          <AlertDialogDescription>
            Its container is stopped and deleted. Its volumes hold the files in <code>/workspace</code> and its Claude
            sessions: remove them too, or keep them on the Docker engine.
          </AlertDialogDescription>
        </AlertDialogHeader>
        <FormError message={error} />
        <AlertDialogFooter>
          <AlertDialogCancel type="button" disabled={remove.isPending}>
            Cancel
          </AlertDialogCancel>
          <Button type="button" variant="outline" disabled={remove.isPending} onClick={() => submit(true)}>
            {keeping ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
            {keeping ? "Removing…" : "Remove, keep volumes"}
          </Button>
          <Button type="button" variant="destructive" disabled={remove.isPending} onClick={() => submit(false)}>
            {deleting ? <Loader2 className="animate-spin" aria-hidden="true" /> : <Trash2 aria-hidden="true" />}
            {deleting ? "Removing…" : "Remove agent and its data"}
          </Button>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
