// Restarting Armory keeps users, sessions and projects, on both databases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS } from "../support/databases";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";

describe.each(DB_KINDS)("restart on %s", (kind) => {
  let armory: TestArmory;
  beforeAll(async () => {
    armory = await startTestArmory(kind);
  });
  afterAll(async () => {
    await armory?.close();
  });

  it("keeps users, sessions and projects across a restart", async () => {
    const user = await signUp(armory.services, { email: `restart-${kind}-${Date.now()}@example.test` });
    const before = await callerFor(armory.services, user);
    const project = await before.project.create({ name: "Survives restarts" });

    const services = await armory.restart();

    // The same session cookie still works after the restart.
    const session = await services.auth.api.getSession({ headers: user.headers });
    expect(session?.user.email).toBe(user.email);
    const after = await callerFor(services, user);
    expect((await after.project.list()).map((p) => p.name)).toContain("Survives restarts");
    expect((await after.project.get({ projectId: project.id })).role).toBe("owner");

    // And the password still signs in.
    const res = await services.auth.api.signInEmail({ body: { email: user.email, password: user.password }, asResponse: true });
    expect(res.status).toBe(200);
  });
});
