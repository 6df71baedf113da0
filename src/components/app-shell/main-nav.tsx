"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useRef } from "react";
import { ScrollAffordance } from "@/components/ui/scroll-row";
import { cn } from "@/lib/utils";

const LINKS = [
  { href: "/", label: "Projects", active: (p: string) => p === "/" || p.startsWith("/projects") },
  { href: "/agents", label: "Agents", active: (p: string) => p.startsWith("/agents") },
];

/** Only the instance admin's nav shows it (the pages check for themselves). */
const ADMIN_LINK = { href: "/admin/users", label: "Admin", active: (p: string) => p.startsWith("/admin") };

/** The app's top-level sections; on a screen too narrow for them, the row scrolls with a visible affordance. */
export function MainNav({ isAdmin = false }: { isAdmin?: boolean }) {
  const pathname = usePathname() ?? "/";
  const scroller = useRef<HTMLElement>(null);
  return (
    <div className="relative flex min-w-0">
      <nav
        ref={scroller}
        aria-label="Main"
        className="flex min-w-0 items-center gap-1 overflow-x-auto text-sm [scrollbar-width:none] [&::-webkit-scrollbar]:hidden"
      >
        {(isAdmin ? [...LINKS, ADMIN_LINK] : LINKS).map((l) => {
          const active = l.active(pathname);
          return (
            <Link
              key={l.href}
              href={l.href}
              aria-current={active ? "page" : undefined}
              className={cn(
                "hover:text-foreground focus-visible:ring-ring/50 shrink-0 rounded-md px-2.5 py-1.5 whitespace-nowrap outline-none focus-visible:ring-[3px] focus-visible:ring-inset",
                active ? "text-foreground bg-muted font-medium" : "text-muted-foreground",
              )}
            >
              {l.label}
            </Link>
          );
        })}
      </nav>
      <ScrollAffordance scroller={scroller} label="Main navigation" />
    </div>
  );
}
