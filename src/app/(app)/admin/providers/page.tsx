import type { Metadata } from "next";
import { ProvidersAdmin } from "@/components/admin/providers-admin";

export const metadata: Metadata = { title: "Providers" };

// The admin layout checks the session and the admin role; the API refuses everyone else anyway.
export default function AdminProvidersPage() {
  return <ProvidersAdmin />;
}
