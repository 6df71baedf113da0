// Each test file gets fresh databases of both kinds: a new database in the throwaway
// PostgreSQL cluster, and an in-memory (or temp-dir) PGlite.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { inject } from "vitest";
import type { OpenDatabaseOptions } from "@/server/db";

export type DbKind = "pglite" | "postgres";
export const DB_KINDS: DbKind[] = ["pglite", "postgres"];

export interface TestDatabaseTarget {
  kind: DbKind;
  options: OpenDatabaseOptions;
  /** Removes the database (PostgreSQL) or its directory (PGlite). */
  drop(): Promise<void>;
}

/**
 * A fresh database with Armory's migrations applied and nothing else (made from the migrated
 * templates of global-setup.ts), or with `empty` one without any tables (migration tests). PGlite gets a temp directory (so tests can reopen it to check
 * persistence); PostgreSQL gets a new database in the suite's cluster.
 */
export async function createTestDatabase(kind: DbKind, opts: { empty?: boolean } = {}): Promise<TestDatabaseTarget> {
  if (kind === "pglite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-pglite-"));
    // A copy of the migrated template (global-setup.ts): no initdb per test file.
    if (!opts.empty) fs.cpSync(inject("pgliteTemplateDir"), dir, { recursive: true });
    return {
      kind,
      options: { pgliteDir: dir },
      async drop() {
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const adminUrl = inject("pgAdminUrl");
  const name = `armory_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(opts.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${inject("pgTemplateDb")}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    options: { databaseUrl: url.toString() },
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * The database a Docker-backed suite runs on. Each suite names its own (the suites are split
 * between the two kinds, so every service that touches the database meets a real container on
 * PostgreSQL — real connections and concurrency — and on PGlite, the embedded default);
 * `ARMORY_TEST_DB=postgres` or `=pglite` runs them all on one kind
 * (e.g. `ARMORY_TEST_DB=postgres npx vitest run tests/docker`).
 */
export function suiteDb(own: DbKind): DbKind {
  const forced = process.env.ARMORY_TEST_DB;
  if (forced === undefined || forced === "") return own;
  if (forced !== "pglite" && forced !== "postgres") throw new Error(`ARMORY_TEST_DB must be "pglite" or "postgres", not "${forced}"`);
  return forced;
}
