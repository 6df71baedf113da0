// PGlite's memory in Armory's process. Two measured costs (scripts/bench/README.md, "server RSS"):
//  - creating a data directory runs initdb inside the process: about 750 MB resident, of which
//    some 200 MB stays after it is done. A new directory is therefore created by a short-lived
//    child process; Armory's process only ever opens an existing one.
//  - PostgreSQL's shared buffers (PGlite's default 128 MB, in its WebAssembly heap): an embedded
//    database of one Armory reads its pages through the operating system's file cache anyway,
//    so 32 MB of its own are enough (opening: 284 -> 170 MB resident).
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const PGLITE_SHARED_BUFFERS = "32MB";

/**
 * PGlite's own start parameters (`PGlite.defaultStartParams`) with Armory's memory settings. PGlite
 * is the caller's to import (dynamically): a static import here would load it in every server, the
 * bundled one on PostgreSQL included (scripts/bundle-server.ts inlines this file).
 */
export function pgliteStartParams(defaults: readonly string[]): string[] {
  return [...defaults, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`];
}

/** Whether `dir` holds a PostgreSQL data directory already. */
export function pgliteDirExists(dir: string): boolean {
  return fs.existsSync(path.join(dir, "PG_VERSION"));
}

const INIT_SCRIPT = `
const [spec, dir] = process.argv.slice(1);
const { PGlite } = await import(spec);
const db = await PGlite.create(dir);
await db.close();
`;

/** Creates PGlite's data directory in `dir` (empty or absent) in a child process. */
export async function createPgliteDirApart(dir: string): Promise<void> {
  let spec = "@electric-sql/pglite";
  try {
    spec = import.meta.resolve(spec);
  } catch {
    // Resolved by the child from the working directory instead.
  }
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", INIT_SCRIPT, spec, dir], { timeout: 120_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`creating the embedded database failed: ${stderr.trim().split("\n").slice(-3).join(" ") || err.message}`));
      else resolve();
    });
  });
}
