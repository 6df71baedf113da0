"use client";
import { useQuery } from "@tanstack/react-query";
import { Copy, LayoutTemplate, Pencil, Plus } from "lucide-react";
import { useMemo, useState } from "react";
import { CardGridSkeleton } from "@/components/common/card-grid-skeleton";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { Button } from "@/components/ui/button";
import { useTRPC } from "@/lib/trpc/client";
import { roleAtLeast } from "@/server/domain/roles";
import { formatImage, formatResources, type Template } from "./format";
import { BuiltInBadge, PermissionModeBadge } from "./template-badges";
import { TemplateDetailDialog } from "./template-detail-dialog";
import { TemplateFormDialog, type TemplateFormMode } from "./template-form-dialog";

/** The project's Templates tab: built-in and project templates, details, copy, create, edit. */
export function TemplatesSection({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  const templates = useQuery(trpc.template.list.queryOptions({ projectId }));
  const canEdit = project.data ? roleAtLeast(project.data.role, "admin") : false;

  const [detailId, setDetailId] = useState<string | null>(null);
  const [form, setForm] = useState<{ mode: TemplateFormMode; key: number } | null>(null);

  const builtIns = useMemo(() => templates.data?.filter((t) => t.builtIn) ?? [], [templates.data]);
  const own = useMemo(() => templates.data?.filter((t) => !t.builtIn) ?? [], [templates.data]);
  const takenNames = useMemo(() => new Set(own.map((t) => t.name)), [own]);
  const detail = detailId ? templates.data?.find((t) => t.id === detailId) : undefined;

  function openForm(mode: TemplateFormMode) {
    setDetailId(null);
    setForm({ mode, key: Date.now() });
  }
  const onCopy = (t: Template) => openForm({ kind: "copy", source: t });
  const onEdit = (t: Template) => openForm({ kind: "edit", template: t });

  return (
    <section aria-labelledby="templates-title" className="flex flex-col gap-8">
      <div className="flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
        <div className="flex max-w-2xl flex-col gap-1">
          <h2 id="templates-title" className="text-lg font-semibold tracking-tight">
            Templates
          </h2>
          <p className="text-muted-foreground text-sm">
            What a new agent starts with: image, model, resource limits, permissions, instructions and personality.
            Built-in templates come with Armory; copy one to adapt it for this project.
          </p>
        </div>
        {canEdit ? (
          <Button onClick={() => openForm({ kind: "create" })} className="self-start sm:self-auto">
            <Plus aria-hidden="true" />
            New template
          </Button>
        ) : null}
      </div>

      {templates.isPending ? (
        <CardGridSkeleton label="Loading templates…" count={2} columns="md:grid-cols-2" />
      ) : templates.isError ? (
        <QueryErrorAlert
          title="Could not load the templates"
          error={templates.error}
          onRetry={() => void templates.refetch()}
        />
      ) : (
        <>
          <TemplateGroup
            id="templates-project"
            title="This project"
            count={own.length}
            empty={
              <EmptyProjectTemplates
                canEdit={canEdit}
                onCreate={() => openForm({ kind: "create" })}
                hasBuiltIns={builtIns.length > 0}
              />
            }
          >
            {own.map((t) => (
              <TemplateCard key={t.id} template={t} canEdit={canEdit} onOpen={setDetailId} onCopy={onCopy} onEdit={onEdit} />
            ))}
          </TemplateGroup>
          <TemplateGroup
            id="templates-built-in"
            title="Built-in"
            count={builtIns.length}
            empty={<p className="text-muted-foreground text-sm">No built-in templates are installed.</p>}
          >
            {builtIns.map((t) => (
              <TemplateCard key={t.id} template={t} canEdit={canEdit} onOpen={setDetailId} onCopy={onCopy} onEdit={onEdit} />
            ))}
          </TemplateGroup>
        </>
      )}

      {detail ? (
        <TemplateDetailDialog
          template={detail}
          open
          onOpenChange={(open) => {
            if (!open) setDetailId(null);
          }}
          canEdit={canEdit}
          onCopy={onCopy}
          onEdit={onEdit}
        />
      ) : null}
      {form && canEdit ? (
        <TemplateFormDialog
          key={form.key}
          projectId={projectId}
          mode={form.mode}
          takenNames={takenNames}
          open
          onOpenChange={(open) => {
            if (!open) setForm(null);
          }}
        />
      ) : null}
    </section>
  );
}

function TemplateGroup({
  id,
  title,
  count,
  empty,
  children,
}: {
  id: string;
  title: string;
  count: number;
  empty: React.ReactNode;
  children: React.ReactNode;
}) {
  return (
    <section aria-labelledby={id} className="flex flex-col gap-3">
      <h3 id={id} className="text-muted-foreground flex items-center gap-2 text-sm font-medium">
        {title}
        <span className="bg-muted rounded-full px-2 py-0.5 text-xs tabular-nums">{count}</span>
      </h3>
      {count ? <ul className="grid gap-4 md:grid-cols-2">{children}</ul> : empty}
    </section>
  );
}

function TemplateCard({
  template: t,
  canEdit,
  onOpen,
  onCopy,
  onEdit,
}: {
  template: Template;
  canEdit: boolean;
  onOpen: (id: string) => void;
  onCopy: (t: Template) => void;
  onEdit: (t: Template) => void;
}) {
  return (
    <li>
      <article
        aria-label={t.displayName}
        className="bg-card text-card-foreground hover:border-foreground/20 flex h-full flex-col gap-4 rounded-xl border p-5 shadow-xs transition-[border-color,box-shadow] hover:shadow-md"
      >
        <div className="flex items-start gap-3">
          <div className="bg-muted flex size-9 shrink-0 items-center justify-center rounded-lg">
            <LayoutTemplate className="text-muted-foreground size-4.5" aria-hidden="true" />
          </div>
          <div className="min-w-0 flex-1">
            <h4 className="truncate leading-tight font-semibold">
              <button
                type="button"
                onClick={() => onOpen(t.id)}
                className="focus-visible:ring-ring/50 rounded-sm text-left outline-none hover:underline focus-visible:ring-[3px]"
              >
                {t.displayName}
              </button>
            </h4>
            <p className="text-muted-foreground mt-1 truncate font-mono text-xs">{t.name}</p>
          </div>
          {t.builtIn ? <BuiltInBadge /> : null}
        </div>

        <p className="text-muted-foreground line-clamp-2 min-h-10 text-sm">
          {t.description || <span className="italic">No description</span>}
        </p>

        <dl className="grid grid-cols-[5.5rem_1fr] gap-x-3 gap-y-1.5 text-sm">
          <dt className="text-muted-foreground">Image</dt>
          <dd className="min-w-0 truncate" title={t.image}>
            {t.image === "default" ? formatImage(t.image) : <span className="font-mono text-xs">{t.image}</span>}
          </dd>
          <dt className="text-muted-foreground">Model</dt>
          <dd className="min-w-0 truncate font-mono text-xs leading-5">{t.model}</dd>
          <dt className="text-muted-foreground">Resources</dt>
          <dd className="min-w-0">{formatResources(t)}</dd>
          <dt className="text-muted-foreground">Permissions</dt>
          <dd>
            <PermissionModeBadge mode={t.permissionMode} />
          </dd>
        </dl>

        <div className="mt-auto flex flex-wrap items-center gap-2 border-t pt-3">
          <Button variant="ghost" size="sm" onClick={() => onOpen(t.id)} aria-label={`Details of ${t.displayName}`}>
            Details
          </Button>
          {canEdit ? (
            t.builtIn ? (
              <Button variant="outline" size="sm" className="ml-auto" onClick={() => onCopy(t)} aria-label={`Copy to project: ${t.displayName}`}>
                <Copy aria-hidden="true" />
                Copy to project
              </Button>
            ) : (
              <Button variant="outline" size="sm" className="ml-auto" onClick={() => onEdit(t)} aria-label={`Edit ${t.displayName}`}>
                <Pencil aria-hidden="true" />
                Edit
              </Button>
            )
          ) : null}
        </div>
      </article>
    </li>
  );
}

function EmptyProjectTemplates({
  canEdit,
  onCreate,
  hasBuiltIns,
}: {
  canEdit: boolean;
  onCreate: () => void;
  hasBuiltIns: boolean;
}) {
  return (
    <div className="flex flex-col items-center gap-3 rounded-xl border border-dashed px-6 py-10 text-center">
      <div className="bg-muted flex size-10 items-center justify-center rounded-full">
        <LayoutTemplate className="text-muted-foreground size-5" aria-hidden="true" />
      </div>
      <div className="flex max-w-md flex-col gap-1">
        <p className="text-sm font-medium">No project templates yet</p>
        <p className="text-muted-foreground text-sm">
          {canEdit
            ? hasBuiltIns
              ? "Agents can use the built-in templates below. Copy one to adapt it, or create a template from scratch."
              : "Create a template to give this project's agents their image, model, limits and instructions."
            : "Agents can use the built-in templates below. Owners and admins can add templates for this project."}
        </p>
      </div>
      {canEdit ? (
        <Button variant="outline" size="sm" onClick={onCreate}>
          <Plus aria-hidden="true" />
          New template
        </Button>
      ) : null}
    </div>
  );
}
