import { Crown, Eye, Lock, ShieldCheck, Wrench } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/lib/utils";
import type { ProjectRole } from "@/server/domain/roles";

const ROLE_STYLE: Record<ProjectRole, { label: string; icon: typeof Crown; className: string }> = {
  owner: {
    label: "Owner",
    icon: Crown,
    className: "border-amber-500/30 bg-amber-500/10 text-amber-700 dark:text-amber-300",
  },
  admin: {
    label: "Admin",
    icon: ShieldCheck,
    className: "border-violet-500/30 bg-violet-500/10 text-violet-700 dark:text-violet-300",
  },
  operator: {
    label: "Operator",
    icon: Wrench,
    className: "border-sky-500/30 bg-sky-500/10 text-sky-700 dark:text-sky-300",
  },
  viewer: {
    label: "Viewer",
    icon: Eye,
    className: "border-border bg-muted text-muted-foreground",
  },
};

export function roleLabel(role: ProjectRole): string {
  return ROLE_STYLE[role].label;
}

/** The caller's role in a project. */
export function RoleBadge({ role, className }: { role: ProjectRole; className?: string }) {
  const { label, icon: Icon, className: style } = ROLE_STYLE[role];
  return (
    <Badge variant="outline" className={cn(style, className)} title={`Your role: ${label}`}>
      <Icon aria-hidden="true" />
      {label}
    </Badge>
  );
}

/** Above a form the caller may only read: that only owners and admins can change `what`, and their role. */
export function AdminOnlyNotice({ role, what }: { role: ProjectRole; what: string }) {
  return (
    <p className="bg-muted text-muted-foreground flex items-center gap-2 rounded-md px-3 py-2 text-sm">
      <Lock className="size-4 shrink-0" aria-hidden="true" />
      Only owners and admins can change {what}. Your role here is {roleLabel(role)}.
    </p>
  );
}
