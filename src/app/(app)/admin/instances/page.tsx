import type { Metadata } from "next";
import { InstancesAdmin } from "@/components/admin/instances-admin";

export const metadata: Metadata = { title: "Instances" };

// The admin layout checks the session and the admin role; the API refuses everyone else anyway.
export default function AdminInstancesPage() {
  return <InstancesAdmin />;
}
