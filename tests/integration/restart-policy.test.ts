// health.setRestartPolicy over the API: changing the restart policy needs the restart permission
// (operator, README "Viewers may read health, stats and logs; changing the restart policy needs
// the restart permission"). A viewer is refused with 403 over HTTP and nothing changes; an
// operator's change lands. The policy is Armory's record only, so no container is needed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { insertAgentRow } from "../support/trust";

describe("health.setRestartPolicy roles over HTTP (pglite)", () => {
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let projectId: string;
  let agentId: string;

  beforeAll(async () => {
    armory = await startTestArmory("pglite");
    const owner = await signUp(armory.services, { name: "Policy Owner" });
    projectId = (await (await callerFor(armory.services, owner)).project.create({ name: "Restart policy" })).id;
    agentId = (await insertAgentRow(armory.services, projectId, "policy-agent")).id;
    http = await startHttp(() => armory.services);
  }, 120_000);
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  async function member(role: "viewer" | "operator"): Promise<TestUser> {
    const user = await signUp(armory.services, { name: `Policy ${role}` });
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: user.id, role } });
    return user;
  }

  const setPolicy = (user: TestUser, policy: "never" | "on_failure") =>
    fetch(`${http.url}/api/trpc/health.setRestartPolicy`, {
      method: "POST",
      headers: { cookie: user.cookie, "content-type": "application/json" },
      body: JSON.stringify({ json: { projectId, agentId, policy } }),
    });

  const policyOf = async () =>
    (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId }, select: { restartPolicy: true } })).restartPolicy;

  it("refuses a viewer with 403 and changes nothing; an operator's change lands", async () => {
    const prisma = armory.services.db.prisma;
    expect(await policyOf()).toBe("on_failure");

    const viewer = await member("viewer");
    // The viewer is a member who may read the agent's health...
    const asViewer = await callerFor(armory.services, viewer);
    expect((await asViewer.agent.list({ projectId })).map((a) => a.id)).toEqual([agentId]);
    // ...but not change its restart policy.
    const refused = await setPolicy(viewer, "never");
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/FORBIDDEN/);
    expect(await policyOf()).toBe("on_failure");
    expect(await prisma.agentActivity.count({ where: { agentId, kind: "policy" } })).toBe(0);
    const audited = await prisma.auditEvent.findMany({ where: { action: "health.setRestartPolicy", userId: viewer.id } });
    expect(audited.map((r) => r.allowed)).toEqual([false]);

    const operator = await member("operator");
    const allowed = await setPolicy(operator, "never");
    expect(allowed.status).toBe(200);
    expect(await policyOf()).toBe("never");
    expect(await prisma.agentActivity.count({ where: { agentId, kind: "policy" } })).toBe(1);
  });
});
