"use client";
// Keeps a scrollable transcript pinned to its newest content while the user is at the bottom, and
// lets go as soon as the user scrolls up (then `stuck` is false and the UI offers "Jump to
// latest"). Growth of the content (streamed text, an expanded tool block) scrolls along only
// while stuck. Scrolling back to the bottom, by hand or with jump(), sticks again.
import { useCallback, useEffect, useRef, useState } from "react";

/** Within this many pixels of the end counts as "at the bottom". */
const NEAR_PX = 32;

export function useStickToBottom() {
  const scrollRef = useRef<HTMLDivElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  const stuckRef = useRef(true);
  const [stuck, setStuck] = useState(true);

  const setSticking = useCallback((value: boolean) => {
    stuckRef.current = value;
    setStuck(value);
  }, []);

  useEffect(() => {
    const el = scrollRef.current;
    const content = contentRef.current;
    if (!el || !content) return;
    let lastTop = el.scrollTop;
    const distance = () => el.scrollHeight - el.scrollTop - el.clientHeight;
    const onScroll = () => {
      // Near the end: stick. Moving up (the user, never this hook): let go. Moving down
      // (an animated jump) changes nothing.
      if (distance() <= NEAR_PX) setSticking(true);
      else if (el.scrollTop < lastTop - 1) setSticking(false);
      lastTop = el.scrollTop;
    };
    const follow = () => {
      if (stuckRef.current) {
        el.scrollTop = el.scrollHeight;
        lastTop = el.scrollTop;
      }
    };
    const observer = new ResizeObserver(follow);
    observer.observe(content);
    observer.observe(el);
    el.addEventListener("scroll", onScroll, { passive: true });
    follow();
    return () => {
      observer.disconnect();
      el.removeEventListener("scroll", onScroll);
    };
  }, [setSticking]);

  /** Scrolls to the newest content and sticks there. */
  const jump = useCallback(
    (behavior: ScrollBehavior = "smooth") => {
      setSticking(true);
      const el = scrollRef.current;
      el?.scrollTo({ top: el.scrollHeight, behavior });
    },
    [setSticking],
  );

  return { scrollRef, contentRef, stuck, jump };
}
