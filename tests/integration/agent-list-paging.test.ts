// agent.list pages by name (issue 19): `limit` agents after the one named `cursor`; without them
// the whole project comes back as before (old callers). Out-of-range paging input is a 400 with a
// sentence. Rows only: no container is needed. On both databases (the name order is the database's).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { DB_KINDS } from "../support/databases";
import { expectTrpcError } from "../support/trpc-errors";
import { insertAgentRow } from "../support/trust";

describe.each(DB_KINDS)("agent.list paging (%s)", (kind) => {
  let armory: TestArmory;
  let owner: TestUser;
  let projectId: string;
  const names = ["a-1", "a-10", "a-2", "b", "c-x", "c-y", "zeta"];

  beforeAll(async () => {
    armory = await startTestArmory(kind);
    owner = await signUp(armory.services, { name: "Paging Owner" });
    projectId = (await (await callerFor(armory.services, owner)).project.create({ name: "Paging" })).id;
    for (const name of [...names].reverse()) await insertAgentRow(armory.services, projectId, name);
  }, 120_000);
  afterAll(async () => {
    await armory?.close();
  });

  it("without paging input: every agent, by name (as before)", async () => {
    const caller = await callerFor(armory.services, owner);
    expect((await caller.agent.list({ projectId })).map((a) => a.name)).toEqual([...names].sort());
  });

  it("walks the project a page at a time: each agent once, in order, then an empty page", async () => {
    const caller = await callerFor(armory.services, owner);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await caller.agent.list({ projectId, limit: 3, cursor });
      expect(page.length).toBeLessThanOrEqual(3);
      if (!page.length) break;
      seen.push(...page.map((a) => a.name));
      cursor = page.at(-1)!.name;
    }
    expect(seen).toEqual([...names].sort());
    // A cursor that is no agent's name starts after where that name would be.
    expect((await caller.agent.list({ projectId, limit: 2, cursor: "c" })).map((a) => a.name)).toEqual(["c-x", "c-y"]);
  });

  it("refuses a limit out of range with a 400 and a sentence, over HTTP too", async () => {
    const caller = await callerFor(armory.services, owner);
    await expectTrpcError(caller.agent.list({ projectId, limit: 0 }), "BAD_REQUEST", /limit/);
    await expectTrpcError(caller.agent.list({ projectId, limit: 1001 }), "BAD_REQUEST", /limit/);
    const http = await startHttp(() => armory.services);
    try {
      const input = encodeURIComponent(JSON.stringify({ json: { projectId, limit: -1 } }));
      const res = await fetch(`${http.url}/api/trpc/agent.list?input=${input}`, { headers: { cookie: owner.cookie } });
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/limit/);
    } finally {
      await http.close();
    }
  });
});
