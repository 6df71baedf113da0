// The change an Edit, MultiEdit or Write tool call makes, as unified-diff lines for the chat's
// tool blocks (jsdiff). Built from the call's input as Claude Code sends it (Edit: file_path,
// old_string, new_string; MultiEdit: file_path, edits[]; Write: file_path, content) and, for
// Write, the file's previous content when Claude Code reported it (tool_use_result.originalFile).
// An approval carries the server's unified diff as text (the change against the file as it is
// now): parseUnifiedDiff reads it into the same lines.
import { structuredPatch } from "diff";

export interface DiffLine {
  kind: "add" | "del" | "ctx" | "hunk";
  text: string;
}

export interface ToolDiff {
  path: string;
  lines: DiffLine[];
  added: number;
  removed: number;
  /** Lines beyond the display limit were left out. */
  truncated: boolean;
}

export const DIFF_TOOLS = ["Edit", "MultiEdit", "Write"] as const;
const MAX_LINES = 500;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** The unified diff of one change (hunks with 3 lines of context), appended to `out`. */
function appendPatch(out: ToolDiff, before: string, after: string, label?: string): void {
  const patch = structuredPatch("a", "b", before, after, undefined, undefined, { context: 3 });
  for (const h of patch.hunks) {
    out.lines.push({ kind: "hunk", text: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@${label ? ` ${label}` : ""}` });
    for (const l of h.lines) {
      if (l.startsWith("\\")) continue; // "\ No newline at end of file"
      const kind = l[0] === "+" ? "add" : l[0] === "-" ? "del" : "ctx";
      if (kind === "add") out.added++;
      if (kind === "del") out.removed++;
      out.lines.push({ kind, text: l.slice(1) });
    }
  }
}

/** The diff a file tool call shows, or null for other tools (or inputs that are not a file change). */
export function toolDiff(name: string, input: unknown, toolUseResult?: unknown): ToolDiff | null {
  if (!isObj(input)) return null;
  const path = str(input.file_path) ?? str(input.path);
  if (!path) return null;
  const out: ToolDiff = { path, lines: [], added: 0, removed: 0, truncated: false };
  if (name === "Edit") {
    const before = str(input.old_string);
    const after = str(input.new_string);
    if (before === null || after === null) return null;
    appendPatch(out, before, after);
  } else if (name === "MultiEdit") {
    if (!Array.isArray(input.edits)) return null;
    const edits = input.edits.filter(isObj);
    edits.forEach((e, i) => appendPatch(out, str(e.old_string) ?? "", str(e.new_string) ?? "", edits.length > 1 ? `edit ${i + 1} of ${edits.length}` : undefined));
  } else if (name === "Write") {
    const content = str(input.content);
    if (content === null) return null;
    const original = isObj(toolUseResult) ? str(toolUseResult.originalFile) : null;
    appendPatch(out, original ?? "", content);
  } else {
    return null;
  }
  if (out.lines.length > MAX_LINES) {
    out.lines = out.lines.slice(0, MAX_LINES);
    out.truncated = true;
  }
  return out;
}

/**
 * A unified diff as text (`--- a/x`, `+++ b/x`, `@@ … @@` hunks; what an approval's `diff` holds)
 * as the same lines the tool blocks draw; the file headers are left out. Null when it has no hunk.
 */
export function parseUnifiedDiff(text: string, fallbackPath = ""): ToolDiff | null {
  const out: ToolDiff = { path: fallbackPath, lines: [], added: 0, removed: 0, truncated: false };
  let inHunk = false;
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.startsWith("@@")) {
      inHunk = true;
      out.lines.push({ kind: "hunk", text: line });
    } else if (!inHunk) {
      // Headers: "Index:", "===", "--- a/path", "+++ b/path" (the new file's name is the path).
      const m = /^\+\+\+ (?:b\/)?(.+?)(?:\t.*)?$/.exec(line);
      if (m && m[1] && m[1] !== "/dev/null") out.path = m[1].startsWith("/") || !fallbackPath ? m[1] : fallbackPath;
    } else if (line.startsWith("\\")) {
      continue; // "\ No newline at end of file"
    } else if (line.startsWith("+")) {
      out.added++;
      out.lines.push({ kind: "add", text: line.slice(1) });
    } else if (line.startsWith("-")) {
      out.removed++;
      out.lines.push({ kind: "del", text: line.slice(1) });
    } else if (line.startsWith(" ")) {
      out.lines.push({ kind: "ctx", text: line.slice(1) });
    } else if (line === "") {
      continue; // the text's last newline
    } else {
      inHunk = false; // a next file's headers
    }
  }
  if (!out.lines.some((l) => l.kind === "hunk")) return null;
  if (out.lines.length > MAX_LINES) {
    out.lines = out.lines.slice(0, MAX_LINES);
    out.truncated = true;
  }
  return out;
}
