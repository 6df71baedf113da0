// Opens Armory's database: PostgreSQL through the pg driver adapter when a URL is given,
// otherwise embedded PGlite in the data directory. Both give the same Prisma client plus a raw
// SQL handle (used by the migration runner and the health check).
import fs from "node:fs";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { describePostgresUrl } from "../config";
import { ensurePrivateDir } from "../private-dir";
import { PrismaClient } from "./generated/client";

export type { PrismaClient };

export interface RawSql {
  /** Runs a script of one or more statements (no parameters). */
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs fn in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: RawSql) => Promise<T>): Promise<T>;
}

export interface Database {
  kind: "postgres" | "pglite";
  prisma: PrismaClient;
  raw: RawSql;
  /** Human description without credentials, for logs and errors. */
  description: string;
  /** The PostgreSQL URL (the cluster's own connections: LISTEN, the leader's lock); none for PGlite. */
  url?: string;
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DatabaseUnavailableError";
  }
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; when absent PGlite is used. */
  databaseUrl?: string;
  /** Directory for PGlite's files; "memory://" for a throwaway in-memory database. */
  pgliteDir?: string;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl);
  if (!opts.pgliteDir) throw new Error("openDatabase needs databaseUrl or pgliteDir");
  return openPglite(opts.pgliteDir);
}

function explainConnectError(err: unknown, where: string): string {
  const e = err as { code?: string; message?: string };
  const reasons: Record<string, string> = {
    ECONNREFUSED: "connection refused (is the server running and listening on that port?)",
    ENOTFOUND: "host name not found",
    ETIMEDOUT: "connection timed out",
    EAI_AGAIN: "host name lookup failed",
    "28P01": "password authentication failed",
    "28000": "authentication rejected",
    "3D000": "database does not exist",
  };
  const reason = (e.code && reasons[e.code]) || e.message || String(err);
  return `Cannot reach the database (${where}): ${reason}`;
}

async function openPostgres(databaseUrl: string): Promise<Database> {
  const description = describePostgresUrl(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, connectionTimeoutMillis: 5000 });
  // A pool error on an idle client must not crash the process; queries report their own errors.
  pool.on("error", () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new DatabaseUnavailableError(explainConnectError(err, description), { cause: err });
  }

  const rawFor = (q: pg.Pool | pg.PoolClient): RawSql => ({
    async exec(sql) {
      await q.query(sql);
    },
    async query<T>(sql: string, params?: unknown[]) {
      const r = await q.query(sql, params as unknown[]);
      return r.rows as T[];
    },
    async transaction<T>(fn: (tx: RawSql) => Promise<T>): Promise<T> {
      if (q !== pool) return fn(rawFor(q)); // already inside a transaction
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(rawFor(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
  });

  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: "postgres",
    prisma,
    raw: rawFor(pool),
    description,
    url: databaseUrl,
    async close() {
      await prisma.$disconnect().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}

/**
 * PGlite must be opened by one process only: a lock file holding our pid guards the directory
 * so a second Armory on the same data directory fails with a clear message instead of
 * corrupting it.
 */
function acquireDirLock(dir: string): () => void {
  const lockPath = path.join(dir, "armory.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: "wx" });
      return () => {
        try {
          if (fs.readFileSync(lockPath, "utf8") === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(fs.readFileSync(lockPath, "utf8"));
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new DatabaseUnavailableError(
          `The embedded database in ${dir} is in use by another Armory process (pid ${holder}). ` +
            `Stop it, or set ARMORY_DATA_DIR to another directory.`,
        );
      }
      fs.unlinkSync(lockPath); // stale lock from a process that is gone
    }
  }
  throw new DatabaseUnavailableError(`Could not lock the embedded database in ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function openPglite(dir: string): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  const { createPgliteDirApart, pgliteDirExists, pgliteStartParams } = await import("./pglite-memory");
  const inMemory = dir.startsWith("memory://");
  let release = () => {};
  if (!inMemory) {
    ensurePrivateDir(dir);
    release = acquireDirLock(dir);
  }
  let db: InstanceType<typeof PGlite>;
  try {
    // A new directory is made by a child process (initdb's memory would stay in this one): ./pglite-memory.ts.
    if (!inMemory && !pgliteDirExists(dir)) await createPgliteDirApart(dir);
    db = await PGlite.create(inMemory ? undefined : dir, { startParams: pgliteStartParams(PGlite.defaultStartParams) });
  } catch (err) {
    release();
    throw new DatabaseUnavailableError(
      `Cannot open the embedded database in ${dir}: ${(err as Error).message}. ` +
        `If it was written by a different PGlite version, move it aside and start again.`,
      { cause: err },
    );
  }

  type Queryable = Pick<InstanceType<typeof PGlite>, "exec" | "query">;
  const rawFor = (q: Queryable, inTx: boolean): RawSql => ({
    async exec(sql) {
      await q.exec(sql);
    },
    async query<T>(sql: string, params?: unknown[]) {
      const r = await q.query<T>(sql, params as unknown[]);
      return r.rows;
    },
    async transaction<T>(fn: (tx: RawSql) => Promise<T>): Promise<T> {
      if (inTx) return fn(rawFor(q, true));
      return db.transaction((tx) => fn(rawFor(tx, true)));
    },
  });

  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  return {
    kind: "pglite",
    prisma,
    raw: rawFor(db, false),
    description: inMemory ? "embedded PGlite (in memory)" : `embedded PGlite in ${dir}`,
    async close() {
      await prisma.$disconnect().catch(() => {});
      // $disconnect does not close PGlite; without this the process never exits.
      await db.close().catch(() => {});
      release();
    },
  };
}
