"use client";
// A definite height for the chat so that its transcript scrolls on its own and its composer stays
// on screen: the panel fills the viewport below where it starts. When too little is left below
// the page's header and the agent's header (a phone), the panel takes the whole viewport under
// the sticky top bar instead, and the page is scrolled once so the panel (and its composer) is in
// view. Re-measured when the window or anything above the panel changes size.
import { useLayoutEffect, useRef, useState } from "react";

/** The app shell's sticky top bar (h-14). */
const STICKY_TOP_PX = 56;
const GAP_PX = 8;

export function useFitToViewport<T extends HTMLElement>({ minHeight }: { minHeight: number }) {
  const ref = useRef<T>(null);
  const [height, setHeight] = useState<number | null>(null);
  /** Where to scroll the page once the panel has its height (phone: the panel under the top bar). */
  const scrollTo = useRef<number | null>(null);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const rect = el.getBoundingClientRect();
      const top = rect.top + window.scrollY;
      // What the page puts below the panel (its padding), kept on screen too.
      const below = Math.max(0, document.documentElement.scrollHeight - (rect.bottom + window.scrollY));
      const vh = window.innerHeight;
      const full = Math.max(240, vh - STICKY_TOP_PX - GAP_PX - Math.min(below, 32));
      const fit = vh - top - below;
      const fits = fit >= Math.min(minHeight, full);
      const h = Math.round(fits ? fit : full);
      // A pixel or two either way is rounding: following it could make layout and measure chase each other.
      setHeight((prev) => (prev !== null && Math.abs(prev - h) <= 2 ? prev : h));
      return { fits, top };
    };
    const first = measure();
    if (!first.fits) scrollTo.current = Math.max(0, first.top - STICKY_TOP_PX - GAP_PX);
    let frame = 0;
    const onChange = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => void measure());
    };
    window.addEventListener("resize", onChange);
    // Content above the panel (an agent's status line, a banner) can change its position.
    const observer = new ResizeObserver(onChange);
    if (el.parentElement) observer.observe(el.parentElement.closest("main") ?? document.body);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener("resize", onChange);
      observer.disconnect();
    };
  }, [minHeight]);

  // After the height is applied (before, the page may be too short to scroll that far).
  useLayoutEffect(() => {
    if (height === null || scrollTo.current === null) return;
    window.scrollTo({ top: scrollTo.current });
    scrollTo.current = null;
  }, [height]);

  return { ref, height };
}
