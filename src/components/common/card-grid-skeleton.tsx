import { Skeleton } from "@/components/ui/skeleton";
import { cn } from "@/lib/utils";

/** Placeholder cards for a grid of cards while it loads, announced by `label` to screen readers. */
export function CardGridSkeleton({
  label,
  count,
  columns,
  badge = false,
}: {
  /** Read out while loading, e.g. "Loading agents…". */
  label: string;
  count: number;
  /** The grid's column classes, as the loaded grid has them (e.g. "sm:grid-cols-2 lg:grid-cols-3"). */
  columns: string;
  /** A badge placeholder at the top right, where the cards show a status or role badge. */
  badge?: boolean;
}) {
  return (
    <div aria-busy="true" aria-live="polite" className={cn("grid gap-4", columns)}>
      <span className="sr-only">{label}</span>
      {Array.from({ length: count }, (_, i) => (
        <div key={i} className="flex flex-col gap-4 rounded-xl border p-5">
          <div className="flex items-start gap-3">
            <Skeleton className="size-9 rounded-lg" />
            <div className="flex flex-1 flex-col gap-2">
              <Skeleton className="h-4 w-2/3" />
              <Skeleton className="h-3 w-1/3" />
            </div>
            {badge ? <Skeleton className="h-5 w-16 rounded-md" /> : null}
          </div>
          <div className="flex flex-col gap-2">
            <Skeleton className="h-3 w-full" />
            <Skeleton className="h-3 w-4/5" />
          </div>
          <Skeleton className="mt-2 h-3 w-1/2" />
        </div>
      ))}
    </div>
  );
}
