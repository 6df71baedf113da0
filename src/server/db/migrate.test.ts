// The migration runner on both PGlite and real PostgreSQL, and migration creation with the WASM
// schema engine. One database per kind for the whole file (PGlite start-up is the slow part);
// each test starts from an empty public schema.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, DB_KINDS, type TestDatabaseTarget } from "../../../tests/support/databases";
import {
  createMigration,
  CreateMigrationError,
  EMPTY_MIGRATION_SQL,
  MIGRATION_LOCK_CONTENT,
} from "./create-migration";
import { openDatabase, type Database } from "./index";
import { applyMigrations, checksumOf, listMigrations, MigrationError, MIGRATION_LOCK_KEY } from "./migrate";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const REAL_MIGRATIONS = path.join(ROOT, "prisma/migrations");
const SCHEMA = path.join(ROOT, "prisma/schema.prisma");

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of the real migrations plus extra ones: `{ dirName: sql }`. */
function migrationsWith(extra: Record<string, string> = {}): string {
  const dir = tempDir("armory-migrations-");
  fs.cpSync(REAL_MIGRATIONS, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

/** Table names the Prisma schema maps its models to. */
function schemaTables(): string[] {
  const text = fs.readFileSync(SCHEMA, "utf8");
  return [...text.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)].map(
    ([, model, body]) => /@@map\("([^"]+)"\)/.exec(body ?? "")?.[1] ?? model ?? "",
  );
}

interface Row {
  id: string;
  checksum: string;
  migration_name: string;
  logs: string | null;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

const rowsOf = (db: Database) =>
  db.raw.query<Row>(`SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name`);

async function tableExists(db: Database, name: string): Promise<boolean> {
  const [r] = await db.raw.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [`public."${name}"`]);
  return r?.t != null;
}

const realNames = () => listMigrations(REAL_MIGRATIONS).map((m) => m.name);
const BROKEN = "99990101000000_broken";
const BROKEN_SQL = `CREATE TABLE "armory_partial" ("id" INTEGER);\nSELECT * FROM "armory_no_such_table";\n`;

describe.each(DB_KINDS)("applyMigrations on %s", (kind) => {
  let target: TestDatabaseTarget;
  let db: Database;
  const others: Database[] = [];

  beforeAll(async () => {
    target = await createTestDatabase(kind, { empty: true });
    db = await openDatabase(target.options);
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });
  beforeEach(async () => {
    await db.raw.exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public;`);
  });
  afterEach(async () => {
    await Promise.all(others.splice(0).map((o) => o.close()));
  });

  it("applies every migration to a fresh database and creates the schema's tables", async () => {
    expect(realNames().length).toBeGreaterThan(0);
    const result = await applyMigrations(db, { migrationsDir: REAL_MIGRATIONS });
    expect(result).toEqual({ applied: realNames(), alreadyApplied: 0 });
    for (const table of [...schemaTables(), "_prisma_migrations"]) {
      expect(await tableExists(db, table), table).toBe(true);
    }
    // The Prisma client can use the result.
    await db.prisma.user.create({ data: { id: "u1", name: "A", email: "a@example.com" } });
    expect(await db.prisma.user.count()).toBe(1);
  });

  it("records each migration the way Prisma does", async () => {
    const before = Date.now();
    await applyMigrations(db, { migrationsDir: REAL_MIGRATIONS });
    const rows = await rowsOf(db);
    const files = listMigrations(REAL_MIGRATIONS);
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      const file = files[i]!;
      expect(row.checksum).toBe(checksumOf(fs.readFileSync(file.sqlPath)));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.started_at.getTime()).toBeGreaterThan(before - 60_000);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    // Prisma's exact table definition, so the Prisma CLI can read it.
    const columns = await db.raw.query<{
      column_name: string;
      data_type: string;
      character_maximum_length: number | null;
      is_nullable: string;
      column_default: string | null;
    }>(
      `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.character_maximum_length, c.is_nullable])).toEqual([
      ["id", "character varying", 36, "NO"],
      ["checksum", "character varying", 64, "NO"],
      ["finished_at", "timestamp with time zone", null, "YES"],
      ["migration_name", "character varying", 255, "NO"],
      ["logs", "text", null, "YES"],
      ["rolled_back_at", "timestamp with time zone", null, "YES"],
      ["started_at", "timestamp with time zone", null, "NO"],
      ["applied_steps_count", "integer", null, "NO"],
    ]);
    expect(columns.find((c) => c.column_name === "started_at")?.column_default).toBe("now()");
    expect(columns.find((c) => c.column_name === "applied_steps_count")?.column_default).toBe("0");
  });

  it("applies nothing the second time", async () => {
    await applyMigrations(db, { migrationsDir: REAL_MIGRATIONS });
    const rowsBefore = await rowsOf(db);
    const again = await applyMigrations(db, { migrationsDir: REAL_MIGRATIONS });
    expect(again).toEqual({ applied: [], alreadyApplied: realNames().length });
    expect(await rowsOf(db)).toEqual(rowsBefore);
  });

  it("rolls a failing migration back completely, records it as failed, and refuses to go on", async () => {
    const dir = migrationsWith({ [BROKEN]: BROKEN_SQL });
    const err = await applyMigrations(db, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    const me = err as MigrationError;
    expect(me.kind).toBe("failed");
    expect(me.migration).toBe(BROKEN);
    expect(me.message).toContain(BROKEN);
    expect(me.message).toContain("armory_no_such_table");
    expect(me.databaseMessage).toContain("armory_no_such_table");

    // Nothing of the broken migration is left; the good ones before it stay applied.
    expect(await tableExists(db, "armory_partial")).toBe(false);
    const rows = await rowsOf(db);
    expect(rows.filter((r) => r.finished_at !== null).map((r) => r.migration_name)).toEqual(realNames());
    const failed = rows.filter((r) => r.migration_name === BROKEN);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(failed[0]!.checksum).toBe(checksumOf(BROKEN_SQL));
    expect(failed[0]!.logs).toContain("armory_no_such_table");

    // The next start refuses, and says how to resolve it.
    const again = await applyMigrations(db, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(MigrationError);
    expect((again as MigrationError).kind).toBe("unresolved-failure");
    expect((again as MigrationError).message).toContain(BROKEN);
    expect((again as MigrationError).message).toContain("rolled_back_at = now()");
    expect(await rowsOf(db)).toHaveLength(rows.length);

    // Following that advice (fix the file, mark the attempt rolled back) gets it applied.
    fs.writeFileSync(path.join(dir, BROKEN, "migration.sql"), `CREATE TABLE "armory_partial" ("id" INTEGER);\n`);
    await db.raw.exec(
      `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${BROKEN}' AND finished_at IS NULL AND rolled_back_at IS NULL`,
    );
    expect(await applyMigrations(db, { migrationsDir: dir })).toEqual({
      applied: [BROKEN],
      alreadyApplied: realNames().length,
    });
    expect(await tableExists(db, "armory_partial")).toBe(true);
  });

  it("runs scripts whole: $$ bodies and quoted semicolons work", async () => {
    const dir = migrationsWith({
      "99990101000000_function": [
        `CREATE FUNCTION armory_add_one(a INTEGER) RETURNS INTEGER AS $$`,
        `DECLARE b INTEGER;`,
        `BEGIN`,
        `  b := a + 1; -- a ';' in a comment`,
        `  RETURN b;`,
        `END;`,
        `$$ LANGUAGE plpgsql;`,
        `CREATE TABLE "armory_semi" ("v" TEXT NOT NULL DEFAULT 'a;b');`,
        `INSERT INTO "armory_semi" DEFAULT VALUES;`,
        ``,
      ].join("\n"),
    });
    const result = await applyMigrations(db, { migrationsDir: dir });
    expect(result.applied).toContain("99990101000000_function");
    const [r] = await db.raw.query<{ n: number; v: string }>(`SELECT armory_add_one(41) AS n, v FROM "armory_semi"`);
    expect(r).toEqual({ n: 42, v: "a;b" });
  });

  it("warns about edited and unknown migrations but carries on", async () => {
    const dir = migrationsWith({ "99990101000000_extra": `CREATE TABLE "armory_extra" ("id" INTEGER);\n` });
    await applyMigrations(db, { migrationsDir: dir });
    // Edit an applied migration (a harmless comment), remove another from disk.
    const [first] = realNames();
    fs.appendFileSync(path.join(dir, first!, "migration.sql"), "\n-- edited\n");
    fs.rmSync(path.join(dir, "99990101000000_extra"), { recursive: true });
    const logs: { msg: string; data?: object }[] = [];
    const result = await applyMigrations(db, { migrationsDir: dir, log: (msg, data) => logs.push({ msg, data }) });
    expect(result).toEqual({ applied: [], alreadyApplied: realNames().length });
    const warnings = logs.filter((l) => (l.data as { level?: string } | undefined)?.level === "warn").map((l) => l.msg);
    expect(warnings).toEqual([
      expect.stringContaining(`${first} was modified after it was applied`),
      expect.stringContaining(`99990101000000_extra is applied in the database but missing`),
    ]);
  });

  it("rejects a migration directory without migration.sql", async () => {
    const dir = migrationsWith();
    fs.mkdirSync(path.join(dir, "99990101000000_empty_dir"));
    const err = await applyMigrations(db, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).message).toContain("99990101000000_empty_dir");
    expect(await tableExists(db, "_prisma_migrations")).toBe(false);
  });

  it("explains a migration that commits the transaction itself", async () => {
    const name = "99990101000000_commits";
    const dir = migrationsWith({ [name]: `CREATE TABLE "armory_committed" ("id" INTEGER);\nCOMMIT;\n` });
    const err = await applyMigrations(db, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).migration).toBe(name);
    expect((err as MigrationError).message).toContain("COMMIT");
    const rows = await rowsOf(db);
    expect(rows.some((r) => r.migration_name === name && r.finished_at !== null)).toBe(false);
  });

  it("applies each migration exactly once with concurrent runners", async () => {
    const extra = Object.fromEntries(
      [1, 2, 3, 4].map((i) => [`9999010100000${i}_step`, `CREATE TABLE "armory_step_${i}" ("id" INTEGER);\n`]),
    );
    const dir = migrationsWith(extra);
    const all = listMigrations(dir).map((m) => m.name);
    // PostgreSQL: separate connection pools, as separate server processes would have.
    // PGlite: one process owns the database; two runners on the same handle.
    const runners =
      kind === "postgres" ? [await openDatabase(target.options), await openDatabase(target.options)] : [db, db];
    if (kind === "postgres") others.push(...runners);
    const results = await Promise.all(runners.map((r) => applyMigrations(r, { migrationsDir: dir })));

    const appliedByAny = results.flatMap((r) => r.applied);
    expect([...appliedByAny].sort()).toEqual(all);
    for (const r of results) expect(r.applied.length + r.alreadyApplied).toBe(all.length);
    const rows = await rowsOf(db);
    expect(rows.map((r) => r.migration_name).sort()).toEqual(all);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });

  // PostgreSQL only: an embedded PGlite has a single connection, so nothing else can hold the lock.
  if (kind === "postgres") it("waits for another holder of Prisma's migration lock", async () => {
    const holder = await openDatabase(target.options);
    others.push(holder);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let lockHeld!: () => void;
    const held = new Promise<void>((resolve) => (lockHeld = resolve));
    // Hold the advisory lock in a transaction until told to let go (as `prisma migrate` would).
    const holding = holder.raw.transaction(async (tx) => {
      await tx.exec(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      lockHeld();
      await released;
    });
    await held;

    let waiting!: () => void;
    const sawWaiting = new Promise<void>((resolve) => (waiting = resolve));
    const run = applyMigrations(db, {
      migrationsDir: REAL_MIGRATIONS,
      log: (msg) => {
        if (msg.includes("waiting")) waiting();
      },
    });
    await sawWaiting;
    expect(await tableExists(db, "_prisma_migrations")).toBe(false); // nothing done while locked
    release();
    await holding;
    expect((await run).applied).toEqual(realNames());
  });
});

// Each case replays every migration into an in-memory PGlite shadow database (11 s alone, over 30 s
// beside the other suites on two cores): a bound for a wedged engine, not a speed goal.
describe("createMigration (WASM schema engine, offline)", { timeout: 120_000 }, () => {
  it("reports no changes for the committed schema and migrations", async () => {
    const dir = migrationsWith();
    const before = fs.readdirSync(dir).sort();
    const result = await createMigration({ schemaPath: SCHEMA, migrationsDir: dir, name: "nothing" });
    expect(result).toEqual({
      created: false,
      reason: "no-changes",
      message: "No schema changes; nothing to create",
    });
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });

  it("generates CREATE TABLE for a model added to the schema", async () => {
    const dir = migrationsWith();
    const schemaPath = path.join(tempDir("armory-schema-"), "schema.prisma");
    fs.writeFileSync(
      schemaPath,
      fs.readFileSync(SCHEMA, "utf8") +
        `\nmodel ArmoryTestWidget {\n  id    String @id\n  label String\n\n  @@map("armory_test_widget")\n}\n`,
    );
    const now = new Date(Date.UTC(2999, 0, 2, 3, 4, 5));
    const result = await createMigration({ schemaPath, migrationsDir: dir, name: "add_widget", now });
    if (!result.created) throw new Error("expected a migration");
    expect(result.migrationName).toBe("29990102030405_add_widget");
    expect(result.sql).toContain(`CREATE TABLE "armory_test_widget"`);
    expect(result.sql).not.toContain(`CREATE TABLE "user"`);
    expect(fs.readFileSync(path.join(dir, "29990102030405_add_widget", "migration.sql"), "utf8")).toBe(result.sql);
    expect(fs.readFileSync(path.join(dir, "migration_lock.toml"), "utf8")).toBe(MIGRATION_LOCK_CONTENT);
  });

  it("creates an empty migration with empty: true", async () => {
    const dir = migrationsWith();
    const now = new Date(Date.UTC(2999, 0, 1));
    const result = await createMigration({ schemaPath: SCHEMA, migrationsDir: dir, name: "by_hand", empty: true, now });
    expect(result).toMatchObject({ created: true, migrationName: "29990101000000_by_hand", sql: EMPTY_MIGRATION_SQL });
    expect(fs.readFileSync(path.join(dir, "29990101000000_by_hand", "migration.sql"), "utf8")).toBe(EMPTY_MIGRATION_SQL);
  });

  it("rejects names that are not snake_case", async () => {
    for (const name of ["", "Add-Agents", "add agents", "_x", "a__b", "x".repeat(201)]) {
      await expect(createMigration({ schemaPath: SCHEMA, migrationsDir: tempDir("armory-m-"), name })).rejects.toThrow(
        CreateMigrationError,
      );
    }
  });
});
