import type { Metadata } from "next";
import { NodesAdmin } from "@/components/admin/nodes-admin";

export const metadata: Metadata = { title: "Nodes" };

// The admin layout checks the session and the admin role; the API refuses everyone else anyway.
export default function AdminNodesPage() {
  return <NodesAdmin />;
}
