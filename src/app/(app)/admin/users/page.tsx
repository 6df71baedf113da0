import type { Metadata } from "next";
import { UsersAdmin } from "@/components/admin/users-admin";
import { requirePageSession } from "@/server/auth/session";

export const metadata: Metadata = { title: "Users" };

export default async function AdminUsersPage() {
  const session = await requirePageSession("/admin/users");
  return <UsersAdmin meId={session.user.id} />;
}
