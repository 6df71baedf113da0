// Issue 12, item 8: the data directory (embedded database, generated auth secret, master key)
// is created private to Armory's user (0700), whichever of them creates it first.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/server/db";
import { PGLITE_SHARED_BUFFERS } from "@/server/db/pglite-memory";
import { createLogger } from "@/server/logger";
import { resolveMasterKey } from "@/server/secrets/crypto";
import { pgliteDirFor, resolveAuthSecret } from "@/server/services";
import { testConfig } from "../support/armory";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "armory-datadir-"));
const log = createLogger({ level: "silent", format: "json" });
const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

describe("the data directory is created 0700", () => {
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("when the auth secret is generated into it (parents included)", () => {
    const config = testConfig({ ARMORY_DATA_DIR: path.join(root, "a", "data") });
    resolveAuthSecret(config, log);
    expect(modeOf(config.dataDir)).toBe(0o700);
    expect(modeOf(path.join(root, "a"))).toBe(0o700);
    expect(modeOf(path.join(config.dataDir, "auth-secret"))).toBe(0o600);
  });

  it("when the secrets master key is generated into it", () => {
    const dataDir = path.join(root, "b", "data");
    resolveMasterKey({ secretKey: undefined, dataDir, databaseUrl: undefined }, log);
    expect(modeOf(dataDir)).toBe(0o700);
  });

  it("when the embedded database is created in it", async () => {
    const config = testConfig({ ARMORY_DATA_DIR: path.join(root, "c", "data") });
    const db = await openDatabase({ pgliteDir: pgliteDirFor(config) });
    try {
      expect(modeOf(config.dataDir)).toBe(0o700);
      expect(modeOf(pgliteDirFor(config))).toBe(0o700);
      // Created by a child process (initdb's memory stays out of Armory's), opened here with
      // Armory's smaller shared buffers (src/server/db/pglite-memory.ts).
      expect(fs.existsSync(path.join(pgliteDirFor(config), "PG_VERSION"))).toBe(true);
      expect(await db.raw.query("SHOW shared_buffers")).toEqual([{ shared_buffers: PGLITE_SHARED_BUFFERS }]);
      await db.raw.exec("CREATE TABLE t (n int); INSERT INTO t VALUES (1)");
    } finally {
      await db.close();
    }
    // Opened again: the same database.
    const again = await openDatabase({ pgliteDir: pgliteDirFor(config) });
    try {
      expect(await again.raw.query("SELECT n FROM t")).toEqual([{ n: 1 }]);
    } finally {
      await again.close();
    }
  }, 120_000); // a fresh PGlite takes seconds, more on a loaded machine

  it("leaves an existing directory's mode alone (it may be the operator's choice)", () => {
    const dataDir = path.join(root, "d");
    fs.mkdirSync(dataDir, { mode: 0o750 });
    fs.chmodSync(dataDir, 0o750);
    resolveAuthSecret(testConfig({ ARMORY_DATA_DIR: dataDir }), log);
    expect(modeOf(dataDir)).toBe(0o750);
  });
});
