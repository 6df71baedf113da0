// `npm run db:migrate`: applies pending migrations to the configured database (DATABASE_URL,
// or the embedded PGlite in <ARMORY_DATA_DIR>/pglite), exactly as the server does at start.
import path from "node:path";
import { ConfigError, describeDatabase, loadConfig } from "../src/server/config";
import { DatabaseUnavailableError, openDatabase, type Database } from "../src/server/db";
import { applyMigrations, MigrationError } from "../src/server/db/migrate";

async function main(): Promise<number> {
  const config = loadConfig();
  console.log(`Database: ${describeDatabase(config)}`);
  const db: Database = await openDatabase(
    config.databaseUrl ? { databaseUrl: config.databaseUrl } : { pgliteDir: path.join(config.dataDir, "pglite") },
  );
  try {
    const { applied, alreadyApplied } = await applyMigrations(db, {
      log: (msg, data) => {
        const level = (data as { level?: string } | undefined)?.level;
        if (level === "warn") console.warn(`Warning: ${msg}`);
        else console.log(msg);
      },
    });
    if (applied.length === 0) {
      console.log(`Database is up to date (${alreadyApplied} migration${alreadyApplied === 1 ? "" : "s"} applied).`);
    } else {
      console.log(`Applied ${applied.length} migration${applied.length === 1 ? "" : "s"}: ${applied.join(", ")}`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Expected failures get their message only; anything else is a bug and keeps its stack.
    if (err instanceof MigrationError || err instanceof DatabaseUnavailableError || err instanceof ConfigError) {
      console.error(`Error: ${err.message}`);
    } else {
      console.error(err);
    }
    process.exit(1);
  },
);
