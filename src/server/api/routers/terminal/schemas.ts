// terminal.* input and output schemas: the public contract of the Terminal API.
import { z } from "zod";

/** Terminal size limits (the daemon's term.open/term.resize accept the same range). */
export const TERMINAL_MIN_SIZE = 2;
export const TERMINAL_MAX_SIZE = 1000;

const cols = z.number().int().min(TERMINAL_MIN_SIZE).max(TERMINAL_MAX_SIZE, `cols must be at most ${TERMINAL_MAX_SIZE}`);
const rows = z.number().int().min(TERMINAL_MIN_SIZE).max(TERMINAL_MAX_SIZE, `rows must be at most ${TERMINAL_MAX_SIZE}`);
const termId = z.uuid({ error: "termId must be a terminal id (a UUID)" });

export const terminalOpenInput = z.object({ cols, rows });

/** One event of terminal.open: "opened" first, then output, then "exit" or "ended" last. */
export const terminalEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("opened"), termId: z.string() }),
  /** Output bytes, base64. */
  z.object({ type: z.literal("data"), data: z.string() }),
  /** The shell exited (null: it was killed by a signal). */
  z.object({ type: z.literal("exit"), exitCode: z.number().nullable() }),
  /** It ended for another reason: the agent stopped, its daemon went away, the browser fell behind. */
  z.object({ type: z.literal("ended"), reason: z.string() }),
]);
export type TerminalStreamEvent = z.infer<typeof terminalEvent>;

/** Keystrokes: UTF-8 text, at most 64 KiB per call (the service answers 413 beyond). */
/** Characters one input may carry at most; the service's byte limit (64 KiB of UTF-8, 413) is the real bound. */
const MAX_INPUT_CHARS = 4 * 64 * 1024;
export const terminalInputInput = z.object({
  termId,
  data: z.string({ error: "data is required" }).min(1, "data is empty").max(MAX_INPUT_CHARS, `data: at most 64 KiB per call`),
});
export const terminalInputOutput = z.object({ ok: z.literal(true) });

export const terminalResizeInput = z.object({ termId, cols, rows });
export const terminalResizeOutput = z.object({ ok: z.literal(true) });
