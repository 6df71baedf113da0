"use client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { Check, ScrollText } from "lucide-react";
import { useState } from "react";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { AdminOnlyNotice } from "@/components/projects/role-badge";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { useTRPC } from "@/lib/trpc/client";
import type { AppRouter } from "@/server/api/root";
import { roleAtLeast } from "@/server/domain/roles";
import { fullTime, NativeSelect, relative } from "./controls";

type Entry = inferRouterOutputs<AppRouter>["audit"]["list"]["items"][number];

interface Filters {
  caller: string;
  target: string;
  action: string;
  allowed: "" | "true" | "false";
  from: string;
  to: string;
}
const EMPTY: Filters = { caller: "", target: "", action: "", allowed: "", from: "", to: "" };

type View = "changes" | "reads" | "all";
const VIEWS: { value: View; label: string; hint: string }[] = [
  { value: "changes", label: "Changes and denials", hint: "Every change and every refused call" },
  { value: "reads", label: "Reads", hint: "Allowed reads; repeated reads by one caller of one agent are folded" },
  { value: "all", label: "Everything", hint: "Changes, denials and folded reads" },
];

/**
 * The project's audit log (admins): opens on changes and denials; reads are one click away, folded
 * by the server (same caller, same agent, close together) so paging stays exact. Newest first,
 * live, "Load older" paging.
 */
export function AuditLog({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [view, setView] = useState<View>("changes");
  const canRead = !!project.data && roleAtLeast(project.data.role, "admin");
  const input = {
    projectId,
    limit: 50,
    show: view,
    caller: filters.caller || undefined,
    target: filters.target || undefined,
    action: filters.action || undefined,
    allowed: filters.allowed === "" ? undefined : filters.allowed === "true",
    from: filters.from ? new Date(filters.from) : undefined,
    to: filters.to ? new Date(filters.to) : undefined,
  };
  const log = useInfiniteQuery({
    ...trpc.audit.list.infiniteQueryOptions(input, { getNextPageParam: (last) => last.nextCursor ?? undefined }),
    enabled: canRead,
    // New entries appear on their own.
    refetchInterval: 5_000,
  });

  if (!project.data) return null;
  const entries = log.data?.pages.flatMap((p) => p.items) ?? [];
  const set = (k: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setDraft((d) => ({ ...d, [k]: e.target.value }));

  return (
    <section aria-labelledby="audit-title" className="flex flex-col gap-5">
      <div className="flex flex-col gap-1">
        <h2 id="audit-title" className="text-lg font-semibold tracking-tight">Audit log</h2>
        <p className="text-muted-foreground text-sm">
          Every change, every permission decision and every refused call in this project: who, what, on which agent,
          allowed or denied, and why. Opens on changes and denials; reads are one click away.
        </p>
      </div>
      {!canRead ? (
        <AdminOnlyNotice role={project.data.role} what="nothing here, and only they can read the audit log" />
      ) : (
        <>
          <div role="group" aria-label="Show" className="flex flex-wrap items-center gap-2">
            {VIEWS.map((v) => (
              <Button
                key={v.value}
                type="button"
                size="sm"
                variant={view === v.value ? "default" : "outline"}
                aria-pressed={view === v.value}
                title={v.hint}
                onClick={() => setView(v.value)}
              >
                {view === v.value ? <Check aria-hidden="true" /> : null}
                {v.label}
              </Button>
            ))}
          </div>
          <form
            aria-label="Audit filters"
            className="grid gap-3 sm:grid-cols-3 lg:grid-cols-6"
            onSubmit={(e) => {
              e.preventDefault();
              setFilters(draft);
            }}
          >
            <FilterInput id="audit-caller" label="Caller" placeholder="email or token prefix" value={draft.caller} onChange={set("caller")} />
            <FilterInput id="audit-target" label="Target agent" placeholder="name or id" value={draft.target} onChange={set("target")} />
            <FilterInput id="audit-action" label="Action" placeholder="agent.stop or agent." value={draft.action} onChange={set("action")} />
            <div className="flex flex-col gap-1">
              <label htmlFor="audit-allowed" className="text-xs font-medium">Decision</label>
              <NativeSelect id="audit-allowed" value={draft.allowed} onChange={set("allowed")}>
                <option value="">Any</option>
                <option value="true">Allowed</option>
                <option value="false">Denied</option>
              </NativeSelect>
            </div>
            <FilterInput id="audit-from" label="From" type="datetime-local" value={draft.from} onChange={set("from")} />
            <FilterInput id="audit-to" label="To" type="datetime-local" value={draft.to} onChange={set("to")} />
            <div className="flex gap-2 sm:col-span-3 lg:col-span-6">
              <Button type="submit" size="sm">Apply filters</Button>
              <Button type="button" size="sm" variant="outline" onClick={() => (setDraft(EMPTY), setFilters(EMPTY))}>Clear</Button>
            </div>
          </form>

          {log.isPending ? (
            <div className="flex flex-col gap-2" aria-label="Loading the audit log">
              <Skeleton className="h-10 w-full" />
              <Skeleton className="h-10 w-full" />
              <Skeleton className="h-10 w-full" />
            </div>
          ) : log.isError ? (
            <QueryErrorAlert title="Could not load the audit log" error={log.error} onRetry={() => void log.refetch()} />
          ) : entries.length === 0 ? (
            <div className="text-muted-foreground flex flex-col items-center gap-2 rounded-xl border border-dashed px-6 py-12 text-center text-sm">
              <ScrollText className="size-6" aria-hidden="true" />
              {filters !== EMPTY
                ? "No entries match these filters."
                : view === "changes"
                  ? "No changes or denials yet. Reads are under “Reads”."
                  : "Nothing recorded yet."}
            </div>
          ) : (
            // Focusable: the table scrolls sideways on narrow screens, and keyboards must reach it.
            <div className="overflow-x-auto rounded-md border" role="region" aria-label="Audit entries, scrollable" tabIndex={0}>
              <table className="w-full text-left text-sm" aria-label="Audit entries">
                <thead className="bg-muted/50 text-muted-foreground text-xs">
                  <tr>
                    <th className="px-3 py-2 font-medium">When</th>
                    <th className="px-3 py-2 font-medium">Caller</th>
                    <th className="px-3 py-2 font-medium">Action</th>
                    <th className="px-3 py-2 font-medium">Target</th>
                    <th className="px-3 py-2 font-medium">Decision</th>
                    <th className="px-3 py-2 font-medium">Reason</th>
                    <th className="px-3 py-2 font-medium">From</th>
                  </tr>
                </thead>
                <tbody className="divide-y">
                  {entries.map((e) => (
                    <AuditRow key={e.id} entry={e} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {log.hasNextPage ? (
            <Button variant="outline" className="self-center" disabled={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
              {log.isFetchingNextPage ? "Loading…" : "Load older entries"}
            </Button>
          ) : null}
        </>
      )}
    </section>
  );
}

function FilterInput({ id, label, ...props }: { id: string; label: string } & React.ComponentProps<typeof Input>) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-xs font-medium">{label}</label>
      <Input id={id} {...props} />
    </div>
  );
}

function AuditRow({ entry: e }: { entry: Entry }) {
  const target = [e.agentName ?? e.agentId, e.filePath, e.image].filter(Boolean).join(" · ");
  const folded = e.count > 1;
  return (
    <tr className="align-top" data-testid="audit-row" data-count={e.count}>
      <td className="px-3 py-2 whitespace-nowrap">
        <time dateTime={e.at.toISOString()} title={fullTime(e.at)}>{relative(e.at)}</time>
        {folded ? (
          <div className="text-muted-foreground text-xs" title={`${fullTime(e.firstAt)} – ${fullTime(e.at)}`}>
            first {relative(e.firstAt)}
          </div>
        ) : null}
      </td>
      <td className="px-3 py-2">
        <div className="flex flex-col">
          <span>{e.userEmail ?? "anonymous"}</span>
          {e.tokenPrefix ? <span className="text-muted-foreground font-mono text-xs">token arm_{e.tokenPrefix}</span> : null}
        </div>
      </td>
      <td className="px-3 py-2">
        <div className="flex flex-col items-start gap-0.5">
          {folded ? (
            <>
              <Badge variant="secondary" className="font-normal" data-testid="audit-fold">
                {e.count} reads
              </Badge>
              <code className="text-xs">{e.actions.slice(0, 3).join(", ")}{e.actions.length > 3 ? ` +${e.actions.length - 3}` : ""}</code>
            </>
          ) : (
            <>
              <code className="text-xs">{e.action}</code>
              <span className="text-muted-foreground text-xs">{e.permission ?? e.type}</span>
            </>
          )}
        </div>
      </td>
      <td className="px-3 py-2 text-xs break-all">{target || "—"}</td>
      <td className="px-3 py-2">
        {e.allowed ? (
          <Badge variant="outline" className="border-emerald-500/30 bg-emerald-500/10 text-emerald-700 dark:text-emerald-300">Allowed</Badge>
        ) : (
          <Badge variant="outline" className="border-destructive/40 text-destructive">Denied</Badge>
        )}
        {e.outcome !== "ok" ? <div className="text-muted-foreground mt-1 text-xs">{e.outcome}</div> : null}
      </td>
      <td className="max-w-sm px-3 py-2 text-xs">{e.reason}</td>
      <td className="text-muted-foreground px-3 py-2 text-xs" title={e.userAgent ?? undefined}>
        {e.ip ?? "—"}
        <div className="font-mono">{e.requestId.slice(0, 8)}</div>
      </td>
    </tr>
  );
}
