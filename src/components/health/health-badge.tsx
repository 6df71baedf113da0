"use client";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/lib/utils";
import type { HealthState } from "@/server/health/states";
import { HEALTH_LABELS } from "./health-format";

const TONE: Record<string, string> = {
  green: "border-emerald-500/30 bg-emerald-500/10 text-emerald-700 dark:text-emerald-300",
  amber: "border-amber-500/30 bg-amber-500/10 text-amber-700 dark:text-amber-300",
  grey: "border-border bg-muted text-muted-foreground",
  red: "border-red-500/30 bg-red-500/10 text-red-700 dark:text-red-300",
};

/** Health as a badge: healthy green, starting amber, unhealthy / down / OOM / crash loop red. */
export function HealthBadge({ health, detail, className }: { health: HealthState; detail?: string | null; className?: string }) {
  const { label, tone } = HEALTH_LABELS[health];
  return (
    <Badge variant="outline" data-testid="agent-health" data-health={health} title={detail ?? undefined} className={cn(TONE[tone], className)}>
      {label}
    </Badge>
  );
}
