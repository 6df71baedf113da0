"use client";
import type { LucideIcon } from "lucide-react";
import Link from "next/link";
import { useEffect, useRef, type ReactNode } from "react";
import { ScrollAffordance } from "@/components/ui/scroll-row";
import { cn } from "@/lib/utils";

export interface Tab {
  href: string;
  label: string;
  icon: LucideIcon;
  active: boolean;
  /** Shown after the label (a live count). */
  badge?: ReactNode;
}

/**
 * A row of underlined tabs (one page each). On a narrow screen it scrolls sideways, with a fade
 * and a scroll button at each edge that has more, and keeps the current tab in view.
 */
export function TabNav({ label, tabs }: { label: string; tabs: Tab[] }) {
  const scroller = useRef<HTMLElement>(null);
  const activeHref = tabs.find((t) => t.active)?.href;
  useEffect(() => {
    const el = scroller.current;
    const current = el?.querySelector<HTMLElement>('[aria-current="page"]');
    if (!el || !current) return;
    // Only the row scrolls (never the page): bring the current tab fully into the row's view.
    const left = current.offsetLeft - el.offsetLeft;
    if (left < el.scrollLeft || left + current.offsetWidth > el.scrollLeft + el.clientWidth) el.scrollLeft = Math.max(0, left - 16);
  }, [activeHref]);
  return (
    <div className="relative -mb-px min-w-0">
      <nav ref={scroller} aria-label={label} className="overflow-x-auto [scrollbar-width:none] [&::-webkit-scrollbar]:hidden">
        <ul className="flex min-w-max items-center gap-1">
          {tabs.map(({ href, label: text, icon: Icon, active, badge }) => (
            <li key={href}>
              <Link
                href={href}
                aria-current={active ? "page" : undefined}
                className={cn(
                  "text-muted-foreground hover:text-foreground focus-visible:ring-ring/50 relative flex items-center gap-2 rounded-md px-3 py-3 text-sm font-medium transition-colors outline-none focus-visible:ring-[3px]",
                  "after:absolute after:inset-x-2 after:bottom-0 after:h-0.5 after:rounded-full after:content-['']",
                  active && "text-foreground after:bg-foreground",
                )}
              >
                <Icon className="size-4" aria-hidden="true" />
                {text}
                {badge}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <ScrollAffordance scroller={scroller} label={`${label} tabs`} />
    </div>
  );
}
