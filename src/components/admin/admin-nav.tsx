"use client";
import { Cpu, Network, Server, Users } from "lucide-react";
import { usePathname } from "next/navigation";
import { TabNav } from "@/components/common/tab-nav";

const TABS = [
  { href: "/admin/users", label: "Users", icon: Users },
  { href: "/admin/providers", label: "Providers", icon: Cpu },
  { href: "/admin/instances", label: "Instances", icon: Server },
  { href: "/admin/nodes", label: "Nodes", icon: Network },
] as const;

/** The admin area's tabs (one page each). */
export function AdminNav() {
  const pathname = usePathname() ?? "";
  return (
    <TabNav
      label="Administration"
      tabs={TABS.map((t) => ({ ...t, active: pathname === t.href || pathname.startsWith(`${t.href}/`) }))}
    />
  );
}
