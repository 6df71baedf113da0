"use client";
import { useQuery } from "@tanstack/react-query";
import type { LucideIcon } from "lucide-react";
import { Archive, ArrowLeft, Bot, CalendarClock, ChartLine, FileQuestion, FolderTree, GitCompare, MessagesSquare, RotateCw, ScrollText, Settings, SquareTerminal, Webhook } from "lucide-react";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { AgentControls } from "@/components/agents/agent-controls";
import { AGENT_TABS, isAgentTab, type AgentTab } from "@/components/agents/agent-format";
import { EngineBanner, AgentStatusBadge, AgentStatusDetail, AgentUptime, DaemonIndicator, LiveIndicator } from "@/components/agents/agent-status";
import { AgentSettings } from "@/components/agents/agent-settings";
import { FileBrowser } from "@/components/files/file-browser";
import { ChatPanel } from "@/components/chat/chat-panel";
import { TerminalPanel } from "@/components/terminal/terminal-panel";
import { roleAllows } from "@/server/domain/agent-permissions";
import { useAgentStatus } from "@/components/agents/use-agent-status";
import { MetricsPanel } from "@/components/health/metrics-panel";
import { LogsPanel } from "@/components/logs/logs-panel";
import { AgentWebhooks } from "@/components/hooks/agent-webhooks";
import { SchedulesPanel } from "@/components/schedules/schedules-panel";
import { SnapshotsPanel } from "@/components/snapshots/snapshots-panel";
import { roleAtLeast } from "@/server/domain/roles";
import { ChangesPanel } from "@/components/agents/changes/changes-panel";
import { RepositoryStatus } from "@/components/agents/changes/repository-status";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { UnavailableState } from "@/components/common/unavailable-state";
import { apiErrorCode } from "@/components/projects/project-form";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { useTRPC } from "@/lib/trpc/client";
import { restartReasonText } from "@/components/versions/restart-reasons";

const TAB_META: Record<AgentTab, { label: string; icon: LucideIcon }> = {
  chat: { label: "Chat", icon: MessagesSquare },
  files: { label: "Files", icon: FolderTree },
  changes: { label: "Changes", icon: GitCompare },
  terminal: { label: "Terminal", icon: SquareTerminal },
  logs: { label: "Logs", icon: ScrollText },
  metrics: { label: "Metrics", icon: ChartLine },
  webhooks: { label: "Webhooks", icon: Webhook },
  schedules: { label: "Schedules", icon: CalendarClock },
  snapshots: { label: "Snapshots", icon: Archive },
  settings: { label: "Settings", icon: Settings },
};

/** One agent: live header with controls, and its Chat / Files / Terminal / Logs / Metrics / Schedules / Settings tabs. */
export function AgentDetail({
  projectId,
  agentId,
  initialTab = "chat",
}: {
  projectId: string;
  agentId: string;
  initialTab?: AgentTab;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  const agent = useQuery(trpc.agent.get.queryOptions({ projectId, agentId }));
  const { engine, connection } = useAgentStatus({ projectId, agentId, enabled: !!agent.data && !agent.isError });
  const [tab, setTab] = useState<AgentTab>(initialTab);
  // The terminal opens on the first visit to its tab and then stays open (hidden) while the page
  // is, so switching to another tab and back keeps the shell.
  const [terminalVisited, setTerminalVisited] = useState(initialTab === "terminal");
  // A link to this page naming another tab (or none: ?session=<id> from the Schedules tab opens
  // the Chat) shows that tab; the page keeps this component across such navigations.
  const tabParam = useSearchParams()?.get("tab") ?? null;
  const [seenTabParam, setSeenTabParam] = useState(tabParam);
  if (tabParam !== seenTabParam) {
    setSeenTabParam(tabParam);
    const next = isAgentTab(tabParam) ? tabParam : "chat";
    setTab(next);
    if (next === "terminal") setTerminalVisited(true);
  }
  const agentsHref = `/projects/${projectId}/agents`;

  if (!project.data) return null; // the project shell shows loading and error states

  if (agent.isError) {
    const code = apiErrorCode(agent.error);
    if (code === "NOT_FOUND" || code === "BAD_REQUEST") return <AgentNotFound agentsHref={agentsHref} />;
    return (
      <div className="flex flex-col gap-6">
        <BackLink href={agentsHref} />
        <QueryErrorAlert title="Could not load this agent" error={agent.error} onRetry={() => void agent.refetch()} />
      </div>
    );
  }

  if (!agent.data) return <DetailSkeleton agentsHref={agentsHref} />;
  const a = agent.data;
  const role = project.data.role;

  function changeTab(value: string) {
    if (!isAgentTab(value)) return;
    setTab(value);
    if (value === "terminal") setTerminalVisited(true);
    // Keep the tab in the address (shareable, survives a reload) without a navigation.
    const url = new URL(window.location.href);
    if (value === "chat") url.searchParams.delete("tab");
    else url.searchParams.set("tab", value);
    window.history.replaceState(null, "", url);
  }

  return (
    <div className="flex flex-col gap-6">
      <BackLink href={agentsHref} />

      <header className="flex flex-col gap-4 lg:flex-row lg:items-start lg:justify-between">
        <div className="flex min-w-0 items-start gap-3">
          <span
            aria-hidden="true"
            className="bg-muted text-muted-foreground flex size-10 shrink-0 items-center justify-center rounded-lg"
          >
            <Bot className="size-5" />
          </span>
          <div className="flex min-w-0 flex-col gap-1">
            <div className="flex flex-wrap items-center gap-2">
              <h2 id="agent-name" className="truncate font-mono text-lg font-semibold tracking-tight">
                {a.name}
              </h2>
              <AgentStatusBadge agent={a} />
              {a.restartRequired ? (
                <Badge
                  variant="outline"
                  className="border-amber-500/30 bg-amber-500/10 text-amber-700 dark:text-amber-300"
                  title={`Since the container was created, ${restartReasonText(a.restartReasons)}; the Settings tab re-creates it`}
                >
                  <RotateCw aria-hidden="true" />
                  Restart required
                </Badge>
              ) : null}
              <LiveIndicator connection={connection} />
            </div>
            <p className="text-muted-foreground text-sm">
              {a.templateName} · <span title={a.image}>v{a.version}</span> · <span className="font-mono">{a.model}</span>{" "}
              · <AgentUptime agent={a} />
              {a.observedState === "running" ? (
                <>
                  {" "}
                  · <DaemonIndicator agent={a} />
                </>
              ) : null}
            </p>
            <AgentStatusDetail agent={a} />
            <RepositoryStatus projectId={projectId} agentId={agentId} repository={a.repository} canRetry={roleAllows(role, "file_write")} />
          </div>
        </div>
        <AgentControls
          agent={a}
          role={role}
          engineDown={engine?.state === "down"}
          size="default"
          describedBy="agent-name"
          confirmStop
          className="lg:flex-nowrap lg:[&>button:last-of-type]:ml-2"
          onRemoved={() => router.push(agentsHref)}
        />
      </header>

      <EngineBanner engine={engine} />

      <Tabs value={tab} onValueChange={changeTab} className="gap-6">
        <TabsList aria-label="Agent" className="w-full justify-start overflow-x-auto sm:w-fit">
          {AGENT_TABS.map((value) => {
            const { label, icon: Icon } = TAB_META[value];
            return (
              <TabsTrigger key={value} value={value} className="flex-none px-3">
                <Icon aria-hidden="true" />
                {label}
              </TabsTrigger>
            );
          })}
        </TabsList>
        <TabsContent value="chat">
          <ChatPanel projectId={projectId} agentId={agentId} agentName={a.name} observedState={a.observedState} canChat={roleAllows(role, "chat")} />
        </TabsContent>
        <TabsContent value="files">
          <FileBrowser projectId={projectId} agentId={agentId} role={role} running={a.observedState === "running"} />
          <Link href={`/projects/${projectId}/agents/${agentId}/files`} className="text-muted-foreground hover:text-foreground mt-2 inline-block text-xs underline">
            Open the full-page editor
          </Link>
        </TabsContent>
        <TabsContent value="changes">
          <ChangesPanel projectId={projectId} agentId={agentId} canWrite={roleAllows(role, "file_write")} canChat={roleAllows(role, "chat")} />
        </TabsContent>
        <TabsContent value="terminal" forceMount className="data-[state=inactive]:hidden">
          {terminalVisited ? (
            <TerminalPanel
              projectId={projectId}
              agentId={agentId}
              agentName={a.name}
              observedState={a.observedState}
              daemonConnected={a.daemon.state === "connected"}
              canExec={roleAllows(role, "exec")}
            />
          ) : null}
        </TabsContent>
        <TabsContent value="logs">
          <LogsPanel projectId={projectId} agentId={agentId} />
        </TabsContent>
        <TabsContent value="metrics">
          <MetricsPanel projectId={projectId} agentId={agentId} role={role} />
        </TabsContent>
        <TabsContent value="webhooks">
          <AgentWebhooks projectId={projectId} agentId={agentId} canManage={roleAllows(role, "chat")} />
        </TabsContent>
        <TabsContent value="schedules">
          <SchedulesPanel projectId={projectId} agentId={agentId} canChange={roleAllows(role, "chat")} />
        </TabsContent>
        <TabsContent value="snapshots">
          <SnapshotsPanel projectId={projectId} agentId={agentId} agentState={a.observedState} canManage={roleAllows(role, "remove")} canClone={roleAtLeast(role, "admin")} />
        </TabsContent>
        <TabsContent value="settings">
          <AgentSettings agent={a} role={role} engineDown={engine?.state === "down"} />
        </TabsContent>
      </Tabs>
    </div>
  );
}

function BackLink({ href }: { href: string }) {
  return (
    <Link
      href={href}
      className="text-muted-foreground hover:text-foreground focus-visible:ring-ring/50 -ml-1 inline-flex w-fit items-center gap-1.5 rounded-md px-1 text-sm outline-none focus-visible:ring-[3px]"
    >
      <ArrowLeft className="size-4" aria-hidden="true" />
      All agents
    </Link>
  );
}

function AgentNotFound({ agentsHref }: { agentsHref: string }) {
  return (
    <UnavailableState
      icon={FileQuestion}
      title="Agent not found"
      headingLevel={2}
      description="There is no agent at this address in this project. It may have been removed, or the link may be wrong."
      className="py-16"
    >
      <Button asChild>
        <Link href={agentsHref}>Back to agents</Link>
      </Button>
    </UnavailableState>
  );
}

function DetailSkeleton({ agentsHref }: { agentsHref: string }) {
  return (
    <div className="flex flex-col gap-6">
      <BackLink href={agentsHref} />
      <div aria-busy="true" className="flex items-start gap-3">
        <span className="sr-only">Loading agent…</span>
        <Skeleton className="size-10 rounded-lg" />
        <div className="flex flex-col gap-2">
          <Skeleton className="h-6 w-48" />
          <Skeleton className="h-3.5 w-72" />
        </div>
      </div>
      <Skeleton className="h-9 w-80" />
      <Skeleton className="h-64 w-full rounded-xl" />
    </div>
  );
}
