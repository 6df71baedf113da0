// Armory's data directory holds the embedded database, the generated auth secret and the master
// key of secrets at rest: whatever Armory creates there is private to its user (0700).
import fs from "node:fs";

/** Creates `dir` (and missing parents) as 0700; an existing directory is left as it is. */
export function ensurePrivateDir(dir: string): void {
  const created = fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The process umask may only remove bits; chmod makes the mode exact on what was just created.
  if (created) fs.chmodSync(dir, 0o700);
}
