"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { cn } from "@/lib/utils";

const LINKS = [
  { href: "/", label: "Projects", active: (p: string) => p === "/" || p.startsWith("/projects") },
  { href: "/agents", label: "Agents", active: (p: string) => p.startsWith("/agents") },
];

/** Only the instance admin's nav shows it (the pages check for themselves). */
const ADMIN_LINK = { href: "/admin/users", label: "Admin", active: (p: string) => p.startsWith("/admin") };

/** The app's top-level sections. */
export function MainNav({ isAdmin = false }: { isAdmin?: boolean }) {
  const pathname = usePathname() ?? "/";
  return (
    <nav aria-label="Main" className="flex items-center gap-1 text-sm">
      {(isAdmin ? [...LINKS, ADMIN_LINK] : LINKS).map((l) => {
        const active = l.active(pathname);
        return (
          <Link
            key={l.href}
            href={l.href}
            aria-current={active ? "page" : undefined}
            className={cn(
              "hover:text-foreground focus-visible:ring-ring/50 rounded-md px-2.5 py-1.5 outline-none focus-visible:ring-[3px]",
              active ? "text-foreground bg-muted font-medium" : "text-muted-foreground",
            )}
          >
            {l.label}
          </Link>
        );
      })}
    </nav>
  );
}
