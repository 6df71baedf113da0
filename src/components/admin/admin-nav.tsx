"use client";
import { Cpu, Users } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { cn } from "@/lib/utils";

const TABS = [
  { href: "/admin/users", label: "Users", icon: Users },
  { href: "/admin/providers", label: "Providers", icon: Cpu },
] as const;

/** The admin area's tabs (one page each). */
export function AdminNav() {
  const pathname = usePathname() ?? "";
  return (
    <nav aria-label="Administration" className="-mb-px">
      <ul className="flex items-center gap-1">
        {TABS.map(({ href, label, icon: Icon }) => {
          const active = pathname === href || pathname.startsWith(`${href}/`);
          return (
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
                {label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
