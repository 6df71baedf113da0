"use client";
import type { LucideIcon } from "lucide-react";
import Link from "next/link";
import { cn } from "@/lib/utils";

export interface Tab {
  href: string;
  label: string;
  icon: LucideIcon;
  active: boolean;
}

/** A row of underlined tabs (one page each); scrolls sideways on narrow screens. */
export function TabNav({ label, tabs }: { label: string; tabs: Tab[] }) {
  return (
    <nav aria-label={label} className="-mb-px overflow-x-auto [scrollbar-width:none]">
      <ul className="flex min-w-max items-center gap-1">
        {tabs.map(({ href, label: text, icon: Icon, active }) => (
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
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
