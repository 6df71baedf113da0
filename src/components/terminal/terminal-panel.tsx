"use client";
// The agent page's Terminal tab: a shell in the agent's container (as the agent user, in
// /workspace), for callers with the exec permission while the agent runs. The terminal itself
// (xterm.js) loads on demand; this panel shows its state and offers Reconnect once it ended. The
// agent page mounts it on the first visit to the tab and keeps it while the page is open. While the
// agent is not running or its daemon is not connected, the panel says so instead, and the
// terminal opens by itself once the daemon connects.
import { RotateCw, SquareTerminal } from "lucide-react";
import dynamic from "next/dynamic";
import { useCallback, useState } from "react";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { cn } from "@/lib/utils";
import type { TerminalState } from "./terminal-view";

const TerminalView = dynamic(() => import("./terminal-view"), {
  ssr: false,
  loading: () => <Skeleton className="h-[60vh] min-h-80 w-full rounded-none rounded-b-xl" />,
});

export interface TerminalPanelProps {
  projectId: string;
  agentId: string;
  agentName: string;
  observedState: string;
  /** The agent's daemon (armoryd, which runs the shell) is connected to Armory. */
  daemonConnected: boolean;
  /** The caller has the exec permission on this agent (operators and up). */
  canExec: boolean;
}

const STATE_TEXT: Record<TerminalState["kind"], string> = {
  connecting: "Connecting…",
  connected: "Connected",
  ended: "Ended",
};

export function TerminalPanel({ projectId, agentId, agentName, observedState, daemonConnected, canExec }: TerminalPanelProps) {
  const running = observedState === "running";
  const [state, setState] = useState<TerminalState>({ kind: "connecting" });
  // A new key remounts the view: a new terminal.
  const [attempt, setAttempt] = useState(0);
  const onState = useCallback((s: TerminalState) => setState(s), []);

  const disabledReason = !canExec
    ? "You need the exec permission on this agent (the operator role or higher in this project) to open a terminal."
    : !running
      ? `${agentName} is not running (it is ${observedState}). Start the agent to open a terminal.`
      : !daemonConnected
        ? `Waiting for ${agentName}'s daemon to connect: the terminal opens when it does.`
        : null;

  return (
    <section aria-labelledby="terminal-heading" className="flex flex-col rounded-xl border">
      <header className="flex flex-wrap items-center justify-between gap-2 border-b px-4 py-2">
        <div className="flex min-w-0 items-center gap-2">
          <SquareTerminal className="text-muted-foreground size-4" aria-hidden="true" />
          <h3 id="terminal-heading" className="text-sm font-medium">
            Terminal
          </h3>
          <span className="text-muted-foreground truncate text-xs">a shell in {agentName}&apos;s container, as the agent user</span>
        </div>
        {disabledReason ? null : (
          <div className="flex items-center gap-3">
            <p role="status" aria-live="polite" data-testid="terminal-state" data-state={state.kind} className="flex items-center gap-1.5 text-xs">
              <span
                aria-hidden="true"
                className={cn(
                  "size-2 rounded-full",
                  state.kind === "connected" ? "bg-emerald-500" : state.kind === "connecting" ? "animate-pulse bg-amber-500" : "bg-zinc-400",
                )}
              />
              <span>
                {STATE_TEXT[state.kind]}
                {state.kind === "ended" ? <span className="text-muted-foreground">: {state.reason}</span> : null}
              </span>
            </p>
            <Button
              size="sm"
              variant="outline"
              disabled={state.kind !== "ended"}
              title={state.kind === "ended" ? "Open a new terminal" : "The terminal is open"}
              onClick={() => {
                setState({ kind: "connecting" });
                setAttempt((n) => n + 1);
              }}
            >
              <RotateCw aria-hidden="true" />
              Reconnect
            </Button>
          </div>
        )}
      </header>
      {disabledReason ? (
        <div className="text-muted-foreground flex min-h-40 flex-col items-center justify-center gap-2 px-6 py-10 text-center text-sm">
          <SquareTerminal className="size-6" aria-hidden="true" />
          <p data-testid="terminal-unavailable">{disabledReason}</p>
        </div>
      ) : (
        <TerminalView key={attempt} projectId={projectId} agentId={agentId} onState={onState} />
      )}
    </section>
  );
}
