"use client";
import { PLACEMENT_SWARM_ONLY } from "@/contracts/placement";
import { Copy, Pencil } from "lucide-react";
import type { ReactNode } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { Separator } from "@/components/ui/separator";
import { PolicySummary } from "@/components/approvals/agent-tool-policy";
import { timeAgo } from "@/lib/utils";
import { formatCpus, formatMemory, formatPids, PERMISSION_MODE_INFO, type Template } from "./format";
import { BuiltInBadge, PermissionModeBadge, ProjectTemplateBadge } from "./template-badges";

/** Everything a template holds, including its instructions and personality. */
export function TemplateDetailDialog({
  template,
  open,
  onOpenChange,
  canEdit,
  onCopy,
  onEdit,
}: {
  template: Template;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  canEdit: boolean;
  onCopy: (template: Template) => void;
  onEdit: (template: Template) => void;
}) {
  const t = template;
  const envEntries = Object.entries(t.env);

  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="flex max-h-[90vh] flex-col gap-0 p-0 sm:max-w-3xl">
        <DialogHeader className="border-b p-6 pr-12">
          <div className="flex flex-wrap items-center gap-2">
            <DialogTitle>{t.displayName}</DialogTitle>
            {t.builtIn ? <BuiltInBadge /> : <ProjectTemplateBadge />}
          </div>
          <DialogDescription className="flex flex-col gap-1">
            <span className="font-mono text-xs">{t.name}</span>
            {t.description ? <span>{t.description}</span> : null}
          </DialogDescription>
        </DialogHeader>

        {/* Focusable so the keyboard can scroll a long template (it may have no link or button inside). */}
        <div
          tabIndex={0}
          role="region"
          aria-label={`Details of ${t.displayName}`}
          className="focus-visible:ring-ring/50 flex flex-col gap-6 overflow-y-auto p-6 outline-none focus-visible:ring-[3px] focus-visible:ring-inset"
        >
          <section aria-labelledby="template-detail-runtime" className="flex flex-col gap-3">
            <SectionTitle id="template-detail-runtime">Runtime</SectionTitle>
            <dl className="grid gap-x-6 gap-y-3 text-sm sm:grid-cols-[10rem_1fr]">
              <Row label="Image">
                <span className="font-mono text-xs break-all">{t.image}</span>
                {t.image === "default" ? (
                  <span className="text-muted-foreground"> — Armory&apos;s agent image, current version</span>
                ) : null}
              </Row>
              <Row label="Model">
                <span className="font-mono text-xs">{t.model}</span>
              </Row>
              <Row label="Provider">
                {t.provider ? (
                  <span className="font-mono text-xs">{t.provider}</span>
                ) : (
                  <span className="text-muted-foreground">Armory&apos;s own model upstream</span>
                )}
              </Row>
              <Row label="Egress allowed to">
                {t.egressAllowlist.length ? (
                  <ul className="flex flex-wrap gap-1.5" aria-label="Egress allowlist">
                    {t.egressAllowlist.map((host) => (
                      <li key={host} className="bg-muted rounded px-1.5 py-0.5 font-mono text-xs">
                        {host}
                      </li>
                    ))}
                  </ul>
                ) : (
                  <span className="text-muted-foreground">No host beyond Armory&apos;s model gateway</span>
                )}
              </Row>
              <Row label="Memory">{formatMemory(t.memoryMb)}</Row>
              <Row label="CPUs">{formatCpus(t.cpus)}</Row>
              <Row label="Process limit">{formatPids(t.pidsLimit)}</Row>
              <Row label="Permission mode">
                <div className="flex flex-col items-start gap-1">
                  <PermissionModeBadge mode={t.permissionMode} />
                  <span className="text-muted-foreground text-xs">{PERMISSION_MODE_INFO[t.permissionMode]?.description}</span>
                </div>
              </Row>
              <Row label="Source">
                {t.builtIn ? (
                  <>
                    <span className="font-mono text-xs">{t.sourceFile ?? "templates/"}</span>
                    <span className="text-muted-foreground"> — read-only here; copy it to change it</span>
                  </>
                ) : (
                  "Created in this project"
                )}
              </Row>
              <Row label="Last changed">
                <time dateTime={t.updatedAt.toISOString()} title={t.updatedAt.toLocaleString()}>
                  {timeAgo(t.updatedAt)}
                </time>
              </Row>
            </dl>
          </section>

          <Separator />

          <section aria-labelledby="template-detail-tools" className="flex flex-col gap-3">
            <SectionTitle id="template-detail-tools">Allowed tools</SectionTitle>
            {t.allowedTools.length ? (
              <ul className="flex flex-wrap gap-1.5">
                {t.allowedTools.map((tool) => (
                  <li key={tool}>
                    <Badge variant="outline" className="font-mono font-normal">
                      {tool}
                    </Badge>
                  </li>
                ))}
              </ul>
            ) : (
              <Empty>No tools are pre-approved.</Empty>
            )}
          </section>

          <section aria-labelledby="template-detail-policy" className="flex flex-col gap-3">
            <SectionTitle id="template-detail-policy">Tool policy</SectionTitle>
            <PolicySummary policy={t.toolPolicy} testId="template-detail-policy-lists" />
            <p className="text-muted-foreground text-xs">Asked calls wait for a person&apos;s approval; agents may have their own policy.</p>
          </section>

          <section aria-labelledby="template-detail-env" className="flex flex-col gap-3">
            <SectionTitle id="template-detail-env">Environment</SectionTitle>
            {envEntries.length ? (
              <div tabIndex={0} role="region" aria-labelledby="template-detail-env" className="focus-visible:ring-ring/50 outline-none relative overflow-x-auto rounded-md border focus-visible:ring-[3px]">
                <table className="w-full table-fixed text-sm">
                  <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
                    <tr>
                      <th scope="col" className="w-2/5 px-3 py-2 font-medium">
                        Variable
                      </th>
                      <th scope="col" className="px-3 py-2 font-medium">
                        Value
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {envEntries.map(([key, value]) => (
                      <tr key={key} className="border-t">
                        <td className="px-3 py-1.5 font-mono text-xs break-all">{key}</td>
                        <td className="px-3 py-1.5 font-mono text-xs break-all">{value}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <Empty>No environment variables.</Empty>
            )}
          </section>

          <section aria-labelledby="template-detail-volumes" className="flex flex-col gap-3">
            <SectionTitle id="template-detail-volumes">Extra volumes</SectionTitle>
            {t.volumes.length ? (
              <ul className="flex flex-col gap-1 text-sm">
                {t.volumes.map((v) => (
                  <li key={v.name} className="font-mono text-xs">
                    {v.name} → {v.mountPath}
                  </li>
                ))}
              </ul>
            ) : (
              <Empty>None. Every agent gets its own /workspace and Claude session volumes.</Empty>
            )}
          </section>

          <section aria-labelledby="template-detail-placement" className="flex flex-col gap-3">
            <SectionTitle id="template-detail-placement">Placement</SectionTitle>
            {t.placement.constraints.length ? (
              <ul className="flex flex-col gap-1 text-sm">
                {t.placement.constraints.map((c) => (
                  <li key={c} className="font-mono text-xs">
                    {c}
                  </li>
                ))}
              </ul>
            ) : (
              <Empty>No constraints: any node the instance allows.</Empty>
            )}
            <p className="text-muted-foreground text-xs">{PLACEMENT_SWARM_ONLY}</p>
          </section>

          <Separator />

          <TextBlock id="template-detail-instructions" title="Instructions (CLAUDE.md)" text={t.instructions} />
          <TextBlock id="template-detail-personality" title="Personality (system prompt)" text={t.personality} />
        </div>

        <DialogFooter className="border-t p-4">
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            Close
          </Button>
          {canEdit ? (
            t.builtIn ? (
              <Button onClick={() => onCopy(t)}>
                <Copy aria-hidden="true" />
                Copy to project
              </Button>
            ) : (
              <Button onClick={() => onEdit(t)}>
                <Pencil aria-hidden="true" />
                Edit template
              </Button>
            )
          ) : null}
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}

function SectionTitle({ id, children }: { id: string; children: ReactNode }) {
  return (
    <h3 id={id} className="text-sm font-semibold">
      {children}
    </h3>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="min-w-0">{children}</dd>
    </>
  );
}

function Empty({ children }: { children: ReactNode }) {
  return <p className="text-muted-foreground text-sm">{children}</p>;
}

function TextBlock({ id, title, text }: { id: string; title: string; text: string }) {
  return (
    <section aria-labelledby={id} className="flex flex-col gap-3">
      <SectionTitle id={id}>{title}</SectionTitle>
      {text.trim() ? (
        <pre
          tabIndex={0}
          aria-labelledby={id}
          className="bg-muted/40 focus-visible:ring-ring/50 outline-none focus-visible:ring-[3px] max-h-80 overflow-auto rounded-md border p-3 font-mono text-xs leading-relaxed whitespace-pre-wrap"
        >
          {text}
        </pre>
      ) : (
        <Empty>Empty.</Empty>
      )}
    </section>
  );
}
