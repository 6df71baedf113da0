"use client";
// An agent's container output, live: the last lines, then every new one as it is written (across
// restarts). stderr in red, pause (new lines wait and are counted), search with highlights, and
// stdout/stderr toggles.
import { useSubscription } from "@trpc/tanstack-react-query";
import { ArrowDownToLine, Pause, Play, Search, Trash2 } from "lucide-react";
import { useEffect, useMemo, useRef, useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { useTRPC } from "@/lib/trpc/client";
import { cn } from "@/lib/utils";

interface Line {
  key: number;
  timestamp: Date;
  stream: "stdout" | "stderr";
  message: string;
}

const MAX_LINES = 5000;
const TAIL = 500;

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

  push(l: { timestamp: Date; stream: "stdout" | "stderr"; message: string }) {
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

function time(d: Date) {
  return d.toLocaleTimeString("en-GB", { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

export function LogsPanel({ projectId, agentId }: { projectId: string; agentId: string }) {
  const trpc = useTRPC();
  const [lines, setLines] = useState<Line[]>([]);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState(0);
  const [query, setQuery] = useState("");
  const [show, setShow] = useState({ stdout: true, stderr: true });
  const [connected, setConnected] = useState(false);
  const [buffer] = useState(() => new LineBuffer());
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);

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

  useEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current && !paused) el.scrollTop = el.scrollHeight;
  }, [lines, paused]);

  const q = query.trim().toLowerCase();
  const visible = useMemo(
    () => lines.filter((l) => show[l.stream] && (!q || l.message.toLowerCase().includes(q))),
    [lines, show, q],
  );

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
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="Search the log"
            aria-label="Search the log"
            className="h-9 w-56 pl-8"
          />
        </div>
        {(["stdout", "stderr"] as const).map((s) => (
          <Button
            key={s}
            size="sm"
            variant={show[s] ? "secondary" : "outline"}
            aria-pressed={show[s]}
            onClick={() => setShow((v) => ({ ...v, [s]: !v[s] }))}
            className={cn("font-mono", s === "stderr" && show[s] && "text-red-700 dark:text-red-300")}
          >
            {s}
          </Button>
        ))}
        <Button size="sm" variant="outline" onClick={togglePause} aria-pressed={paused}>
          {paused ? <Play aria-hidden="true" /> : <Pause aria-hidden="true" />}
          {paused ? `Resume${held ? ` (${held} new)` : ""}` : "Pause"}
        </Button>
        <Button size="sm" variant="ghost" onClick={() => setLines([])} title="Clear the view (the log itself is kept)">
          <Trash2 aria-hidden="true" />
          <span className="sr-only">Clear</span>
        </Button>
      </div>

      <div
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
        data-testid="log-view"
        role="log"
        aria-live="off"
        className="bg-muted/30 h-[28rem] overflow-auto rounded-xl border p-3 font-mono text-xs leading-5"
      >
        {visible.length === 0 ? (
          <p className="text-muted-foreground py-10 text-center font-sans text-sm">
            {lines.length === 0
              ? connected
                ? "No output yet. Lines appear here as the agent writes them."
                : "Connecting to the log…"
              : "No lines match the search."}
          </p>
        ) : (
          visible.map((l) => (
            <div key={l.key} data-testid="log-line" data-stream={l.stream} className="flex gap-3 whitespace-pre-wrap break-all">
              <time dateTime={l.timestamp.toISOString()} title={l.timestamp.toLocaleString()} className="text-muted-foreground shrink-0 select-none">
                {time(l.timestamp)}
              </time>
              <span className={cn(l.stream === "stderr" ? "text-red-700 dark:text-red-400" : "text-foreground")}>
                <Highlighted text={l.message} query={q} />
              </span>
            </div>
          ))
        )}
      </div>
      <p className="text-muted-foreground flex items-center gap-1.5 text-xs">
        <ArrowDownToLine className="size-3.5" aria-hidden="true" />
        The last {TAIL} lines, then new output as it is written; keeps following across restarts. {visible.length} of {lines.length} lines shown.
      </p>
    </section>
  );
}
