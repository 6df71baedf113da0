"use client";
// Small native form controls styled like the shadcn inputs (select, checkbox), and formatting
// shared by the trust pages.
import { cn } from "@/lib/utils";

export const selectClass =
  "border-input bg-background focus-visible:border-ring focus-visible:ring-ring/50 h-9 w-full rounded-md border px-3 text-sm shadow-xs outline-none focus-visible:ring-[3px] disabled:opacity-50";

export function NativeSelect({ className, ...props }: React.ComponentProps<"select">) {
  return <select className={cn(selectClass, className)} {...props} />;
}

export function CheckboxLabel({ label, className, ...props }: { label: React.ReactNode } & Omit<React.ComponentProps<"input">, "type">) {
  return (
    <label className={cn("flex cursor-pointer items-center gap-2 text-sm", className)}>
      <input type="checkbox" className="accent-primary size-4" {...props} />
      {label}
    </label>
  );
}

/** "in 3 days", "2 hours ago" for future and past dates alike. */
export { timeAgo as relative } from "@/lib/utils";

export function fullTime(date: Date): string {
  return date.toLocaleString("en", { dateStyle: "medium", timeStyle: "medium" });
}

/** Lines of a textarea as a list of globs. */
export function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}
