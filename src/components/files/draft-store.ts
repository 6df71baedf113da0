"use client";
// Unsaved edits of agent files, kept for as long as the browser document lives: a module-level
// store (not React state), so a draft survives the Files tab unmounting (switching to Chat,
// another agent, another page of the app) and comes back when the file is opened again. Keyed by
// agent and path. While any draft exists, closing the tab or reloading asks first (beforeunload).
import { useSyncExternalStore } from "react";

export interface Draft {
  projectId: string;
  agentId: string;
  path: string;
  /** The server's content (and hash) the edit started from: saves are conditional on it. */
  baseline: { content: string; sha256: string };
  text: string;
}

const drafts = new Map<string, Draft>();
/** The file last open in each agent's Files view (reopened when the view comes back). */
const lastOpen = new Map<string, string>();
const listeners = new Set<() => void>();
let version = 0;

const key = (agentId: string, path: string) => `${agentId}\u0000${path}`;

function onBeforeUnload(e: BeforeUnloadEvent) {
  e.preventDefault();
  e.returnValue = "";
}

function changed() {
  version++;
  if (typeof window !== "undefined") {
    // Added at most once (same function), removed when the last draft goes.
    if (drafts.size) window.addEventListener("beforeunload", onBeforeUnload);
    else window.removeEventListener("beforeunload", onBeforeUnload);
  }
  for (const l of listeners) l();
}

export function getDraft(agentId: string, path: string): Draft | undefined {
  return drafts.get(key(agentId, path));
}

export function saveDraft(d: Draft): void {
  const k = key(d.agentId, d.path);
  const old = drafts.get(k);
  if (old && old.text === d.text && old.baseline.sha256 === d.baseline.sha256) return;
  drafts.set(k, d);
  changed();
}

export function clearDraft(agentId: string, path: string): void {
  if (drafts.delete(key(agentId, path))) changed();
}

/** Paths with drafts moved along with a rename (a file, or everything under a directory). */
export function moveDrafts(agentId: string, from: string, to: string): void {
  let moved = false;
  for (const [k, d] of [...drafts]) {
    if (d.agentId !== agentId || (d.path !== from && !d.path.startsWith(`${from}/`))) continue;
    drafts.delete(k);
    const path = to + d.path.slice(from.length);
    drafts.set(key(agentId, path), { ...d, path });
    moved = true;
  }
  if (lastOpen.get(agentId) === from) lastOpen.set(agentId, to);
  if (moved) changed();
}

export function rememberOpen(agentId: string, path: string | null): void {
  if (path) lastOpen.set(agentId, path);
  else lastOpen.delete(agentId);
}

export function lastOpenPath(agentId: string): string | null {
  return lastOpen.get(agentId) ?? null;
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Re-renders when any draft changes; returns the paths of this agent's drafts. */
export function useDraftPaths(agentId: string): ReadonlySet<string> {
  useSyncExternalStore(
    subscribe,
    () => version,
    () => 0,
  );
  const paths = new Set<string>();
  for (const d of drafts.values()) if (d.agentId === agentId) paths.add(d.path);
  return paths;
}
