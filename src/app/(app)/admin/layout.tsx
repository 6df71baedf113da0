import { ShieldAlert } from "lucide-react";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { AdminNav } from "@/components/admin/admin-nav";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { requirePageSession } from "@/server/auth/session";

// The instance admin's area: users and model providers. The API refuses everyone else anyway
// (adminProcedure); this page says so instead of showing empty tables.
export default async function AdminLayout({ children }: { children: ReactNode }) {
  await connection();
  const session = await requirePageSession("/admin/users");
  return (
    <div className="mx-auto flex w-full max-w-6xl flex-col gap-6 px-4 py-8 sm:px-6">
      <div className="flex flex-col gap-1">
        <h1 className="text-2xl font-semibold tracking-tight">Instance administration</h1>
        <p className="text-muted-foreground text-sm">Everything here concerns the whole Armory, not one project.</p>
      </div>
      {session.user.isAdmin ? (
        <>
          <div className="border-b">
            <AdminNav />
          </div>
          {children}
        </>
      ) : (
        <Alert variant="destructive" data-testid="admin-only">
          <ShieldAlert aria-hidden="true" />
          <AlertTitle className="line-clamp-none">Only the instance admin can open this page.</AlertTitle>
          <AlertDescription>Ask an admin if you need a user disabled, a session revoked or a model provider registered.</AlertDescription>
        </Alert>
      )}
    </div>
  );
}
