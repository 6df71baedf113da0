import type { Metadata } from "next";
import { HealthTable } from "@/components/health/health-table";

export const metadata: Metadata = { title: "Agents" };

/** Every agent across the user's projects, with health and live resources. */
export default function AgentsHealthPage() {
  return (
    <div className="mx-auto flex w-full max-w-6xl flex-col gap-6 px-4 py-8 sm:px-6">
      <div className="flex flex-col gap-1">
        <h1 className="text-2xl font-semibold tracking-tight">Agents</h1>
        <p className="text-muted-foreground text-sm">
          Every agent in your projects: health, CPU, memory and uptime, updated live.
        </p>
      </div>
      <HealthTable />
    </div>
  );
}
