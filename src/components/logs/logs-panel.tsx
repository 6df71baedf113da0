"use client";
// An agent's logs, live: the container's output and Armory's own lines about it (chat turns),
// the last lines, then every new one as it is written (across restarts). Local times, stream
// toggles (pressed buttons), JSON lines pretty-printed on demand, search with highlights and a
// count, pause (new lines wait and are counted) and follow (stick to the newest line).
import { useSubscription } from "@trpc/tanstack-react-query";
import { ArrowDownToLine, Braces, Check, Pause, Play, Search, Trash2 } from "lucide-react";
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";

type Stream = "stdout" | "stderr" | "armory";

interface Line {
  key: number;
  timestamp: Date;
  stream: Stream;
  message: string;
}

const STREAMS: { stream: Stream; label: string; hint: string }[] = [
  { stream: "stdout", label: "stdout", hint: "The container's standard output" },
  { stream: "stderr", label: "stderr", hint: "The container's standard error" },
  { stream: "armory", label: "armory", hint: "Armory's lines about the agent: each chat turn's start and end" },
];

const MAX_LINES = 5000;
const TAIL = 500;

/** How often `query` (lower case) occurs in `text`. */
function countMatches(text: string, query: string): number {
  if (!query) return 0;
  const lower = text.toLowerCase();
  let n = 0;
  for (let i = lower.indexOf(query); i !== -1; i = lower.indexOf(query, i + query.length)) n++;
  return n;
}

/** A JSON object or array line, indented; null for anything else. */
function prettyJson(message: string): string | null {
  const t = message.trim();
  if (!(t.startsWith("{") && t.endsWith("}")) && !(t.startsWith("[") && t.endsWith("]"))) return null;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return null;
  }
}

function Highlighted({ text, query }: { text: string; query: string }) {
  if (!query) return <>{text}</>;
  const parts: React.ReactNode[] = [];
  const lower = text.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(query); i !== -1; i = lower.indexOf(query, at)) {
    if (i > at) parts.push(text.slice(at, i));
    parts.push(
      <mark key={i} className="rounded-sm bg-yellow-300/70 text-inherit dark:bg-yellow-500/40">
        {text.slice(i, i + query.length)}
      </mark>,
    );
    at = i + query.length;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}

/**
 * Lines arriving from the stream, handed to React once per animation frame (a burst of history
 * renders once), or held while the view is paused.
 */
class LineBuffer {
  private pending: Line[] = [];
  private paused = false;
  private frame: number | null = null;
  private counter = 0;
  private onFlush: ((batch: Line[], held: number) => void) | null = null;

  connect(onFlush: (batch: Line[], held: number) => void) {
    this.onFlush = onFlush;
    if (this.pending.length) this.flush();
  }

  push(l: { timestamp: Date; stream: Stream; message: string }) {
    this.pending.push({ key: this.counter++, timestamp: l.timestamp, stream: l.stream, message: l.message });
    if (this.pending.length > MAX_LINES) this.pending.splice(0, this.pending.length - MAX_LINES);
    this.frame ??= requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = null;
    if (this.paused) {
      this.onFlush?.([], this.pending.length);
      return;
    }
    const batch = this.pending;
    this.pending = [];
    this.onFlush?.(batch, 0);
  }

  setPaused(paused: boolean) {
    this.paused = paused;
    this.flush();
  }

  reset() {
    this.pending = [];
  }

  dispose() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    this.onFlush = null;
  }
}

/** Local time of day with milliseconds; the date too when it is not today. */
function time(d: Date, now = new Date()) {
  const clock = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const ms = String(d.getMilliseconds()).padStart(3, "0");
  const sameDay = d.toDateString() === now.toDateString();
  return `${sameDay ? "" : `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} `}${clock}.${ms}`;
}

const noSubscribe = () => () => {};

function zoneName(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return "local";
  }
}

/** A toggle that looks like one: filled with a check when on, outlined when off. */
function Toggle({ pressed, onClick, title, children, className }: { pressed: boolean; onClick: () => void; title?: string; children: React.ReactNode; className?: string }) {
  return (
    <Button type="button" size="sm" variant={pressed ? "default" : "outline"} aria-pressed={pressed} title={title} onClick={onClick} className={className}>
      {pressed ? <Check aria-hidden="true" /> : <span aria-hidden="true" className="inline-block size-4 rounded-sm border border-current opacity-50" />}
      {children}
    </Button>
  );
}

export function LogsPanel({ projectId, agentId }: { projectId: string; agentId: string }) {
  const trpc = useTRPC();
  const [lines, setLines] = useState<Line[]>([]);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState(0);
  const [query, setQuery] = useState("");
  const [show, setShow] = useState<Record<Stream, boolean>>({ stdout: true, stderr: true, armory: true });
  const [pretty, setPretty] = useState(false);
  const [follow, setFollow] = useState(true);
  // The browser's zone (the server render says "local").
  const zone = useSyncExternalStore(noSubscribe, zoneName, () => "local");
  const [connected, setConnected] = useState(false);
  const [buffer] = useState(() => new LineBuffer());
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    buffer.connect((batch, heldCount) => {
      if (batch.length) setLines((prev) => [...prev, ...batch].slice(-MAX_LINES));
      setHeld(heldCount);
    });
    return () => buffer.dispose();
  }, [buffer]);

  useSubscription(
    trpc.logs.follow.subscriptionOptions(
      { projectId, agentId, tail: TAIL },
      {
        onStarted: () => {
          // Every (re)connection starts with the tail again: start from a clean slate.
          buffer.reset();
          setLines([]);
          setHeld(0);
          setConnected(true);
        },
        onError: () => setConnected(false),
        onData: (l) => buffer.push(l),
      },
    ),
  );

  function togglePause() {
    const next = !paused;
    setPaused(next);
    buffer.setPaused(next);
  }

  const q = query.trim().toLowerCase();
  const shown = useMemo(
    () =>
      lines
        .filter((l) => show[l.stream])
        .map((l) => ({ ...l, text: (pretty && prettyJson(l.message)) || l.message })),
    [lines, show, pretty],
  );
  const visible = useMemo(() => (q ? shown.filter((l) => l.text.toLowerCase().includes(q)) : shown), [shown, q]);
  const matches = useMemo(() => (q ? visible.reduce((n, l) => n + countMatches(l.text, q), 0) : 0), [visible, q]);

  useEffect(() => {
    const el = scroller.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [visible, follow]);

  function jumpToLatest() {
    setFollow(true);
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }

  return (
    <section aria-labelledby="logs-title" className="flex flex-col gap-3">
      <div className="flex flex-wrap items-center gap-2">
        <h3 id="logs-title" className="mr-auto flex items-center gap-2 font-semibold">
          Logs
          <Badge variant="outline" data-testid="logs-connection" className={connected ? "text-emerald-700 dark:text-emerald-300" : "text-muted-foreground"}>
            {connected ? (paused ? "Paused" : "Live") : "Connecting…"}
          </Badge>
        </h3>
        <div className="relative">
          <Search className="text-muted-foreground absolute top-2.5 left-2 size-4" aria-hidden="true" />
          <Input
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="Search the log"
            aria-label="Search the log"
            aria-describedby="logs-matches"
            className="h-9 w-56 pl-8"
          />
        </div>
        <span id="logs-matches" className="text-muted-foreground min-w-20 text-xs" aria-live="polite" data-testid="logs-matches">
          {q ? `${matches} match${matches === 1 ? "" : "es"} in ${visible.length} line${visible.length === 1 ? "" : "s"}` : ""}
        </span>
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <div role="group" aria-label="Streams" className="flex flex-wrap gap-1.5">
          {STREAMS.map(({ stream, label, hint }) => (
            <Toggle
              key={stream}
              pressed={show[stream]}
              title={hint}
              onClick={() => setShow((v) => ({ ...v, [stream]: !v[stream] }))}
              className="font-mono"
            >
              {label}
            </Toggle>
          ))}
        </div>
        <Toggle pressed={pretty} onClick={() => setPretty((p) => !p)} title="Show JSON lines indented">
          <Braces aria-hidden="true" /> Pretty JSON
        </Toggle>
        <span className="bg-border mx-1 hidden h-6 w-px sm:block" aria-hidden="true" />
        <Button type="button" size="sm" variant={paused ? "default" : "outline"} onClick={togglePause} aria-pressed={paused}>
          {paused ? <Play aria-hidden="true" /> : <Pause aria-hidden="true" />}
          {paused ? `Resume${held ? ` (${held} new)` : ""}` : "Pause"}
        </Button>
        <Toggle pressed={follow} onClick={() => (follow ? setFollow(false) : jumpToLatest())} title="Keep the newest line in view">
          Follow
        </Toggle>
        <Button type="button" size="sm" variant="ghost" onClick={() => setLines([])} title="Clear the view (the log itself is kept)">
          <Trash2 aria-hidden="true" />
          <span className="sr-only">Clear the view</span>
        </Button>
      </div>

      <div className="relative">
      <div
        ref={scroller}
        onScroll={(e) => {
          // Scrolling up stops following; scrolling back to the bottom follows again.
          const el = e.currentTarget;
          const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          if (atBottom !== follow) setFollow(atBottom);
        }}
        data-testid="log-view"
        role="log"
        aria-live="off"
        aria-label="Log output"
        // Focusable, so it scrolls with the keyboard (arrows, Page Up/Down, Home/End).
        tabIndex={0}
        className="bg-muted/30 focus-visible:ring-ring/50 h-[28rem] overflow-auto rounded-xl border p-3 font-mono text-xs leading-5 outline-none focus-visible:ring-[3px]"
      >
        {visible.length === 0 ? (
          <p className="text-muted-foreground py-10 text-center font-sans text-sm">
            {lines.length === 0
              ? connected
                ? "No output yet. Lines appear here as the agent writes them."
                : "Connecting to the log…"
              : q
                ? "No lines match the search."
                : "Every stream is hidden: switch one on above."}
          </p>
        ) : (
          visible.map((l) => (
            <div key={l.key} data-testid="log-line" data-stream={l.stream} className="flex gap-3 whitespace-pre-wrap break-all">
              <time
                dateTime={l.timestamp.toISOString()}
                title={`${l.timestamp.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "long" })}`}
                className="text-muted-foreground shrink-0 select-none"
              >
                {time(l.timestamp)}
              </time>
              {l.stream === "armory" ? (
                <span className="shrink-0 rounded-sm bg-sky-500/15 px-1 text-sky-800 select-none dark:text-sky-300">armory</span>
              ) : null}
              <span
                className={cn(
                  l.stream === "stderr" ? "text-red-700 dark:text-red-400" : l.stream === "armory" ? "font-medium text-sky-900 dark:text-sky-200" : "text-foreground",
                )}
              >
                <Highlighted text={l.text} query={q} />
              </span>
            </div>
          ))
        )}
      </div>
      {!follow && visible.length ? (
        <Button type="button" size="sm" variant="secondary" className="absolute right-4 bottom-4 shadow" onClick={jumpToLatest}>
          <ArrowDownToLine aria-hidden="true" /> Jump to latest
        </Button>
      ) : null}
      </div>
      <p className="text-muted-foreground flex items-center gap-1.5 text-xs">
        <ArrowDownToLine className="size-3.5" aria-hidden="true" />
        The last {TAIL} lines, then new output as it is written; keeps following across restarts. Times are local ({zone}).{" "}
        {visible.length} of {lines.length} lines shown.
      </p>
    </section>
  );
}
