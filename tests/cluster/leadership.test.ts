// Leader election on a real PostgreSQL: two contenders, each on its own connection; exactly one
// holds the advisory lock, and when the leader's connection dies the other takes over.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Leadership } from "@/server/cluster/leadership";
import { openDatabase, type Database } from "@/server/db";
import { createLogger } from "@/server/logger";
import { createTestDatabase, type TestDatabaseTarget } from "../support/databases";

const log = createLogger({ level: "silent", format: "json" });

/** Resolves with the next leadership change of `l` (an event, not a poll). */
function nextChange(l: Leadership): Promise<boolean> {
  return new Promise((resolve) => {
    const off = l.onChange((leader) => {
      off();
      resolve(leader);
    });
  });
}

describe("cluster leadership (advisory lock)", () => {
  let target: TestDatabaseTarget;
  let db: Database;
  let url: string;

  beforeAll(async () => {
    target = await createTestDatabase("postgres");
    url = target.options.databaseUrl!;
    db = await openDatabase(target.options);
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  it("elects exactly one leader, and the other takes over within seconds when the leader's connection dies", async () => {
    const a = new Leadership({ databaseUrl: url, log, pollMs: 200, instanceId: "inst-a" });
    const b = new Leadership({ databaseUrl: url, log, pollMs: 200, instanceId: "inst-b" });
    try {
      await a.start();
      await b.start();
      expect(a.isLeader).toBe(true);
      expect(b.isLeader).toBe(false);
      expect(await Leadership.holder(db.raw)).toBe("inst-a");

      // The leader's database connection is cut from the server side: it steps down at once and
      // waits before competing again (rejoinDelayMs), so the follower takes over; without that wait
      // the old leader's reconnect could win the lock back before the follower's next try.
      const aLost = nextChange(a);
      const bWon = nextChange(b);
      const started = Date.now();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'inst-a'`);
      await admin.end();
      expect(killed.rowCount).toBe(1);
      expect(await aLost).toBe(false);
      expect(await bWon).toBe(true);
      const tookMs = Date.now() - started;
      expect(tookMs).toBeLessThan(5000);
      expect(await Leadership.holder(db.raw)).toBe("inst-b");

      // The old leader reconnects as a follower: still one leader.
      await expect.poll(() => Leadership.holder(db.raw)).toBe("inst-b");
      expect(a.isLeader).toBe(false);

      // A leader that leaves on purpose frees the lock at once.
      const aWon = nextChange(a);
      await b.close();
      expect(await aWon).toBe(true);
      expect(await Leadership.holder(db.raw)).toBe("inst-a");
    } finally {
      await a.close();
      await b.close();
    }
  });
});
