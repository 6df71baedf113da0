"use client";
import { Bell, Bot, Gauge, Inbox, KeyRound, LayoutTemplate, ScrollText, Settings, ShieldCheck, Users } from "lucide-react";
import { usePathname } from "next/navigation";
import { PendingApprovalsBadge, useApprovalAlerts } from "@/components/approvals/approval-alerts";
import { TabNav } from "@/components/common/tab-nav";

export const PROJECT_SECTIONS = [
  { slug: "agents", label: "Agents", icon: Bot },
  { slug: "approvals", label: "Approvals", icon: Inbox },
  { slug: "teams", label: "Teams", icon: Users },
  { slug: "templates", label: "Templates", icon: LayoutTemplate },
  { slug: "secrets", label: "Secrets", icon: KeyRound },
  { slug: "access", label: "Tokens & access", icon: ShieldCheck },
  { slug: "notifications", label: "Notifications", icon: Bell },
  { slug: "audit", label: "Audit", icon: ScrollText },
  { slug: "usage", label: "Usage", icon: Gauge },
  { slug: "settings", label: "Settings", icon: Settings },
] as const;

/** The project's sections as underlined tabs; scrolls sideways on narrow screens. */
export function ProjectNav({ projectId }: { projectId: string }) {
  const pathname = usePathname() ?? "";
  const base = `/projects/${projectId}`;
  // Pending approvals, live, on every project page (and a notification when the tab is hidden).
  const pendingApprovals = useApprovalAlerts(projectId);
  return (
    <TabNav
      label="Project"
      tabs={PROJECT_SECTIONS.map(({ slug, label, icon }) => {
        const href = `${base}/${slug}`;
        const active = pathname === href || pathname.startsWith(`${href}/`) || (slug === "agents" && pathname === base);
        const badge = slug === "approvals" ? <PendingApprovalsBadge count={pendingApprovals} /> : undefined;
        return { href, label, icon, active, badge };
      })}
    />
  );
}
