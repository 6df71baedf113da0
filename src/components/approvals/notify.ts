// Browser notifications for approvals: shown only when the tab is in the background
// (document.visibilityState) and the person allowed them. Permission is asked once, from a small
// prompt the person clicks (never on page load by itself); the answer (or "not now") is remembered
// in localStorage so the prompt does not come back.
export const NOTIFY_STORAGE_KEY = "armory.approvals.notifications";

export type NotifyChoice = "granted" | "denied" | "dismissed";

function supported(): boolean {
  return typeof window !== "undefined" && "Notification" in window;
}

function stored(): string | null {
  try {
    return window.localStorage.getItem(NOTIFY_STORAGE_KEY);
  } catch {
    return null;
  }
}

const listeners = new Set<() => void>();

function remember(choice: NotifyChoice) {
  try {
    window.localStorage.setItem(NOTIFY_STORAGE_KEY, choice);
  } catch {
    // Private mode without storage: the prompt may come back; nothing else breaks.
  }
  for (const l of listeners) l();
}

/** For useSyncExternalStore: told when the answer changes (here or in another tab). */
export function subscribeNotifyChoice(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("storage", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", listener);
  };
}

/** Whether to offer the prompt: supported, not yet decided in the browser, and not answered here before. */
export function shouldOfferNotifications(): boolean {
  return supported() && Notification.permission === "default" && !stored();
}

/** Asks the browser (from a click) and remembers the answer. */
export async function askForNotifications(): Promise<NotificationPermission | "unsupported"> {
  if (!supported()) return "unsupported";
  const answer = await Notification.requestPermission();
  remember(answer === "granted" ? "granted" : answer === "denied" ? "denied" : "dismissed");
  return answer;
}

export function dismissNotificationPrompt() {
  remember("dismissed");
}

const open = new Map<string, Notification>();

/**
 * Shows "Approval needed" when the tab is hidden and notifications are allowed; a click focuses
 * the tab and runs `onOpen` (which opens the session). Returns whether one was shown.
 */
export function notifyApproval(a: { id: string; toolName: string; agentName: string; summary: string }, onOpen: () => void): boolean {
  if (!supported() || Notification.permission !== "granted" || document.visibilityState !== "hidden") return false;
  if (open.has(a.id)) return false;
  const n = new Notification(`Approval needed: ${a.toolName}`, {
    body: `${a.agentName} waits for a decision${a.summary ? `: ${a.summary}` : ""}`,
    tag: `armory-approval-${a.id}`,
  });
  open.set(a.id, n);
  n.onclick = () => {
    window.focus();
    onOpen();
    n.close();
  };
  n.onclose = () => open.delete(a.id);
  return true;
}

/** Decided elsewhere (another tab, a bot, the timeout): its notification goes away. */
export function closeApprovalNotification(id: string) {
  open.get(id)?.close();
  open.delete(id);
}
