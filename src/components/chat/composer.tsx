"use client";
// The message box pinned under the transcript: Enter sends, Shift+Enter adds a line; while a
// turn runs, Stop takes Send's place (typing the next message stays possible). Focused when the
// conversation opens.
import { CircleStop, Loader2, SendHorizontal } from "lucide-react";
import { useEffect, useRef } from "react";
import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/textarea";

export function Composer({
  value,
  onChange,
  onSend,
  onStop,
  canChat,
  agentRunning,
  running,
  sending,
  stopping,
}: {
  value: string;
  onChange: (value: string) => void;
  onSend: () => void;
  onStop: () => void;
  canChat: boolean;
  agentRunning: boolean;
  /** A turn is running in this conversation. */
  running: boolean;
  sending: boolean;
  stopping: boolean;
}) {
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    // Without scrolling: the chat panel decides what the page shows.
    if (canChat) box.current?.focus({ preventScroll: true });
  }, [canChat]);

  const placeholder = !canChat
    ? "You can read this chat but not send messages (needs the operator role)."
    : agentRunning
      ? "Message the agent… (Enter to send, Shift+Enter for a new line)"
      : "Start the agent to chat";
  return (
    <form
      className="flex items-end gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        if (!running) onSend();
      }}
    >
      <Textarea
        ref={box}
        aria-label="Message"
        placeholder={placeholder}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            if (!running) onSend();
          }
        }}
        disabled={!canChat}
        rows={1}
        className="max-h-40 min-h-10 resize-none"
      />
      {running ? (
        <Button type="button" variant="destructive" onClick={onStop} disabled={!canChat || stopping} className="h-10">
          {stopping ? <Loader2 className="animate-spin" aria-hidden="true" /> : <CircleStop aria-hidden="true" />}
          Stop turn
        </Button>
      ) : (
        <Button type="submit" disabled={!canChat || !agentRunning || !value.trim() || sending} className="h-10">
          {sending ? <Loader2 className="animate-spin" aria-hidden="true" /> : <SendHorizontal aria-hidden="true" />}
          Send
        </Button>
      )}
    </form>
  );
}
