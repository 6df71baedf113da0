import { connection } from "next/server";
import type { ReactNode } from "react";
import { AppShell } from "@/components/app-shell/app-shell";
import { requirePageSession } from "@/server/auth/session";

export default async function AppLayout({ children }: { children: ReactNode }) {
  // Request-time only: `next build` must never open the database by prerendering this.
  await connection();
  const session = await requirePageSession();
  return <AppShell user={{ name: session.user.name, email: session.user.email, isAdmin: !!session.user.isAdmin }}>{children}</AppShell>;
}
