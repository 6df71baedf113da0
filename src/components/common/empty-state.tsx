import type { LucideIcon } from "lucide-react";
import { Plus } from "lucide-react";
import { Button } from "@/components/ui/button";

/** A list with nothing in it yet: an icon, a titled explanation and, where allowed, the create button. */
export function EmptyState({
  id,
  icon: Icon,
  title,
  headingLevel,
  description,
  action,
}: {
  /** The heading's id; the section is labelled by it. */
  id: string;
  icon: LucideIcon;
  title: string;
  /** The heading's level in the page's outline. */
  headingLevel: 2 | 3;
  description: React.ReactNode;
  /** The "Create your first …" button; left out when the person may not create. */
  action?: { label: string; onClick: () => void } | null;
}) {
  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <section
      aria-labelledby={id}
      className="flex flex-col items-center justify-center gap-4 rounded-xl border border-dashed px-6 py-16 text-center"
    >
      <div className="bg-muted flex size-12 items-center justify-center rounded-full">
        <Icon className="text-muted-foreground size-6" aria-hidden="true" />
      </div>
      <div className="flex max-w-md flex-col gap-1.5">
        <Heading id={id} className="text-lg font-semibold">
          {title}
        </Heading>
        <p className="text-muted-foreground text-sm">{description}</p>
      </div>
      {action ? (
        <Button onClick={action.onClick} variant="outline">
          <Plus aria-hidden="true" />
          {action.label}
        </Button>
      ) : null}
    </section>
  );
}
