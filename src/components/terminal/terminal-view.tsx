"use client";
// The terminal itself: xterm.js wired to terminal.open (a subscription over the tab's live
// connection) and terminal.input / terminal.resize. Loaded only through next/dynamic
// (terminal-panel.tsx), so xterm and its CSS stay out of the agent page's bundle.
//
// One view is one terminal: it opens when mounted and closes when unmounted (the subscription
// ends, the server closes the PTY). Keystrokes are sent one call at a time; what is typed while
// a call is in flight goes in the next one, so a fast typist makes a few calls, not one per key.
import { FitAddon } from "@xterm/addon-fit";
import { Terminal, type ITheme } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { TRPCClientError } from "@trpc/client";
import { useEffect, useRef } from "react";
import { useTRPCClient } from "@/lib/trpc/client";

export type TerminalState = { kind: "connecting" } | { kind: "connected" } | { kind: "ended"; reason: string };

/** The app's dark palette (globals.css .dark): background oklch(0.145 0 0), foreground oklch(0.985 0 0). */
const THEME: ITheme = {
  background: "#0a0a0a",
  foreground: "#fafafa",
  cursor: "#fafafa",
  cursorAccent: "#0a0a0a",
  selectionBackground: "#3f3f46",
  black: "#18181b",
  brightBlack: "#71717a",
  red: "#f87171",
  brightRed: "#fca5a5",
  green: "#4ade80",
  brightGreen: "#86efac",
  yellow: "#facc15",
  brightYellow: "#fde047",
  blue: "#60a5fa",
  brightBlue: "#93c5fd",
  magenta: "#c084fc",
  brightMagenta: "#d8b4fe",
  cyan: "#22d3ee",
  brightCyan: "#67e8f9",
  white: "#e4e4e7",
  brightWhite: "#fafafa",
};

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorStatus(err: unknown): number | undefined {
  return err instanceof TRPCClientError ? (err.data as { httpStatus?: number } | undefined)?.httpStatus : undefined;
}

export default function TerminalView({
  projectId,
  agentId,
  onState,
}: {
  projectId: string;
  agentId: string;
  onState: (state: TerminalState) => void;
}) {
  const client = useTRPCClient();
  const box = useRef<HTMLDivElement>(null);
  // The latest callback without re-running the effect (which would reopen the terminal).
  const onStateRef = useRef(onState);
  useEffect(() => {
    onStateRef.current = onState;
  }, [onState]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const report = (s: TerminalState) => onStateRef.current(s);
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Monaco, Consolas, 'Liberation Mono', monospace",
      fontSize: 13,
      scrollback: 5000,
      theme: THEME,
      allowProposedApi: false,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    fit.fit();
    term.focus();

    let termId: string | null = null;
    let ended = false;
    let pending = "";
    let sending = false;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      report({ kind: "ended", reason });
    };

    const flush = () => {
      if (sending || !termId || ended || !pending) return;
      const data = pending;
      pending = "";
      sending = true;
      client.terminal.input
        .mutate({ projectId, agentId, termId, data })
        .catch((err: unknown) => {
          // 404: the terminal is gone on the server (closed there); anything else: say so in place.
          if (errorStatus(err) === 404) end("the terminal is gone on the server");
          else term.write(`\r\n\x1b[31m[Armory: could not send input: ${errorMessage(err)}]\x1b[0m\r\n`);
        })
        .finally(() => {
          sending = false;
          flush();
        });
    };
    const typed = term.onData((d) => {
      if (ended) return;
      pending += d;
      flush();
    });

    let sentSize = { cols: term.cols, rows: term.rows };
    let resizeTimer: ReturnType<typeof setTimeout> | null = null;
    const sendSize = () => {
      if (!termId || ended) return;
      if (term.cols === sentSize.cols && term.rows === sentSize.rows) return;
      sentSize = { cols: term.cols, rows: term.rows };
      client.terminal.resize.mutate({ projectId, agentId, termId, ...sentSize }).catch(() => {
        // The next resize sends the size again; a gone terminal reports itself through the stream.
        sentSize = { cols: 0, rows: 0 };
      });
    };
    let hidden = false;
    const observer = new ResizeObserver(() => {
      // A hidden tab measures 0: keep the last size; shown again, the terminal has the keyboard.
      if (!el.clientWidth || !el.clientHeight) {
        hidden = true;
        return;
      }
      if (hidden) {
        hidden = false;
        term.focus();
      }
      fit.fit();
      if (resizeTimer) clearTimeout(resizeTimer);
      resizeTimer = setTimeout(sendSize, 100);
    });
    observer.observe(el);

    report({ kind: "connecting" });
    const sub = client.terminal.open.subscribe(
      { projectId, agentId, cols: term.cols, rows: term.rows },
      {
        onData(e) {
          if (e.type === "opened") {
            // A second "opened": the live connection dropped and the subscription was sent again,
            // which opened a new shell.
            if (termId) term.write("\r\n\x1b[2m[Armory: reconnected, this is a new shell]\x1b[0m\r\n");
            termId = e.termId;
            sentSize = { cols: term.cols, rows: term.rows };
            if (ended) return;
            report({ kind: "connected" });
            sendSize();
            flush();
          } else if (e.type === "data") {
            term.write(base64ToBytes(e.data));
          } else if (e.type === "exit") {
            end(e.exitCode === null ? "the shell was killed" : `the shell exited with code ${e.exitCode}`);
          } else {
            end(e.reason);
          }
        },
        onError(err) {
          end(errorMessage(err));
        },
        onComplete() {
          end("the server ended the terminal");
        },
      },
    );

    return () => {
      ended = true;
      sub.unsubscribe();
      observer.disconnect();
      if (resizeTimer) clearTimeout(resizeTimer);
      typed.dispose();
      term.dispose();
    };
  }, [client, projectId, agentId]);

  return (
    <div
      ref={box}
      role="region"
      aria-label="Terminal"
      data-testid="terminal"
      className="h-[60vh] min-h-80 w-full overflow-hidden rounded-b-xl bg-[#0a0a0a] p-2"
    />
  );
}
