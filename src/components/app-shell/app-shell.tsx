import Link from "next/link";
import type { ReactNode } from "react";
import { ArmoryMark } from "@/components/brand/wordmark";
import { MainNav } from "@/components/app-shell/main-nav";
import { UserMenu } from "@/components/app-shell/user-menu";

export interface ShellUser {
  name: string;
  email: string;
  /** The instance admin sees the Admin section. */
  isAdmin?: boolean;
}

/** The signed-in frame: a sticky top bar (wordmark, account menu) over the page. */
export function AppShell({ user, children }: { user: ShellUser; children: ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col">
      <a
        href="#main"
        className="bg-background focus:ring-ring sr-only z-50 rounded-md px-3 py-2 text-sm focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:ring-2"
      >
        Skip to content
      </a>
      <header className="bg-background/80 supports-[backdrop-filter]:bg-background/60 sticky top-0 z-40 border-b backdrop-blur">
        <div className="mx-auto flex h-14 w-full max-w-6xl items-center gap-3 px-4 sm:gap-4 sm:px-6">
          <Link
            href="/"
            className="focus-visible:ring-ring/50 inline-flex shrink-0 items-center gap-2.5 rounded-md outline-none focus-visible:ring-[3px]"
          >
            <ArmoryMark />
            {/* On a phone the mark alone leaves the nav room; the name stays the link's name. */}
            <span className="sr-only text-base font-semibold tracking-tight sm:not-sr-only">Armory</span>
          </Link>
          <MainNav isAdmin={!!user.isAdmin} />
          <div className="ml-auto flex shrink-0 items-center gap-2">
            <UserMenu user={user} />
          </div>
        </div>
      </header>
      <main id="main" className="flex flex-1 flex-col">
        {children}
      </main>
    </div>
  );
}
