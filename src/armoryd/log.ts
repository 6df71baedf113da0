// armoryd's log: one line per event on stderr (the container log), prefixed with the time.
// Never pass secrets here: callers log URLs without credentials and never the token.

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} armoryd: ${message}\n`);
}

/** The message of any thrown value, on one line. */
export function errorText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const text = typeof e?.message === "string" ? e.message : String(err);
  return text.replace(/\s+/g, " ").trim();
}
