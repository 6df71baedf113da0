"use client";
import { Bot, KeyRound, LayoutTemplate, ScrollText, Settings, ShieldCheck } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { cn } from "@/lib/utils";

export const PROJECT_SECTIONS = [
  { slug: "agents", label: "Agents", icon: Bot },
  { slug: "templates", label: "Templates", icon: LayoutTemplate },
  { slug: "secrets", label: "Secrets", icon: KeyRound },
  { slug: "access", label: "Tokens & access", icon: ShieldCheck },
  { slug: "audit", label: "Audit", icon: ScrollText },
  { slug: "settings", label: "Settings", icon: Settings },
] as const;

/** The project's sections as underlined tabs; scrolls sideways on narrow screens. */
export function ProjectNav({ projectId }: { projectId: string }) {
  const pathname = usePathname();
  const base = `/projects/${projectId}`;

  return (
    <nav aria-label="Project" className="-mb-px overflow-x-auto [scrollbar-width:none]">
      <ul className="flex min-w-max items-center gap-1">
        {PROJECT_SECTIONS.map(({ slug, label, icon: Icon }) => {
          const href = `${base}/${slug}`;
          const active = pathname === href || pathname.startsWith(`${href}/`) || (slug === "agents" && pathname === base);
          return (
            <li key={slug}>
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
