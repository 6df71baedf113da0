"use client";
import { useQuery } from "@tanstack/react-query";
import { CircleCheck, CircleX, SearchCheck } from "lucide-react";
import { useState } from "react";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { roleLabel } from "@/components/projects/role-badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { useTRPC } from "@/lib/trpc/client";
import { AGENT_PERMISSIONS, type AgentPermission } from "@/server/domain/agent-permissions";
import { PROJECT_ROLES, roleAtLeast, type ProjectRole } from "@/server/domain/roles";
import { NativeSelect } from "./controls";

type Who = { kind: "me" } | { kind: "user"; id: string } | { kind: "role"; id: ProjectRole };

/** "May this caller do that to this agent?" — trust.check with the reason and the deciding grant. */
export function CheckAccess({ projectId, myRole }: { projectId: string; myRole: ProjectRole }) {
  const trpc = useTRPC();
  const isAdmin = roleAtLeast(myRole, "admin");
  const agents = useQuery(trpc.agent.list.queryOptions({ projectId }));
  const members = useQuery({ ...trpc.project.members.list.queryOptions({ projectId }), enabled: isAdmin });
  const [who, setWho] = useState<string>("me");
  const [agentId, setAgentId] = useState("");
  const [permission, setPermission] = useState<AgentPermission>("start");
  const [detail, setDetail] = useState("");
  const [asked, setAsked] = useState<null | { who: Who; agentId: string; permission: AgentPermission; detail: string }>(null);

  const parse = (v: string): Who => (v === "me" ? { kind: "me" } : v.startsWith("role:") ? { kind: "role", id: v.slice(5) as ProjectRole } : { kind: "user", id: v.slice(5) });
  const needsPath = permission === "file_read" || permission === "file_write";
  const needsImage = permission === "update_image";
  const check = useQuery({
    ...trpc.trust.check.queryOptions({
      projectId,
      agentId: asked?.agentId ?? "00000000-0000-4000-8000-000000000000",
      permission: asked?.permission ?? "inspect",
      caller: asked && asked.who.kind !== "me" ? { type: asked.who.kind, id: asked.who.id } : undefined,
      path: asked && (asked.permission === "file_read" || asked.permission === "file_write") && asked.detail ? asked.detail : undefined,
      image: asked?.permission === "update_image" && asked.detail ? asked.detail : undefined,
    }),
    enabled: !!asked,
  });

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h3>Check access</h3>
        </CardTitle>
        <CardDescription>Ask whether a caller may do something to an agent, and why.</CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        {agents.data && agents.data.length === 0 ? (
          <p className="text-muted-foreground text-sm">This project has no agents to check yet.</p>
        ) : (
          <form
            aria-label="Check access"
            className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4"
            onSubmit={(e) => {
              e.preventDefault();
              const target = agentId || agents.data?.[0]?.id;
              if (target) setAsked({ who: parse(who), agentId: target, permission, detail: detail.trim() });
            }}
          >
            <div className="flex flex-col gap-1">
              <label htmlFor="check-who" className="text-xs font-medium">Caller</label>
              <NativeSelect id="check-who" value={who} onChange={(e) => setWho(e.target.value)}>
                <option value="me">Me</option>
                {isAdmin
                  ? PROJECT_ROLES.map((r) => (
                      <option key={r} value={`role:${r}`}>Role: {roleLabel(r)}</option>
                    ))
                  : null}
                {isAdmin ? members.data?.map((m) => <option key={m.userId} value={`user:${m.userId}`}>{m.email}</option>) : null}
              </NativeSelect>
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor="check-agent" className="text-xs font-medium">Agent</label>
              <NativeSelect id="check-agent" value={agentId} onChange={(e) => setAgentId(e.target.value)}>
                {agents.data?.map((a) => (
                  <option key={a.id} value={a.id}>{a.name}</option>
                ))}
              </NativeSelect>
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor="check-permission" className="text-xs font-medium">Permission</label>
              <NativeSelect id="check-permission" value={permission} onChange={(e) => setPermission(e.target.value as AgentPermission)}>
                {AGENT_PERMISSIONS.map((p) => (
                  <option key={p} value={p}>{p}</option>
                ))}
              </NativeSelect>
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor="check-detail" className="text-xs font-medium">{needsPath ? "Path" : needsImage ? "Image" : "Path or image"}</label>
              <Input
                id="check-detail"
                placeholder={needsPath ? "/workspace/src/app.ts" : needsImage ? "armory-agent:2" : "not needed"}
                disabled={!needsPath && !needsImage}
                value={detail}
                onChange={(e) => setDetail(e.target.value)}
              />
            </div>
            <Button type="submit" size="sm" className="w-fit">
              <SearchCheck aria-hidden="true" />
              Check
            </Button>
          </form>
        )}
        {asked && check.isError ? <QueryErrorAlert title="Could not check" error={check.error} onRetry={() => void check.refetch()} /> : null}
        {asked && check.data ? (
          <div role="status" className={`flex gap-2 rounded-md border px-3 py-2 text-sm ${check.data.allowed ? "border-emerald-500/30 bg-emerald-500/10" : "border-destructive/30 bg-destructive/5"}`}>
            {check.data.allowed ? <CircleCheck className="size-4 shrink-0 text-emerald-600" aria-hidden="true" /> : <CircleX className="text-destructive size-4 shrink-0" aria-hidden="true" />}
            <div className="flex flex-col gap-0.5">
              <span className="font-medium">{check.data.allowed ? "Allowed" : "Denied"}</span>
              <span>{check.data.reason}</span>
              {check.data.grant ? <span className="text-muted-foreground text-xs">Deciding grant: {check.data.grant.description || check.data.grant.id}</span> : null}
            </div>
          </div>
        ) : null}
      </CardContent>
    </Card>
  );
}
