// The change a Write/Edit/MultiEdit call would make, as a unified diff against the file as it is
// now in the agent's container (read through its daemon). A file that does not exist yet diffs
// against nothing; one that cannot be read (too large, binary, agent stopped) falls back to the
// edit's own strings.
import { createTwoFilesPatch } from "diff";

/** Diffs longer than this are cut (an approval is read by a person). */
export const MAX_DIFF_CHARS = 200_000;

/** The file's current text; null when it does not exist; throws when it cannot be read. */
export type ReadCurrent = (path: string) => Promise<string | null>;

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

function cut(diff: string): string {
  return diff.length > MAX_DIFF_CHARS ? `${diff.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS.toLocaleString("en")} characters)\n` : diff;
}

function patch(file: string, before: string, after: string): string {
  return cut(createTwoFilesPatch(file, file, before, after, "current", "proposed", { context: 3 }));
}

interface EditOp {
  old: string;
  new: string;
  all: boolean;
}

function applyEdits(text: string, edits: EditOp[]): string | null {
  let out = text;
  for (const e of edits) {
    if (!e.old) {
      if (out) return null;
      out = e.new;
      continue;
    }
    if (!out.includes(e.old)) return null;
    out = e.all ? out.split(e.old).join(e.new) : out.replace(e.old, () => e.new);
  }
  return out;
}

function editsOf(toolName: string, input: Record<string, unknown>): EditOp[] | null {
  if (toolName === "Edit") {
    const o = str(input.old_string);
    const n = str(input.new_string);
    return o !== null && n !== null ? [{ old: o, new: n, all: input.replace_all === true }] : null;
  }
  if (toolName === "MultiEdit" && Array.isArray(input.edits)) {
    const ops: EditOp[] = [];
    for (const e of input.edits) {
      if (!e || typeof e !== "object") return null;
      const r = e as Record<string, unknown>;
      const o = str(r.old_string);
      const n = str(r.new_string);
      if (o === null || n === null) return null;
      ops.push({ old: o, new: n, all: r.replace_all === true });
    }
    return ops;
  }
  return null;
}

/** The diff for a file-changing tool call; null for other tools. */
export async function renderDiff(toolName: string, input: Record<string, unknown>, readCurrent: ReadCurrent | null): Promise<string | null> {
  const file = str(input.file_path);
  if (!file || !["Write", "Edit", "MultiEdit"].includes(toolName)) return null;
  let current: string | null | undefined;
  try {
    current = readCurrent ? await readCurrent(file) : undefined;
  } catch {
    current = undefined; // cannot be read: diff the edit's own strings
  }
  if (toolName === "Write") {
    const content = str(input.content);
    if (content === null) return null;
    return patch(file, current ?? "", content);
  }
  const edits = editsOf(toolName, input);
  if (!edits) return null;
  if (typeof current === "string") {
    const after = applyEdits(current, edits);
    if (after !== null) return patch(file, current, after);
  }
  // Not readable, or the old text is not in it (the CLI will refuse the edit itself): the strings alone.
  return cut(edits.map((e) => createTwoFilesPatch(file, file, e.old, e.new, "old_string", "new_string", { context: 3 })).join(""));
}
