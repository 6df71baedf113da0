"use client";
// The project's Teams page: each team with its router and members (their descriptions and keyword
// rules), a link to its team chat; operators create, edit, delete and import teams (a team file's YAML).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { FileUp, MessagesSquare, Pencil, Plus, Trash2, Users } from "lucide-react";
import Link from "next/link";
import { useState } from "react";
import { toast } from "sonner";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { Textarea } from "@/components/ui/textarea";
import type { TeamView } from "@/contracts/teams";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { roleAtLeast } from "@/server/domain/roles";
import { ROUTER_LABELS, TeamDialog } from "./team-dialog";

const EXAMPLE = `name: triage
router: hybrid
model: claude-haiku-4-5
fallback: generalist
members:
  - agent: reviewer
    description: Reviews pull requests and diffs
    keywords: [review, pull request, "/PR-\\\\d+/"]
`;

function ImportDialog({ projectId, open, onOpenChange }: { projectId: string; open: boolean; onOpenChange: (open: boolean) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [yaml, setYaml] = useState("");
  const run = useMutation(
    trpc.team.import.mutationOptions({
      onSuccess: async (team) => {
        await queryClient.invalidateQueries({ queryKey: trpc.team.list.queryKey({ projectId }) });
        toast.success(`Team ${team.name} imported`);
        onOpenChange(false);
      },
    }),
  );
  return (
    <Dialog open={open} onOpenChange={(next) => !run.isPending && onOpenChange(next)}>
      <DialogContent className="sm:max-w-xl">
        <DialogHeader>
          <DialogTitle>Import a team file</DialogTitle>
          <DialogDescription>Paste a team&apos;s YAML. Members and the fallback are agents of this project, by name; a team of the same name is replaced.</DialogDescription>
        </DialogHeader>
        <form
          id="team-import-form"
          className="flex flex-col gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (yaml.trim() && !run.isPending) run.mutate({ projectId, yaml });
          }}
        >
          <Label htmlFor="team-yaml">Team YAML</Label>
          <Textarea id="team-yaml" value={yaml} onChange={(e) => setYaml(e.target.value)} placeholder={EXAMPLE} rows={12} className="font-mono text-xs" spellCheck={false} />
          {run.error ? (
            <p role="alert" className="text-destructive text-sm">
              {errorMessage(run.error)}
            </p>
          ) : null}
        </form>
        <DialogFooter>
          <Button type="button" variant="outline" onClick={() => onOpenChange(false)} disabled={run.isPending}>
            Cancel
          </Button>
          <Button type="submit" form="team-import-form" disabled={!yaml.trim() || run.isPending}>
            Import
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}

function TeamCard({ projectId, team, canManage, onEdit }: { projectId: string; team: TeamView; canManage: boolean; onEdit: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation(
    trpc.team.delete.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.team.list.queryKey({ projectId }) }),
      onError: (err) => toast.error("The team was not deleted", { description: errorMessage(err) }),
    }),
  );
  return (
    <Card data-testid="team-card">
      <CardHeader>
        <CardTitle className="flex flex-wrap items-center gap-2">
          <h3>{team.name}</h3>
          <Badge variant="outline">{ROUTER_LABELS[team.router]}</Badge>
          {team.source === "yaml" ? <Badge variant="secondary">from YAML</Badge> : null}
        </CardTitle>
        {team.description ? <CardDescription>{team.description}</CardDescription> : null}
      </CardHeader>
      <CardContent className="flex flex-col gap-3">
        <ul className="flex flex-col gap-1.5 text-sm" aria-label={`Members of ${team.name}`}>
          {team.members.map((m) => (
            <li key={m.agentId}>
              <span className="font-medium">{m.agentName}</span>
              {m.description ? <span className="text-muted-foreground"> — {m.description}</span> : null}
              {m.keywords.length ? (
                <span className="ml-2 inline-flex flex-wrap gap-1 align-middle">
                  {m.keywords.map((k) => (
                    <Badge key={k} variant="outline" className="font-mono text-xs">
                      {k}
                    </Badge>
                  ))}
                </span>
              ) : null}
            </li>
          ))}
        </ul>
        <p className="text-muted-foreground text-xs">
          {team.router !== "keyword" ? <>Router model <span className="font-mono">{team.model}</span> · </> : null}
          {team.fallbackAgentName ? <>Fallback: {team.fallbackAgentName}</> : "No fallback: unmatched messages are refused"}
        </p>
        <div className="flex flex-wrap items-center gap-2">
          <Button asChild size="sm">
            <Link href={`/projects/${projectId}/teams/${team.id}`}>
              <MessagesSquare aria-hidden="true" />
              Open team chat
            </Link>
          </Button>
          {canManage ? (
            <>
              <Button size="sm" variant="outline" onClick={onEdit}>
                <Pencil aria-hidden="true" />
                Edit
              </Button>
              {confirming ? (
                <>
                  <Button size="sm" variant="destructive" disabled={remove.isPending} onClick={() => remove.mutate({ projectId, teamId: team.id })}>
                    Delete {team.name}
                  </Button>
                  <Button size="sm" variant="outline" onClick={() => setConfirming(false)}>
                    Cancel
                  </Button>
                </>
              ) : (
                <Button size="sm" variant="ghost" aria-label={`Delete team ${team.name}`} onClick={() => setConfirming(true)}>
                  <Trash2 aria-hidden="true" />
                </Button>
              )}
            </>
          ) : null}
        </div>
      </CardContent>
    </Card>
  );
}

export function ProjectTeams({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  const canManage = project.data ? roleAtLeast(project.data.role, "operator") : false;
  const list = useQuery(trpc.team.list.queryOptions({ projectId }));
  const [editing, setEditing] = useState<TeamView | "new" | null>(null);
  const [importing, setImporting] = useState(false);
  return (
    <div className="flex max-w-4xl flex-col gap-6">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <h2 className="text-xl font-semibold">Teams</h2>
          <p className="text-muted-foreground text-sm">
            A team is a set of agents and a router: each message goes to one member, chosen by keyword rules, by a model reading the
            members&apos; descriptions, or both.
          </p>
        </div>
        {canManage ? (
          <div className="flex gap-2">
            <Button variant="outline" onClick={() => setImporting(true)}>
              <FileUp aria-hidden="true" />
              Import YAML
            </Button>
            <Button onClick={() => setEditing("new")}>
              <Plus aria-hidden="true" />
              New team
            </Button>
          </div>
        ) : null}
      </div>
      {list.isPending ? <Skeleton className="h-40 w-full" /> : null}
      {list.isError ? <QueryErrorAlert title="Could not load the teams" error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.data && !list.data.length ? (
        <p className="text-muted-foreground flex items-center gap-2 text-sm">
          <Users className="size-4" aria-hidden="true" /> No teams yet.
        </p>
      ) : null}
      {list.data?.map((t) => <TeamCard key={t.id} projectId={projectId} team={t} canManage={canManage} onEdit={() => setEditing(t)} />)}
      {editing ? (
        <TeamDialog key={editing === "new" ? "new" : editing.id} projectId={projectId} team={editing === "new" ? null : editing} open onOpenChange={(open) => !open && setEditing(null)} />
      ) : null}
      {importing ? <ImportDialog projectId={projectId} open onOpenChange={setImporting} /> : null}
    </div>
  );
}
