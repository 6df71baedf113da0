import { Lock, Package, ShieldAlert, ShieldCheck, ShieldQuestion, type LucideIcon } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/lib/utils";
import { PERMISSION_MODE_INFO, type PermissionMode } from "./format";

/** Marks a template that comes from templates/*.yaml (read-only here). */
export function BuiltInBadge({ className }: { className?: string }) {
  return (
    <Badge
      variant="outline"
      className={cn("border-sky-500/30 bg-sky-500/10 text-sky-700 dark:text-sky-300", className)}
      title="Built-in: comes from Armory's templates/*.yaml and is read-only here"
    >
      <Package aria-hidden="true" />
      Built-in
    </Badge>
  );
}

export function ProjectTemplateBadge({ className }: { className?: string }) {
  return (
    <Badge variant="outline" className={cn("text-muted-foreground", className)} title="Belongs to this project">
      Project
    </Badge>
  );
}

const MODE_STYLE: Record<PermissionMode, { icon: LucideIcon; className: string }> = {
  default: { icon: ShieldCheck, className: "border-border bg-muted text-foreground" },
  acceptEdits: { icon: ShieldCheck, className: "border-emerald-500/30 bg-emerald-500/10 text-emerald-700 dark:text-emerald-300" },
  plan: { icon: Lock, className: "border-violet-500/30 bg-violet-500/10 text-violet-700 dark:text-violet-300" },
  bypassPermissions: { icon: ShieldAlert, className: "border-amber-500/40 bg-amber-500/10 text-amber-700 dark:text-amber-300" },
};

/** The permission mode an agent from this template runs with. */
export function PermissionModeBadge({ mode, className }: { mode: PermissionMode; className?: string }) {
  const info = PERMISSION_MODE_INFO[mode];
  const style = MODE_STYLE[mode] ?? { icon: ShieldQuestion, className: "" };
  const Icon = style.icon;
  return (
    <Badge variant="outline" className={cn(style.className, className)} title={info?.description}>
      <Icon aria-hidden="true" />
      {info?.label ?? mode}
    </Badge>
  );
}
