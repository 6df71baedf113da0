"use client";
// Live steps of an agent's update (version.onUpdate), one subscription per Settings tab shared by
// the version picker, the env editor and "Restart required": all apply changes by the same safe
// re-create.
import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { CheckCircle2, Circle, Loader2, Undo2 } from "lucide-react";
import { useState } from "react";
import { useTRPC } from "@/lib/trpc/client";
import type { UpdateStepEventView } from "@/server/api/routers/version/schemas";

const LABELS: Record<UpdateStepEventView["step"], string> = {
  "checking-image": "Checking the image is on the engine",
  creating: "Creating the new container",
  starting: "Starting it",
  "health-check": "Waiting until it is healthy",
  switching: "Switching over",
  done: "Done",
  "rolled-back": "Rolled back",
};

/** The latest update's steps for one agent, kept while mounted; refreshes history and versions when one ends. */
export function useUpdateSteps(projectId: string, agentId: string): UpdateStepEventView[] {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [steps, setSteps] = useState<UpdateStepEventView[]>([]);
  useSubscription(
    trpc.version.onUpdate.subscriptionOptions(
      { projectId, agentId },
      {
        onData: (e) => {
          // A (re)connection replays the running update's steps first: keep each step once.
          setSteps((prev) => (prev[0] && prev[0].updateId !== e.updateId ? [e] : prev.some((p) => p.step === e.step && p.at.getTime() === e.at.getTime()) ? prev : [...prev, e]));
          if (e.step === "done" || e.step === "rolled-back") {
            void queryClient.invalidateQueries({ queryKey: trpc.version.history.queryKey({ projectId, agentId }) });
            void queryClient.invalidateQueries({ queryKey: trpc.version.list.queryKey({ projectId, agentId }) });
            void queryClient.invalidateQueries({ queryKey: trpc.env.get.queryKey({ projectId, agentId }) });
          }
        },
      },
    ),
  );
  return steps;
}

export function UpdateProgress({ steps }: { steps: UpdateStepEventView[] }) {
  if (!steps.length) return null;
  const last = steps.at(-1)!;
  const finished = last.step === "done" || last.step === "rolled-back";
  return (
    <ol className="flex flex-col gap-1 rounded-md border p-3 text-sm" aria-label="Update progress" data-testid="update-progress">
      {steps.map((s, i) => {
        const current = i === steps.length - 1 && !finished;
        const Icon = s.step === "rolled-back" ? Undo2 : current ? Loader2 : s.step === "done" ? CheckCircle2 : CheckCircle2;
        return (
          <li key={`${s.updateId}-${i}`} className="flex items-start gap-2">
            <Icon
              aria-hidden="true"
              className={`mt-0.5 size-4 shrink-0 ${current ? "animate-spin" : ""} ${s.step === "rolled-back" ? "text-destructive" : s.step === "done" ? "text-emerald-600" : "text-muted-foreground"}`}
            />
            <span>
              <span className="font-medium">{LABELS[s.step]}</span>
              <span className="text-muted-foreground"> — {s.message}</span>
            </span>
          </li>
        );
      })}
      {!finished ? (
        <li className="text-muted-foreground flex items-center gap-2">
          <Circle className="size-4" aria-hidden="true" /> The old container keeps running until the new one is healthy.
        </li>
      ) : null}
    </ol>
  );
}
