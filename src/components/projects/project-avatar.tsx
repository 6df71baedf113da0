import { cn } from "@/lib/utils";

const TONES = [
  "from-sky-500 to-indigo-500",
  "from-emerald-500 to-teal-500",
  "from-amber-500 to-orange-500",
  "from-rose-500 to-pink-500",
  "from-violet-500 to-fuchsia-500",
  "from-cyan-500 to-blue-500",
  "from-lime-500 to-green-600",
  "from-slate-500 to-zinc-600",
];

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h;
}

/** A colored tile with the project's initial; the color is stable per project id. */
export function ProjectAvatar({ id, name, className }: { id: string; name: string; className?: string }) {
  const letter = Array.from(name.trim())[0]?.toUpperCase() ?? "?";
  return (
    <span
      aria-hidden="true"
      className={cn(
        "flex size-9 shrink-0 items-center justify-center rounded-lg bg-gradient-to-br text-sm font-semibold text-white shadow-sm",
        TONES[hash(id) % TONES.length],
        className,
      )}
    >
      {letter}
    </span>
  );
}
