"use client";
// A row that scrolls sideways when it does not fit (tab bars on a phone), with a visible
// affordance: the edge that has more fades out and carries a chevron button that scrolls by most
// of a screen. The buttons are for pointers (keyboard users move along the row, which scrolls the
// focused item into view), so they stay out of the tab order.
import { ChevronLeft, ChevronRight } from "lucide-react";
import { useEffect, useState, type RefObject } from "react";
import { cn } from "@/lib/utils";

interface Overflow {
  start: boolean;
  end: boolean;
}

/** Whether the element has more content to its left (start) and right (end); follows scrolls and resizes. */
export function useHorizontalOverflow(ref: RefObject<HTMLElement | null>): Overflow {
  const [overflow, setOverflow] = useState<Overflow>({ start: false, end: false });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const start = el.scrollLeft > 1;
      const end = el.scrollLeft + el.clientWidth < el.scrollWidth - 1;
      setOverflow((o) => (o.start === start && o.end === end ? o : { start, end }));
    };
    measure();
    el.addEventListener("scroll", measure, { passive: true });
    const resize = new ResizeObserver(measure);
    resize.observe(el);
    for (const child of Array.from(el.children)) resize.observe(child);
    return () => {
      el.removeEventListener("scroll", measure);
      resize.disconnect();
    };
  }, [ref]);
  return overflow;
}

/**
 * The fades and scroll buttons over a horizontally scrolling element. Render it as a sibling of
 * that element inside a `relative` frame; `label` names the row ("Project tabs").
 */
export function ScrollAffordance({ scroller, label, className }: { scroller: RefObject<HTMLElement | null>; label: string; className?: string }) {
  const { start, end } = useHorizontalOverflow(scroller);
  const scrollBy = (direction: 1 | -1) => {
    const el = scroller.current;
    if (!el) return;
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    el.scrollBy({ left: direction * Math.max(80, el.clientWidth * 0.7), behavior: reduce ? "auto" : "smooth" });
  };
  const edge =
    "text-foreground absolute inset-y-0 z-10 flex w-10 items-center outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50";
  return (
    <>
      {start ? (
        <button
          type="button"
          tabIndex={-1}
          aria-label={`Scroll ${label} left`}
          onClick={() => scrollBy(-1)}
          className={cn(edge, "left-0 justify-start bg-gradient-to-r from-background from-40% to-transparent pl-0.5", className)}
        >
          <ChevronLeft className="size-4" aria-hidden="true" />
        </button>
      ) : null}
      {end ? (
        <button
          type="button"
          tabIndex={-1}
          aria-label={`Scroll ${label} right`}
          onClick={() => scrollBy(1)}
          className={cn(edge, "right-0 justify-end bg-gradient-to-l from-background from-40% to-transparent pr-0.5", className)}
        >
          <ChevronRight className="size-4" aria-hidden="true" />
        </button>
      ) : null}
    </>
  );
}
