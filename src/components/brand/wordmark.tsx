import { cn } from "@/lib/utils";

/** Armory's mark: a shield with a terminal prompt, drawn inline so it needs no asset request. */
export function ArmoryMark({ className }: { className?: string }) {
  return (
    <svg viewBox="0 0 32 32" aria-hidden="true" className={cn("size-7 shrink-0", className)}>
      <rect width="32" height="32" rx="8" className="fill-primary" />
      <path
        d="M16 6.5 24 9.5v6.2c0 4.9-3.3 8.6-8 10.3-4.7-1.7-8-5.4-8-10.3V9.5l8-3Z"
        className="fill-primary-foreground"
        opacity="0.16"
      />
      <path
        d="m11.5 13 3 3-3 3M16.5 19.5h4"
        fill="none"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
        className="stroke-primary-foreground"
      />
    </svg>
  );
}

/** The mark plus the product name. */
export function Wordmark({ className, size = "default" }: { className?: string; size?: "default" | "lg" }) {
  return (
    <span className={cn("inline-flex items-center gap-2.5", className)}>
      <ArmoryMark className={size === "lg" ? "size-9" : undefined} />
      <span className={cn("font-semibold tracking-tight", size === "lg" ? "text-2xl" : "text-base")}>Armory</span>
    </span>
  );
}

/** The same mark as a data URL, for the favicon. */
export const ARMORY_ICON_DATA_URL =
  "data:image/svg+xml," +
  encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#171717"/><path d="m11.5 13 3 3-3 3M16.5 19.5h4" fill="none" stroke="#fafafa" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>`,
  );
