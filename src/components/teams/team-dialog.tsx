"use client";
// Create or edit a team: name, description, the router (keyword rules, a model choosing from the
// members' descriptions, or keyword first then the model), the model it asks, the fallback agent,
// and the members: each an agent of the project, what it is for, and its keyword rules (one per
// line: a word or phrase, or /regex/flags).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Loader2, Plus, X } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { SelectField } from "@/components/agents/form-controls";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { compileRule, DEFAULT_TEAM_MODEL, TEAM_ROUTERS, type TeamRouterKind, type TeamView } from "@/contracts/teams";
import { errorMessage, useTRPC } from "@/lib/trpc/client";

export const ROUTER_LABELS: Record<TeamRouterKind, string> = {
  keyword: "Keyword rules",
  llm: "A model chooses",
  hybrid: "Keywords, then a model",
};

interface MemberRow {
  key: number;
  agentId: string;
  description: string;
  keywords: string;
}
interface FormState {
  name: string;
  description: string;
  router: TeamRouterKind;
  model: string;
  fallbackAgentId: string;
  members: MemberRow[];
}

let rowKey = 0;
const row = (m?: Partial<MemberRow>): MemberRow => ({ key: ++rowKey, agentId: "", description: "", keywords: "", ...m });

function initial(t: TeamView | null): FormState {
  return {
    name: t?.name ?? "",
    description: t?.description ?? "",
    router: t?.router ?? "keyword",
    model: t?.model ?? DEFAULT_TEAM_MODEL,
    fallbackAgentId: t?.fallbackAgentId ?? "",
    members: t ? t.members.map((m) => row({ agentId: m.agentId, description: m.description, keywords: m.keywords.join("\n") })) : [row()],
  };
}

const rulesOf = (text: string) => text.split("\n").map((l) => l.trim()).filter(Boolean);

function problems(f: FormState) {
  const out: { name?: string; model?: string; members?: string; rows: Record<number, string> } = { rows: {} };
  if (!f.name.trim()) out.name = "A team needs a name";
  if (f.router !== "keyword" && !f.model.trim()) out.model = "The model the router asks";
  if (!f.members.length) out.members = "A team needs at least one member";
  const seen = new Set<string>();
  for (const m of f.members) {
    if (!m.agentId) out.rows[m.key] = "Choose an agent";
    else if (seen.has(m.agentId)) out.rows[m.key] = "This agent is in the team already";
    seen.add(m.agentId);
    for (const r of rulesOf(m.keywords)) {
      const c = compileRule(r);
      if ("error" in c) out.rows[m.key] = c.error;
    }
  }
  return out;
}

export function TeamDialog({
  projectId,
  team,
  open,
  onOpenChange,
}: {
  projectId: string;
  /** null: a new team. */
  team: TeamView | null;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const agents = useQuery({ ...trpc.agent.list.queryOptions({ projectId }), enabled: open });
  const [form, setForm] = useState<FormState>(() => initial(team));
  const [touched, setTouched] = useState(false);
  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));
  const setRow = (key: number, patch: Partial<MemberRow>) => set({ members: form.members.map((m) => (m.key === key ? { ...m, ...patch } : m)) });
  const found = problems(form);
  const invalid = !!(found.name || found.model || found.members || Object.keys(found.rows).length);

  const done = async (verb: string) => {
    await queryClient.invalidateQueries({ queryKey: trpc.team.list.queryKey({ projectId }) });
    if (team) await queryClient.invalidateQueries({ queryKey: trpc.team.get.queryKey({ projectId, teamId: team.id }) });
    toast.success(`Team ${form.name.trim()} ${verb}`);
    onOpenChange(false);
  };
  const create = useMutation(trpc.team.create.mutationOptions({ onSuccess: () => done("created") }));
  const update = useMutation(trpc.team.update.mutationOptions({ onSuccess: () => done("saved") }));
  const pending = create.isPending || update.isPending;
  const serverError = create.error ?? update.error;

  function submit(e: React.FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (invalid || pending) return;
    const body = {
      projectId,
      name: form.name.trim(),
      description: form.description.trim(),
      router: form.router,
      model: form.model.trim() || DEFAULT_TEAM_MODEL,
      fallbackAgentId: form.fallbackAgentId || null,
      members: form.members.map((m) => ({ agentId: m.agentId, description: m.description.trim(), keywords: rulesOf(m.keywords) })),
    };
    if (team) update.mutate({ ...body, teamId: team.id });
    else create.mutate(body);
  }

  const list = agents.data ?? [];
  return (
    <Dialog open={open} onOpenChange={(next) => !pending && onOpenChange(next)}>
      <DialogContent className="max-h-[90dvh] overflow-y-auto sm:max-w-2xl">
        <DialogHeader>
          <DialogTitle>{team ? `Edit ${team.name}` : "New team"}</DialogTitle>
          <DialogDescription>Each message sent to the team goes to one member, chosen by the router; the team chat shows why.</DialogDescription>
        </DialogHeader>
        <form id="team-form" onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label={team ? "Edit team" : "New team"}>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="team-name">Name</Label>
            <Input id="team-name" value={form.name} onChange={(e) => set({ name: e.target.value })} aria-invalid={touched && !!found.name} autoComplete="off" maxLength={100} />
            {touched && found.name ? <p className="text-destructive text-xs">{found.name}</p> : null}
          </div>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="team-description">Description</Label>
            <Input id="team-description" value={form.description} onChange={(e) => set({ description: e.target.value })} autoComplete="off" maxLength={2000} />
          </div>
          <div className="grid gap-4 sm:grid-cols-2">
            <SelectField id="team-router" label="Router" value={form.router} onChange={(e) => set({ router: e.target.value as TeamRouterKind })}>
              {TEAM_ROUTERS.map((r) => (
                <option key={r} value={r}>
                  {ROUTER_LABELS[r]}
                </option>
              ))}
            </SelectField>
            <div className="flex flex-col gap-1.5">
              <Label htmlFor="team-model">Router model</Label>
              <Input
                id="team-model"
                value={form.model}
                onChange={(e) => set({ model: e.target.value })}
                disabled={form.router === "keyword"}
                className="font-mono"
                autoComplete="off"
                spellCheck={false}
                maxLength={200}
                aria-describedby="team-model-description"
              />
              <p id="team-model-description" className="text-muted-foreground text-xs">
                Asked through Armory&apos;s model upstream{form.router === "keyword" ? " (not used by keyword rules)" : ""}.
              </p>
            </div>
          </div>
          <SelectField
            id="team-fallback"
            label="Fallback agent"
            value={form.fallbackAgentId}
            onChange={(e) => set({ fallbackAgentId: e.target.value })}
            description="Gets the message when no rule matched or the model's answer was unusable. None: such messages are refused."
          >
            <option value="">None</option>
            {list.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </SelectField>
          <fieldset className="flex flex-col gap-3">
            <legend className="mb-2 text-sm font-medium">Members</legend>
            {form.members.map((m, i) => (
              <div key={m.key} className="flex flex-col gap-2 rounded-md border p-3" data-testid="team-member-row">
                <div className="flex items-end gap-2">
                  <SelectField id={`team-member-${m.key}-agent`} label={`Member ${i + 1}`} value={m.agentId} onChange={(e) => setRow(m.key, { agentId: e.target.value })} className="flex-1">
                    <option value="">Choose an agent…</option>
                    {list.map((a) => (
                      <option key={a.id} value={a.id}>
                        {a.name}
                      </option>
                    ))}
                  </SelectField>
                  <Button type="button" variant="ghost" size="icon" aria-label={`Remove member ${i + 1}`} onClick={() => set({ members: form.members.filter((x) => x.key !== m.key) })}>
                    <X aria-hidden="true" />
                  </Button>
                </div>
                <div className="flex flex-col gap-1.5">
                  <Label htmlFor={`team-member-${m.key}-description`}>What this agent is for</Label>
                  <Input id={`team-member-${m.key}-description`} value={m.description} onChange={(e) => setRow(m.key, { description: e.target.value })} autoComplete="off" maxLength={1000} />
                </div>
                <div className="flex flex-col gap-1.5">
                  <Label htmlFor={`team-member-${m.key}-keywords`}>Keyword rules (one per line: a word or phrase, or /regex/)</Label>
                  <Textarea id={`team-member-${m.key}-keywords`} value={m.keywords} onChange={(e) => setRow(m.key, { keywords: e.target.value })} className="font-mono" rows={2} spellCheck={false} />
                </div>
                {touched && found.rows[m.key] ? <p className="text-destructive text-xs">{found.rows[m.key]}</p> : null}
              </div>
            ))}
            <Button type="button" variant="outline" size="sm" className="self-start" onClick={() => set({ members: [...form.members, row()] })}>
              <Plus aria-hidden="true" />
              Add member
            </Button>
            {touched && found.members ? <p className="text-destructive text-xs">{found.members}</p> : null}
          </fieldset>
          {serverError ? (
            <p role="alert" className="text-destructive text-sm">
              {errorMessage(serverError)}
            </p>
          ) : null}
        </form>
        <DialogFooter>
          <Button type="button" variant="outline" onClick={() => onOpenChange(false)} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" form="team-form" disabled={pending}>
            {pending ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
            {team ? "Save team" : "Create team"}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
