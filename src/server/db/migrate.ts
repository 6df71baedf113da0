// Applies prisma/migrations at start-up, behaving like `prisma migrate deploy` as seen from the
// database (same `_prisma_migrations` table, checksums and failure records), so the Prisma CLI
// and this runner can be used interchangeably. It needs no schema engine: each migration.sql
// runs as one script inside a transaction together with its `_prisma_migrations` row.
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Database, RawSql } from "./index";

export const MIGRATIONS_TABLE = "_prisma_migrations";
/** The advisory lock key Prisma Migrate uses, so we also exclude a concurrent `prisma migrate`. */
export const MIGRATION_LOCK_KEY = 72707369;
const LOCK_FILE = "migration_lock.toml";

export type MigrationLog = (msg: string, data?: object) => void;

export interface ApplyMigrationsOptions {
  /** Defaults to `<cwd>/prisma/migrations`. */
  migrationsDir?: string;
  /** Progress and warnings; warnings carry `{ level: "warn" }` in data. */
  log?: MigrationLog;
}

export interface ApplyMigrationsResult {
  /** Names applied by this call, in order. */
  applied: string[];
  /** Migrations on disk that were already applied (including by a concurrent runner). */
  alreadyApplied: number;
}

export interface MigrationFile {
  /** Directory name, e.g. `20260101120000_init`. */
  name: string;
  sqlPath: string;
  sql: string;
  /** sha256 hex of the migration.sql bytes, as Prisma computes it. */
  checksum: string;
}

export type MigrationErrorKind =
  /** A migration's SQL failed; it was rolled back and recorded as failed. */
  | "failed"
  /** A previous failure is recorded and not yet resolved; nothing was applied. */
  | "unresolved-failure"
  /** The migrations directory is unusable (missing migration.sql, wrong provider). */
  | "invalid-directory";

export class MigrationError extends Error {
  readonly kind: MigrationErrorKind;
  readonly migration: string | undefined;
  /** The database's own error message, when the database reported one. */
  readonly databaseMessage: string | undefined;

  constructor(
    kind: MigrationErrorKind,
    message: string,
    opts: { migration?: string; databaseMessage?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "MigrationError";
    this.kind = kind;
    this.migration = opts.migration;
    this.databaseMessage = opts.databaseMessage;
  }
}

export function defaultMigrationsDir(): string {
  return path.join(process.cwd(), "prisma/migrations");
}

export function checksumOf(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Prisma accepts a stored checksum when it matches the script as is or with CRLF line endings
 * normalized (git autocrlf checkouts), so an unchanged file on Windows is not "modified".
 */
function matchesChecksum(sql: string, raw: Buffer, stored: string): boolean {
  if (checksumOf(raw) === stored) return true;
  if (sql.includes("\r\n")) return checksumOf(sql.replace(/\r\n/g, "\n")) === stored;
  return checksumOf(sql.replace(/\n/g, "\r\n")) === stored;
}

interface ListedMigration extends MigrationFile {
  raw: Buffer;
}

function readMigrations(migrationsDir: string): ListedMigration[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(migrationsDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort() // lexical: the timestamp prefix orders them
    .map((name) => {
      const sqlPath = path.join(migrationsDir, name, "migration.sql");
      let raw: Buffer;
      try {
        raw = fs.readFileSync(sqlPath);
      } catch {
        throw new MigrationError(
          "invalid-directory",
          `Could not find the migration file at ${sqlPath}. Please delete the directory or restore the migration file.`,
          { migration: name },
        );
      }
      return { name, sqlPath, sql: raw.toString("utf8"), checksum: checksumOf(raw), raw };
    });
}

/** The migration directories under migrationsDir, in the order they are applied. */
export function listMigrations(migrationsDir: string = defaultMigrationsDir()): MigrationFile[] {
  return readMigrations(migrationsDir).map(({ raw: _raw, ...m }) => m);
}

function checkLockFile(migrationsDir: string): void {
  let content: string;
  try {
    content = fs.readFileSync(path.join(migrationsDir, LOCK_FILE), "utf8");
  } catch {
    return; // Prisma tolerates a missing lock file
  }
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(content)?.[1];
  if (provider && provider !== "postgresql") {
    throw new MigrationError(
      "invalid-directory",
      `${path.join(migrationsDir, LOCK_FILE)} says the migrations are for "${provider}", but Armory uses PostgreSQL.`,
    );
  }
}

/** Prisma's DDL for the table, unchanged, so `prisma migrate status/deploy` can read it too. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  logs: string | null;
  started_at: Date | string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
}

const SELECT_ROWS = `SELECT id, checksum, migration_name, logs, started_at, finished_at, rolled_back_at
  FROM "${MIGRATIONS_TABLE}" ORDER BY started_at, migration_name`;

const isFailed = (r: MigrationRow) => r.finished_at === null && r.rolled_back_at === null;
const isApplied = (r: MigrationRow) => r.finished_at !== null && r.rolled_back_at === null;

function formatTime(t: Date | string): string {
  return t instanceof Date ? t.toISOString() : String(t);
}

/**
 * Serializes runners (processes, or several calls in one process) for the rest of the
 * transaction. Transaction-scoped, so a crashed runner can never leave it held.
 */
async function lockMigrations(tx: RawSql, log: MigrationLog): Promise<void> {
  const [row] = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${MIGRATION_LOCK_KEY}) AS locked`);
  if (row?.locked) return;
  log("Another process is applying migrations; waiting for it to finish", { level: "info" });
  await tx.exec(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
}

function unresolvedFailureError(row: MigrationRow): MigrationError {
  const recorded = row.logs?.trim() ? `\nRecorded error:\n  ${row.logs.trim().replace(/\n/g, "\n  ")}\n` : "";
  const sqlName = row.migration_name.replace(/'/g, "''");
  return new MigrationError(
    "unresolved-failure",
    `The migration \`${row.migration_name}\` failed (started at ${formatTime(row.started_at)}) and is still ` +
      `recorded as failed in ${MIGRATIONS_TABLE}, so no further migrations will be applied.\n${recorded}` +
      `Armory runs each migration in a transaction, so the failed attempt left no changes behind. ` +
      `Fix the cause (the migration file, or the data it tripped over), then mark the attempt as ` +
      `rolled back and start again:\n` +
      `  UPDATE "${MIGRATIONS_TABLE}" SET rolled_back_at = now() WHERE migration_name = '${sqlName}' ` +
      `AND finished_at IS NULL AND rolled_back_at IS NULL;\n` +
      `(the same as \`prisma migrate resolve --rolled-back ${row.migration_name}\`).`,
    { migration: row.migration_name },
  );
}

interface DbErrorLike {
  message?: string;
  code?: string;
  detail?: string;
  hint?: string;
  position?: string | number;
  where?: string;
}

function databaseMessageOf(err: unknown): string {
  const e = (typeof err === "object" && err !== null ? err : {}) as DbErrorLike;
  const parts = [e.message ?? String(err)];
  if (e.detail) parts.push(`DETAIL: ${e.detail}`);
  if (e.hint) parts.push(`HINT: ${e.hint}`);
  if (e.where) parts.push(`CONTEXT: ${e.where}`);
  return parts.join("\n");
}

/** What goes in the `logs` column of a failed migration (close to Prisma's layout). */
function failureLogs(err: unknown): string {
  const e = (typeof err === "object" && err !== null ? err : {}) as DbErrorLike;
  const code = e.code ? `Database error code: ${e.code}\n\n` : "";
  const position = e.position ? `\n\nPosition: ${e.position}` : "";
  return `${code}Database error:\n${databaseMessageOf(err)}${position}`;
}

type StepOutcome =
  | { status: "applied" }
  | { status: "already-applied" }
  | { status: "blocked"; row: MigrationRow }
  | { status: "failed"; error: unknown };

/**
 * One migration in one transaction: lock, re-check (a concurrent runner may have got there
 * first), run the script under a savepoint, and record the outcome. A failure rolls back to the
 * savepoint and its record is committed while the lock is still held, so a waiting runner sees
 * it and stops instead of trying the same migration again.
 */
async function applyOne(db: Database, m: ListedMigration, log: MigrationLog): Promise<StepOutcome> {
  return db.raw.transaction(async (tx): Promise<StepOutcome> => {
    await lockMigrations(tx, log);
    const rows = await tx.query<MigrationRow>(
      `SELECT id, checksum, migration_name, logs, started_at, finished_at, rolled_back_at
         FROM "${MIGRATIONS_TABLE}"
        WHERE rolled_back_at IS NULL AND (finished_at IS NULL OR migration_name = $1)
        ORDER BY started_at`,
      [m.name],
    );
    const failed = rows.find(isFailed);
    if (failed) return { status: "blocked", row: failed };
    if (rows.some((r) => r.migration_name === m.name && isApplied(r))) return { status: "already-applied" };

    await tx.exec("SAVEPOINT armory_migration");
    try {
      await tx.exec(m.sql);
    } catch (error) {
      await tx.exec("ROLLBACK TO SAVEPOINT armory_migration");
      await tx.query(
        `INSERT INTO "${MIGRATIONS_TABLE}" (id, checksum, migration_name, logs, started_at, applied_steps_count)
         VALUES ($1, $2, $3, $4, now(), 0)`,
        [randomUUID(), m.checksum, m.name, failureLogs(error)],
      );
      return { status: "failed", error };
    }
    try {
      await tx.exec("RELEASE SAVEPOINT armory_migration");
    } catch (error) {
      // The savepoint is gone only if the script ended our transaction (COMMIT/ROLLBACK in it).
      throw new MigrationError(
        "failed",
        `The migration \`${m.name}\` ends the transaction Armory runs it in (it contains COMMIT, ROLLBACK ` +
          `or END). Remove the transaction control statements from it. Statements before that point may ` +
          `have been committed; the migration is not recorded as applied, so check the database before ` +
          `starting again.`,
        { migration: m.name, databaseMessage: databaseMessageOf(error), cause: error },
      );
    }
    await tx.query(
      `INSERT INTO "${MIGRATIONS_TABLE}" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), m.checksum, m.name],
    );
    return { status: "applied" };
  });
}

/**
 * Applies every migration in migrationsDir that the database has not applied yet, in lexical
 * order, each in its own transaction. Throws MigrationError when a migration fails (after
 * recording the failure) or when an earlier failure has not been resolved.
 */
export async function applyMigrations(db: Database, opts: ApplyMigrationsOptions = {}): Promise<ApplyMigrationsResult> {
  const migrationsDir = opts.migrationsDir ?? defaultMigrationsDir();
  const log: MigrationLog = opts.log ?? (() => {});
  const migrations = readMigrations(migrationsDir);
  checkLockFile(migrationsDir);
  if (migrations.length === 0) {
    log(`No migrations found in ${migrationsDir}`, { level: "warn", migrationsDir });
  }

  // Create the table and take stock under the lock (two runners must not both CREATE TABLE).
  const rows = await db.raw.transaction(async (tx) => {
    await lockMigrations(tx, log);
    await tx.exec(CREATE_MIGRATIONS_TABLE);
    return tx.query<MigrationRow>(SELECT_ROWS);
  });

  const failed = rows.find(isFailed);
  if (failed) throw unresolvedFailureError(failed);

  const appliedRows = new Map(rows.filter(isApplied).map((r) => [r.migration_name, r]));
  const onDisk = new Set(migrations.map((m) => m.name));
  for (const m of migrations) {
    const row = appliedRows.get(m.name);
    if (row && !matchesChecksum(m.sql, m.raw, row.checksum)) {
      log(`The migration ${m.name} was modified after it was applied (its checksum differs); continuing`, {
        level: "warn",
        migration: m.name,
      });
    }
  }
  for (const name of appliedRows.keys()) {
    if (!onDisk.has(name)) {
      log(`The migration ${name} is applied in the database but missing from ${migrationsDir}`, {
        level: "warn",
        migration: name,
      });
    }
  }

  const applied: string[] = [];
  let alreadyApplied = migrations.filter((m) => appliedRows.has(m.name)).length;
  for (const m of migrations.filter((x) => !appliedRows.has(x.name))) {
    log(`Applying migration ${m.name}`, { level: "info", migration: m.name });
    const started = Date.now();
    let outcome: StepOutcome;
    try {
      outcome = await applyOne(db, m, log);
    } catch (error) {
      if (error instanceof MigrationError) throw error;
      // The database failed outside the migration's own SQL (connection lost, recording failed).
      throw new MigrationError(
        "failed",
        `Applying the migration \`${m.name}\` failed: ${databaseMessageOf(error)}`,
        { migration: m.name, databaseMessage: databaseMessageOf(error), cause: error },
      );
    }
    switch (outcome.status) {
      case "applied":
        applied.push(m.name);
        log(`Applied migration ${m.name}`, { level: "info", migration: m.name, ms: Date.now() - started });
        break;
      case "already-applied":
        alreadyApplied++; // a concurrent runner applied it while we waited for the lock
        break;
      case "blocked":
        throw unresolvedFailureError(outcome.row);
      case "failed": {
        const databaseMessage = databaseMessageOf(outcome.error);
        const sqlName = m.name.replace(/'/g, "''");
        throw new MigrationError(
          "failed",
          `The migration \`${m.name}\` failed and was rolled back; the database is unchanged by it.\n` +
            `Database error: ${databaseMessage}\n` +
            `It is recorded as failed in ${MIGRATIONS_TABLE}, which stops later starts until resolved: ` +
            `fix the migration, then run\n` +
            `  UPDATE "${MIGRATIONS_TABLE}" SET rolled_back_at = now() WHERE migration_name = '${sqlName}' ` +
            `AND finished_at IS NULL AND rolled_back_at IS NULL;\nand start again.`,
          { migration: m.name, databaseMessage, cause: outcome.error },
        );
      }
    }
  }
  return { applied, alreadyApplied };
}
