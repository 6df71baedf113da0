// Templates in human units and words, for the templates UI. (Client-safe: imports only types
// from the server.)
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

export type Template = inferRouterOutputs<AppRouter>["template"]["list"][number];
export type PermissionMode = Template["permissionMode"];

function trimNumber(n: number, digits = 1): string {
  return Number(n.toFixed(digits)).toString();
}

/** 512 → "512 MB", 2048 → "2 GB", 1536 → "1.5 GB". */
export function formatMemory(mb: number): string {
  if (mb >= 1024) return `${trimNumber(mb / 1024, 2)} GB`;
  return `${mb} MB`;
}

/** 1 → "1 CPU", 0.5 → "0.5 CPU", 2 → "2 CPUs". */
export function formatCpus(cpus: number): string {
  return `${trimNumber(cpus, 2)} ${cpus > 1 ? "CPUs" : "CPU"}`;
}

/** 512 → "512 processes". */
export function formatPids(pids: number): string {
  return `${pids.toLocaleString("en")} ${pids === 1 ? "process" : "processes"}`;
}

/** "2 GB · 2 CPUs · 512 processes". */
export function formatResources(t: Pick<Template, "memoryMb" | "cpus" | "pidsLimit">): string {
  return [formatMemory(t.memoryMb), formatCpus(t.cpus), formatPids(t.pidsLimit)].join(" · ");
}

/** The image as people read it: "default" is Armory's own agent image. */
export function formatImage(image: string): string {
  return image === "default" ? "Armory agent image" : image;
}

export const PERMISSION_MODE_INFO: Record<PermissionMode, { label: string; description: string }> = {
  default: {
    label: "Default",
    description: "Only the allowed tools run; anything that would need a permission prompt is refused.",
  },
  acceptEdits: {
    label: "Accept edits",
    description: "File edits are accepted automatically; other tools must be in the allowed list.",
  },
  plan: {
    label: "Plan only",
    description: "Claude reads and plans, but does not edit files or run commands.",
  },
  bypassPermissions: {
    label: "Bypass permissions",
    description: "Every tool runs without asking. Only for fully trusted, isolated work.",
  },
};

export const PERMISSION_MODE_OPTIONS = Object.keys(PERMISSION_MODE_INFO) as PermissionMode[];

export function permissionModeLabel(mode: PermissionMode): string {
  return PERMISSION_MODE_INFO[mode]?.label ?? mode;
}
