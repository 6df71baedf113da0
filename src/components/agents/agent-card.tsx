"use client";
import { Bot, Clock, Cpu, MessageSquare, RotateCw, Sparkles } from "lucide-react";
import Link from "next/link";
import { AgentControls } from "@/components/agents/agent-controls";
import { formatLimits, type Agent } from "@/components/agents/agent-format";
import { AgentLastMessage, AgentStatusBadge, AgentStatusDetail, AgentUptime, DaemonIndicator } from "@/components/agents/agent-status";
import { AgentCardResources } from "@/components/health/agent-card-resources";
import { restartReasonText } from "@/components/versions/restart-reasons";
import type { ProjectRole } from "@/server/domain/roles";

export function agentHref(agent: Pick<Agent, "projectId" | "id">, tab?: string) {
  return `/projects/${agent.projectId}/agents/${agent.id}${tab ? `?tab=${tab}` : ""}`;
}

/** One agent: name, template, live status, version, model, limits, uptime, last message time, and its controls. */
export function AgentCard({ agent, role, engineDown }: { agent: Agent; role: ProjectRole; engineDown: boolean }) {
  const titleId = `agent-${agent.id}-name`;
  return (
    <article
      aria-labelledby={titleId}
      data-testid="agent-card"
      className="group bg-card text-card-foreground hover:border-foreground/20 focus-within:ring-ring/50 relative flex h-full flex-col gap-4 rounded-xl border p-5 shadow-xs transition-[border-color,box-shadow] hover:shadow-md has-[a:focus-visible]:ring-[3px]"
    >
      <div className="flex items-start gap-3">
        <span
          aria-hidden="true"
          className="bg-muted text-muted-foreground flex size-9 shrink-0 items-center justify-center rounded-lg"
        >
          <Bot className="size-5" />
        </span>
        <div className="min-w-0 flex-1">
          <h3 id={titleId} className="truncate font-mono leading-tight font-semibold">
            <Link
              href={agentHref(agent)}
              className="outline-none after:absolute after:inset-0 after:rounded-xl after:content-['']"
            >
              {agent.name}
            </Link>
          </h3>
          <p className="text-muted-foreground mt-1 truncate text-xs">
            {agent.templateName} · <span title={agent.image}>v{agent.version}</span>
          </p>
        </div>
        <AgentStatusBadge agent={agent} />
      </div>

      <AgentStatusDetail agent={agent} className="-mt-1 line-clamp-2 text-xs" />

      <dl className="text-muted-foreground grid gap-1.5 text-xs">
        <div className="flex items-center gap-2">
          <dt>
            <Sparkles className="size-3.5" aria-hidden="true" />
            <span className="sr-only">Model</span>
          </dt>
          <dd className="text-foreground truncate font-mono">{agent.model}</dd>
        </div>
        <div className="flex items-center gap-2">
          <dt>
            <Cpu className="size-3.5" aria-hidden="true" />
            <span className="sr-only">Limits</span>
          </dt>
          <dd>{formatLimits(agent)}</dd>
        </div>
        <div className="flex items-center gap-2">
          <dt>
            <Clock className="size-3.5" aria-hidden="true" />
            <span className="sr-only">Uptime</span>
          </dt>
          <dd>
            <AgentUptime agent={agent} />
            {agent.observedState === "running" ? (
              <>
                {" · "}
                <DaemonIndicator agent={agent} />
              </>
            ) : null}
          </dd>
        </div>
        <div className="flex items-center gap-2">
          <dt>
            <MessageSquare className="size-3.5" aria-hidden="true" />
            <span className="sr-only">Chat</span>
          </dt>
          <dd data-testid="agent-last-message">
            <AgentLastMessage agent={agent} />
          </dd>
        </div>
      </dl>

      <AgentCardResources projectId={agent.projectId} agentId={agent.id} />

      {agent.restartRequired ? (
        <p className="flex items-start gap-2 rounded-md bg-amber-500/10 px-2.5 py-1.5 text-xs text-amber-800 dark:text-amber-300">
          <RotateCw className="mt-0.5 size-3.5 shrink-0" aria-hidden="true" />
          Restart required: {restartReasonText(agent.restartReasons)} since the container was created.
        </p>
      ) : null}

      {/* Above the card's link overlay, so the buttons stay clickable. */}
      <div className="relative z-10 mt-auto border-t pt-3 empty:hidden">
        <AgentControls agent={agent} role={role} engineDown={engineDown} describedBy={titleId} compact />
      </div>
    </article>
  );
}
