"use client";
// The small, dismissible offer to turn on browser notifications for approvals. It appears only
// where approvals are shown (the inbox, a chat with a pending approval), never asks by itself, and
// once answered (or dismissed) it stays away: the answer is kept in localStorage.
import { Bell, X } from "lucide-react";
import { useSyncExternalStore } from "react";
import { Button } from "@/components/ui/button";
import { askForNotifications, dismissNotificationPrompt, shouldOfferNotifications, subscribeNotifyChoice } from "./notify";

export function NotificationPrompt({ className }: { className?: string }) {
  // The server does not know the browser's answer: nothing is offered there.
  const offer = useSyncExternalStore(subscribeNotifyChoice, shouldOfferNotifications, () => false);
  if (!offer) return null;
  return (
    <div
      role="region"
      aria-label="Browser notifications"
      data-testid="notification-prompt"
      className={`flex flex-wrap items-center gap-2 rounded-md border border-sky-500/30 bg-sky-500/5 px-3 py-1.5 text-xs text-sky-950 dark:text-sky-100 ${className ?? ""}`}
    >
      <Bell className="size-3.5 shrink-0 text-sky-700 dark:text-sky-300" aria-hidden="true" />
      <span className="min-w-0 flex-1">Get a browser notification when an approval waits while this tab is in the background.</span>
      <Button
        type="button"
        size="sm"
        variant="outline"
        className="h-7"
        onClick={() => void askForNotifications()}
      >
        Turn on notifications
      </Button>
      <Button
        type="button"
        size="icon-sm"
        variant="ghost"
        className="size-7"
        aria-label="Not now"
        onClick={dismissNotificationPrompt}
      >
        <X aria-hidden="true" />
      </Button>
    </div>
  );
}
