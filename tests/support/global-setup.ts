// Vitest global setup: one PostgreSQL cluster for the whole run; each test file creates its
// own database in it (see databases.ts). Both kinds start from a migrated template made here
// once: a fresh PGlite directory costs an initdb (seconds of CPU) and every migration, a copy
// of the migrated one a fraction of that; PostgreSQL databases are created from a migrated
// template database. Each test still runs Armory's migration step, which finds nothing to do.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/server/db";
import { applyMigrations } from "../../src/server/db/migrate";
import { startPostgresCluster } from "./postgres-cluster";

export const PG_TEMPLATE_DB = "armory_template";

async function migrated(options: Parameters<typeof openDatabase>[0]): Promise<void> {
  const db = await openDatabase(options);
  try {
    await applyMigrations(db, { log: () => {} });
  } finally {
    await db.close();
  }
}

export default async function setup(project: TestProject) {
  const cluster = await startPostgresCluster();
  const pgliteTemplate = fs.mkdtempSync(path.join(os.tmpdir(), "armory-pglite-template-"));
  try {
    const admin = new pg.Client({ connectionString: cluster.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${PG_TEMPLATE_DB}`);
    await admin.end();
    const url = new URL(cluster.adminUrl);
    url.pathname = `/${PG_TEMPLATE_DB}`;
    await Promise.all([migrated({ databaseUrl: url.toString() }), migrated({ pgliteDir: pgliteTemplate })]);
  } catch (err) {
    await cluster.stop();
    fs.rmSync(pgliteTemplate, { recursive: true, force: true });
    throw err;
  }
  project.provide("pgAdminUrl", cluster.adminUrl);
  project.provide("pgTemplateDb", PG_TEMPLATE_DB);
  project.provide("pgliteTemplateDir", pgliteTemplate);
  return async () => {
    await cluster.stop();
    fs.rmSync(pgliteTemplate, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
    /** A migrated database new test databases are created from. */
    pgTemplateDb: string;
    /** A migrated PGlite directory new test databases are copied from. */
    pgliteTemplateDir: string;
  }
}
