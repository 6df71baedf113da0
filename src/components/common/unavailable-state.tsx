import type { LucideIcon } from "lucide-react";
import { cn } from "@/lib/utils";

/** In place of a page's content that cannot be shown (not found, no access…): why, and the ways on. */
export function UnavailableState({
  icon: Icon,
  title,
  headingLevel,
  description,
  className,
  children,
}: {
  icon: LucideIcon;
  title: string;
  /** The heading's level in the page's outline. */
  headingLevel: 1 | 2;
  description: React.ReactNode;
  /** Size and spacing of the whole, for where it stands. */
  className?: string;
  /** The buttons that lead on. */
  children: React.ReactNode;
}) {
  const Heading = headingLevel === 1 ? "h1" : "h2";
  return (
    <div className={cn("flex flex-col items-center justify-center gap-5 text-center", className)}>
      <div className="bg-muted flex size-12 items-center justify-center rounded-full">
        <Icon className="text-muted-foreground size-6" aria-hidden="true" />
      </div>
      <div className="flex max-w-md flex-col gap-1.5">
        <Heading className="text-xl font-semibold tracking-tight">{title}</Heading>
        <p className="text-muted-foreground text-sm">{description}</p>
      </div>
      {children}
    </div>
  );
}
