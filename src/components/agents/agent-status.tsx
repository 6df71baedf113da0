"use client";
import { Loader2, RefreshCw, ServerCrash } from "lucide-react";
import { STATE_LABELS, formatDuration, isUp, type Agent, type StateTone } from "@/components/agents/agent-format";
import { useNow } from "@/components/agents/use-now";
import type { LiveConnection } from "@/components/agents/use-agent-status";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { useLiveConnection } from "@/lib/trpc/client";
import { cn, timeAgo } from "@/lib/utils";
import type { EngineState } from "@/server/api/routers/agent/schemas";
import { isPreDaemonVersion } from "@/contracts/armoryd";

const TONE_STYLE: Record<StateTone, { badge: string; dot: string }> = {
  green: {
    badge: "border-emerald-500/30 bg-emerald-500/10 text-emerald-700 dark:text-emerald-300",
    dot: "bg-emerald-500",
  },
  amber: {
    badge: "border-amber-500/30 bg-amber-500/10 text-amber-700 dark:text-amber-300",
    dot: "bg-amber-500 animate-pulse",
  },
  grey: { badge: "border-border bg-muted text-muted-foreground", dot: "bg-muted-foreground/60" },
  red: { badge: "border-red-500/30 bg-red-500/10 text-red-700 dark:text-red-300", dot: "bg-red-500" },
};

/** The agent's observed state as a coloured badge (running green, stopped grey, busy amber, broken red). */
export function AgentStatusBadge({ agent, className }: { agent: Pick<Agent, "observedState">; className?: string }) {
  const { label, tone } = STATE_LABELS[agent.observedState];
  return (
    <Badge
      variant="outline"
      data-testid="agent-status"
      data-state={agent.observedState}
      className={cn(TONE_STYLE[tone].badge, className)}
    >
      <span aria-hidden="true" className={cn("size-1.5 rounded-full", TONE_STYLE[tone].dot)} />
      {label}
    </Badge>
  );
}

/** The status detail ("killed: out of memory (exit code 137)"), in red when something went wrong. */
export function AgentStatusDetail({ agent, className }: { agent: Agent; className?: string }) {
  if (!agent.statusDetail) return null;
  const bad = agent.oomKilled || STATE_LABELS[agent.observedState].tone === "red";
  return (
    <p className={cn("text-sm", bad ? "text-destructive" : "text-muted-foreground", className)}>{agent.statusDetail}</p>
  );
}

/** "up 3 minutes" (ticking) while the container runs, else when it stopped. */
export function AgentUptime({ agent }: { agent: Agent }) {
  if (isUp(agent) && agent.startedAt) return <RunningFor since={agent.startedAt} />;
  if (agent.finishedAt) {
    return (
      <time dateTime={agent.finishedAt.toISOString()} title={agent.finishedAt.toLocaleString()}>
        stopped {timeAgo(agent.finishedAt)}
      </time>
    );
  }
  return <span>never started</span>;
}

/**
 * The agent's daemon (armoryd) while the container runs: "daemon connected" or, in amber,
 * "daemon disconnected" (chat, files and the terminal wait for it). Nothing for a stopped agent.
 */
export function DaemonIndicator({ agent }: { agent: Pick<Agent, "observedState" | "daemon" | "version"> }) {
  if (agent.observedState !== "running") return null;
  const up = agent.daemon.state === "connected";
  const since = agent.daemon.since;
  if (!up && isPreDaemonVersion(agent.version)) {
    return (
      <span data-testid="daemon-state" data-state="none" title={`Image ${agent.version} has no daemon (armoryd): chat, files and the terminal need an update to the current image (Versions tab).`} className="inline-flex items-center gap-1 text-amber-700 dark:text-amber-300">
        <span aria-hidden="true" className="size-1.5 rounded-full bg-amber-500" />
        no daemon: update the image
      </span>
    );
  }
  const title = up
    ? `armoryd${agent.daemon.agentVersion ? ` ${agent.daemon.agentVersion}` : ""} connected${since ? ` ${timeAgo(since)}` : ""}: chat, files and the terminal work`
    : `armoryd is not connected${since ? ` (since ${timeAgo(since)})` : ""}: chat, files and the terminal wait for it`;
  return (
    <span data-testid="daemon-state" data-state={agent.daemon.state} title={title} className={cn("inline-flex items-center gap-1", up ? "" : "text-amber-700 dark:text-amber-300")}>
      <span aria-hidden="true" className={cn("size-1.5 rounded-full", up ? "bg-emerald-500" : "bg-amber-500 animate-pulse")} />
      {up ? "daemon connected" : "daemon disconnected"}
    </span>
  );
}

function RunningFor({ since }: { since: Date }) {
  const now = useNow();
  return (
    <time dateTime={since.toISOString()} title={`Started ${since.toLocaleString()}`}>
      up {formatDuration(now - since.getTime())}
    </time>
  );
}

/** Shown while the Docker engine is unreachable; disappears when it is back. */
export function EngineBanner({ engine }: { engine: EngineState | null }) {
  if (engine?.state !== "down") return null;
  return (
    <Alert variant="destructive" className="border-destructive/30 bg-destructive/5" data-testid="engine-banner">
      <ServerCrash aria-hidden="true" />
      <AlertTitle>The Docker engine is not reachable</AlertTitle>
      <AlertDescription>
        <p>{engine.message ?? "Armory cannot reach the Docker engine."}</p>
        <p>
          Agents cannot be started, stopped or created until it is back (since {timeAgo(engine.since)}). This page updates
          by itself when it returns.
        </p>
      </AlertDescription>
    </Alert>
  );
}

/** A small "Live" / "Reconnecting…" marker for the status stream. */
export function LiveIndicator({ connection: stream }: { connection: LiveConnection }) {
  // The tab's one live connection (every stream of the tab rides on it): when it dropped, say so.
  const socket = useLiveConnection();
  const connection: LiveConnection = stream !== "off" && socket === "reconnecting" ? "reconnecting" : stream;
  if (connection === "off") return null;
  const label =
    connection === "live" ? "Live" : connection === "reconnecting" ? "Reconnecting…" : "Connecting…";
  return (
    <span
      role="status"
      data-testid="live-indicator"
      className="text-muted-foreground inline-flex items-center gap-1.5 text-xs"
      title={connection === "live" ? "Status changes appear here as they happen" : "Waiting for live status updates"}
    >
      {connection === "live" ? (
        <span aria-hidden="true" className="relative flex size-2">
          <span className="absolute inline-flex size-full animate-ping rounded-full bg-emerald-500/60" />
          <span className="relative inline-flex size-2 rounded-full bg-emerald-500" />
        </span>
      ) : connection === "reconnecting" ? (
        <RefreshCw className="size-3 animate-spin" aria-hidden="true" />
      ) : (
        <Loader2 className="size-3 animate-spin" aria-hidden="true" />
      )}
      {label}
    </span>
  );
}

/** When the agent was last sent a chat message, kept current ("last message 2 minutes ago"). */
export function AgentLastMessage({ agent }: { agent: Pick<Agent, "lastMessageAt"> }) {
  const now = useNow();
  const at = agent.lastMessageAt;
  if (!at) return <span>no messages yet</span>;
  return (
    <time dateTime={at.toISOString()} title={`Last message ${at.toLocaleString()}`}>
      last message {timeAgo(at, new Date(Math.max(now, at.getTime())))}
    </time>
  );
}
