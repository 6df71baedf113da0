import type { LucideIcon } from "lucide-react";
import { Badge } from "@/components/ui/badge";

/** What is coming: its icon and name, what it will do, and its main points. */
export interface UnreleasedProps {
  icon: LucideIcon;
  title: string;
  description: string;
  points: string[];
}

/**
 * An honest empty state for a project section that this version of Armory does not ship yet:
 * what will appear here, and that it is not available yet.
 */
export function UnreleasedSection({ icon, title, description, points }: UnreleasedProps) {
  return (
    <section aria-labelledby="section-title" className="flex flex-col gap-6">
      <div className="flex items-center gap-3">
        <h2 id="section-title" className="text-lg font-semibold tracking-tight">
          {title}
        </h2>
        <NotAvailableBadge />
      </div>
      <UnreleasedPanel
        icon={icon}
        description={description}
        note="This is not available in this version of Armory yet."
        points={points}
      />
    </section>
  );
}

export function NotAvailableBadge() {
  return (
    <Badge variant="outline" className="text-muted-foreground">
      Not available yet
    </Badge>
  );
}

/**
 * The dashed box of something that comes in a later release: its icon, what it will do, a note
 * that it is not here yet, and its main points. With `label` it is a section of that name.
 */
export function UnreleasedPanel({
  icon: Icon,
  label,
  heading,
  description,
  note,
  points,
}: {
  icon: LucideIcon;
  label?: string;
  /** Above the description, inside the box. */
  heading?: React.ReactNode;
  description: string;
  note: string;
  points: string[];
}) {
  const Box = label ? "section" : "div";
  return (
    <Box aria-label={label} className="flex flex-col items-center gap-5 rounded-xl border border-dashed px-6 py-14 text-center">
      <div className="bg-muted flex size-12 items-center justify-center rounded-full">
        <Icon className="text-muted-foreground size-6" aria-hidden="true" />
      </div>
      <div className="flex max-w-lg flex-col gap-2">
        {heading}
        <p className="text-sm leading-relaxed">{description}</p>
        <p className="text-muted-foreground text-sm">{note}</p>
      </div>
      <ul className="text-muted-foreground grid max-w-xl gap-2 text-left text-sm sm:grid-cols-2">
        {points.map((point) => (
          <li key={point} className="flex gap-2">
            <span aria-hidden="true" className="bg-muted-foreground/50 mt-2 size-1.5 shrink-0 rounded-full" />
            {point}
          </li>
        ))}
      </ul>
    </Box>
  );
}
