// Losing the database connection gives clear 503s and Armory recovers when it is back.
import pg from "pg";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHealth } from "@/server/health";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";

describe("database outage on postgres", () => {
  let armory: TestArmory;
  beforeAll(async () => {
    armory = await startTestArmory("postgres");
  });
  afterAll(async () => {
    await armory?.close();
  });

  async function killConnections() {
    const url = armory.target.options.databaseUrl!;
    const dbName = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: url.replace(`/${dbName}`, "/postgres") });
    await admin.connect();
    const r = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [dbName],
    );
    await admin.end();
    return r.rowCount;
  }

  it("recovers after its connections are killed: at worst one SERVICE_UNAVAILABLE, never a 500", async () => {
    const user = await signUp(armory.services);
    const caller = await callerFor(armory.services, user);
    await caller.project.create({ name: "Before outage" });
    expect(await killConnections()).toBeGreaterThan(0);

    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      try {
        const list = await caller.project.list();
        outcomes.push(list.some((p) => p.name === "Before outage") ? "ok" : "wrong");
      } catch (err) {
        outcomes.push(err instanceof TRPCError ? err.code : String(err));
      }
    }
    // Only "ok" and SERVICE_UNAVAILABLE (never a 500 or a wrong answer), SERVICE_UNAVAILABLE at most
    // once, and the last call answered.
    expect(outcomes.filter((o) => o !== "ok" && o !== "SERVICE_UNAVAILABLE"), outcomes.join(", ")).toEqual([]);
    expect(outcomes.filter((o) => o === "SERVICE_UNAVAILABLE").length, outcomes.join(", ")).toBeLessThanOrEqual(1);
    expect(outcomes.at(-1)).toBe("ok");
    expect((await checkHealth(armory.services)).status).toBe("ok");
  });
});
