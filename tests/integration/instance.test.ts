// The instance door (SPEC G1, issue 12 item 1): the first account is the instance admin; after
// it ARMORY_SIGN_UP decides who may sign up (invite | open | closed), enforced by the sign-up
// endpoint itself; invitations are single use, expiring, revocable, optionally for one email,
// and land the invitee in the project with the chosen role. The admin lists, disables and
// signs out users: a disabled user's cookie and tokens are refused at once, and sign-in too.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@/server/config";
import { openDatabase } from "@/server/db";
import { createLogger } from "@/server/logger";
import { resetPassword } from "@/server/instance/users";
import { createServices, type Services } from "@/server/services";
import { onAccessChange, type AccessChange } from "@/server/trust/access-events";
import { TEST_AUTH_SECRET, callerFor, signUp, startHttp, startTestArmory, testConfig, uniqueEmail, type TestArmory, type TestUser } from "../support/armory";
import { httpClient } from "../support/http-server";
import { makeToken, tokenCaller } from "../support/trust";
import { expectTrpcError } from "../support/trpc-errors";

const PASSWORD = "correct horse battery";

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", origin: new URL(url).origin, ...headers },
    body: JSON.stringify(body),
  });
}

function cookieOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

/** Starts Armory on a fresh database with the given sign-up mode, served over HTTP. */
async function startDoor(kind: "pglite" | "postgres", mode: "invite" | "open" | "closed") {
  const armory = await startTestArmory(kind, { ARMORY_SIGN_UP: mode, ARMORY_SIGN_IN_RATE_LIMIT: "10000" });
  const http = await startHttp(() => armory.services);
  const signUpHttp = (body: { name?: string; email: string; password?: string; invitation?: string }) =>
    postJson(`${http.url}/api/auth/sign-up/email`, { name: "Someone", password: PASSWORD, ...body });
  return { armory, http, signUpHttp };
}

async function isAdmin(services: Services, email: string) {
  return (await services.db.prisma.user.findUnique({ where: { email }, select: { isAdmin: true } }))?.isAdmin;
}

describe("the instance door in invite mode (default), over HTTP", () => {
  let door: Awaited<ReturnType<typeof startDoor>>;
  let services: Services;
  let admin: TestUser;
  let owner: TestUser;
  let projectId: string;

  beforeAll(async () => {
    door = await startDoor("pglite", "invite");
    services = door.armory.services;
  });
  afterAll(async () => {
    await door?.http.close();
    await door?.armory.close();
  });

  async function invite(by: TestUser, input: { role: "owner" | "admin" | "operator" | "viewer"; email?: string; expiresInDays?: number }) {
    return (await callerFor(services, by)).invitation.create({ projectId, ...input });
  }

  it("defaults to invite mode and refuses unknown modes", () => {
    expect(loadConfig({}).signUp).toBe("invite");
    expect(() => loadConfig({ ARMORY_SIGN_UP: "everyone" })).toThrow(/ARMORY_SIGN_UP: must be invite, open or closed/);
  });

  it("tells the sign-up page the mode and that the first account is still to be made", async () => {
    expect(await (await callerFor(services)).instance.signUp()).toEqual({ mode: "invite", firstAccount: true });
  });

  it("makes the first account the instance admin, without an invitation", async () => {
    const email = uniqueEmail("first");
    const res = await door.signUpHttp({ email });
    expect(res.status).toBe(200);
    const cookie = cookieOf(res);
    const id = ((await res.json()) as { user: { id: string } }).user.id;
    admin = { id, email, password: PASSWORD, cookie, headers: new Headers({ cookie }) };
    expect(await isAdmin(services, email)).toBe(true);
    expect(await (await callerFor(services)).instance.signUp()).toEqual({ mode: "invite", firstAccount: false });
  });

  it("refuses a second sign-up without an invitation with 403, creating nothing", async () => {
    const email = uniqueEmail("uninvited");
    const res = await door.signUpHttp({ email });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/by invitation only/);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await services.db.prisma.user.findUnique({ where: { email } })).toBeNull();
  });

  it("answers 403, not 'already exists', for an existing email without an invitation (no account probing)", async () => {
    const res = await door.signUpHttp({ email: admin.email });
    expect(res.status).toBe(403);
  });

  it("refuses an unknown or malformed invitation token with 403", async () => {
    for (const invitation of ["inv_" + "A".repeat(43), "nonsense"]) {
      const res = await door.signUpHttp({ email: uniqueEmail("badtoken"), invitation });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { message: string }).message).toMatch(/invalid or has expired/);
    }
  });

  it("admits a sign-up with an invitation into the inviting project with the chosen role, once", async () => {
    // The admin invites the future owner of a project the admin creates.
    const project = await (await callerFor(services, admin)).project.create({ name: "Door project" });
    projectId = project.id;
    const created = await invite(admin, { role: "owner" });
    expect(created.link).toBe(`/sign-up?invite=${created.token}`);
    expect(created.invitation).toMatchObject({ role: "owner", state: "pending", email: null });
    // Only the hash is stored.
    const row = await services.db.prisma.invitation.findUniqueOrThrow({ where: { id: created.invitation.id } });
    expect(JSON.stringify(row)).not.toContain(created.token);

    const anon = await callerFor(services);
    const preview = await anon.invitation.preview({ token: created.token });
    expect(preview).toMatchObject({ valid: true, projectName: "Door project", role: "owner", emailRestricted: false });
    expect(preview).not.toHaveProperty("projectId");

    const email = uniqueEmail("owner");
    const res = await door.signUpHttp({ email, invitation: created.token });
    expect(res.status).toBe(200);
    const id = ((await res.json()) as { user: { id: string } }).user.id;
    const cookie = cookieOf(res);
    owner = { id, email, password: PASSWORD, cookie, headers: new Headers({ cookie }) };
    expect(await isAdmin(services, email)).toBe(false);
    const member = await services.db.prisma.projectMember.findUniqueOrThrow({ where: { projectId_userId: { projectId, userId: id } } });
    expect(member.role).toBe("owner");
    // The new user sees the project through the API with their cookie.
    const projects = await httpClient(door.http.url, cookie).project.list.query();
    expect(projects.map((p) => [p.name, p.role])).toEqual([["Door project", "owner"]]);

    // Used: the preview and a second sign-up with the same link are refused.
    expect(await anon.invitation.preview({ token: created.token })).toEqual({ valid: false, message: "This invitation is invalid or has expired." });
    const again = await door.signUpHttp({ email: uniqueEmail("second-use"), invitation: created.token });
    expect(again.status).toBe(403);
    const listed = await (await callerFor(services, owner)).invitation.list({ projectId });
    expect(listed.find((i) => i.id === created.invitation.id)).toMatchObject({ state: "used", usedBy: { email } });
    // The sign-up is in the project's audit log.
    const audit = await services.db.prisma.auditEvent.findFirst({ where: { action: "invitation.signUp", userId: id } });
    expect(audit).toMatchObject({ projectId, allowed: true });
  });

  it("a project owner invites with a role; the invitee lands as that role", async () => {
    const { token } = await invite(owner, { role: "operator" });
    const email = uniqueEmail("operator");
    expect((await door.signUpHttp({ email, invitation: token })).status).toBe(200);
    const member = await services.db.prisma.projectMember.findFirstOrThrow({ where: { projectId, user: { email } } });
    expect(member.role).toBe("operator");
  });

  it("refuses an expired invitation", async () => {
    const { token, invitation } = await invite(owner, { role: "viewer" });
    await services.db.prisma.invitation.update({ where: { id: invitation.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await door.signUpHttp({ email: uniqueEmail("late"), invitation: token })).status).toBe(403);
    expect((await (await callerFor(services, owner)).invitation.list({ projectId })).find((i) => i.id === invitation.id)?.state).toBe("expired");
  });

  it("bounds the expiry: default 7 days, at most 30", async () => {
    const { invitation } = await invite(owner, { role: "viewer" });
    const days = (invitation.expiresAt.getTime() - invitation.createdAt.getTime()) / 86_400_000;
    expect(days).toBeCloseTo(7, 1);
    await expectTrpcError(invite(owner, { role: "viewer", expiresInDays: 31 }), "BAD_REQUEST", /at most 30/);
  });

  it("refuses a revoked invitation", async () => {
    const { token, invitation } = await invite(owner, { role: "viewer" });
    const revoked = await (await callerFor(services, owner)).invitation.revoke({ projectId, invitationId: invitation.id });
    expect(revoked.state).toBe("revoked");
    expect((await door.signUpHttp({ email: uniqueEmail("revoked"), invitation: token })).status).toBe(403);
  });

  it("an invitation for one email admits only that address", async () => {
    const email = uniqueEmail("named");
    const { token } = await invite(owner, { role: "viewer", email: email.toUpperCase() });
    const wrong = await door.signUpHttp({ email: uniqueEmail("other"), invitation: token });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/another email/);
    expect((await door.signUpHttp({ email, invitation: token })).status).toBe(200);
  });

  it("only the instance admin and project owners create invitations; nobody invites above their role", async () => {
    // A project admin, an operator and a viewer of the project, and an outsider.
    const made: Record<string, TestUser> = {};
    for (const role of ["admin", "viewer"] as const) {
      const { token } = await invite(owner, { role });
      made[role] = await signUp(services, { invitation: token });
    }
    await expectTrpcError(invite(made.admin!, { role: "viewer" }), "FORBIDDEN", /owner role/);
    await expectTrpcError(invite(made.viewer!, { role: "viewer" }), "FORBIDDEN", /owner role/);
    await expectTrpcError((await callerFor(services, made.viewer!)).invitation.list({ projectId }), "FORBIDDEN");
    // The instance admin may, for any project, even one they are not a member of.
    const other = await (await callerFor(services, owner)).project.create({ name: "Owner's own" });
    const byAdmin = await (await callerFor(services, admin)).invitation.create({ projectId: other.id, role: "admin" });
    expect(byAdmin.invitation.projectId).toBe(other.id);
    // A machine token cannot mint ways in, even its admin owner's.
    const { token: adminToken } = await makeToken(services, admin.id);
    await expectTrpcError((await tokenCaller(services, adminToken)).invitation.create({ projectId, role: "viewer" }), "FORBIDDEN", /Machine tokens/);
  });

  it("a signed-in user accepts an invitation to join another project, once", async () => {
    const outsider = await (async () => {
      const { token } = await (await callerFor(services, admin)).invitation.create({ projectId, role: "viewer" });
      return signUp(services, { invitation: token });
    })();
    const other = await (await callerFor(services, admin)).project.create({ name: "Second project" });
    const { token } = await (await callerFor(services, admin)).invitation.create({ projectId: other.id, role: "operator" });
    const joined = await (await callerFor(services, outsider)).invitation.accept({ token });
    expect(joined).toEqual({ projectId: other.id, projectName: "Second project", role: "operator" });
    await expectTrpcError((await callerFor(services, owner)).invitation.accept({ token }), "FORBIDDEN", /invalid or has expired/);
    await expectTrpcError((await callerFor(services)).invitation.accept({ token }), "UNAUTHORIZED");
  });
});

describe("closed and open modes", () => {
  it("closed: the first account only; nobody after it, even with an invitation", async () => {
    const door = await startDoor("pglite", "closed");
    try {
      const first = await door.signUpHttp({ email: uniqueEmail("closed-first") });
      expect(first.status).toBe(200);
      const cookie = cookieOf(first);
      const admin = { headers: new Headers({ cookie }) } as TestUser;
      const project = await (await callerFor(door.armory.services, admin)).project.create({ name: "Closed" });
      const { token } = await (await callerFor(door.armory.services, admin)).invitation.create({ projectId: project.id, role: "viewer" });
      const plain = await door.signUpHttp({ email: uniqueEmail("closed") });
      expect(plain.status).toBe(403);
      expect(((await plain.json()) as { message: string }).message).toMatch(/closed/);
      expect((await door.signUpHttp({ email: uniqueEmail("closed-inv"), invitation: token })).status).toBe(403);
      expect(await door.armory.services.db.prisma.user.count()).toBe(1);
    } finally {
      await door.http.close();
      await door.armory.close();
    }
  });

  it("open: anyone signs up; only the first is admin", async () => {
    const door = await startDoor("pglite", "open");
    try {
      const a = uniqueEmail("open-a");
      const b = uniqueEmail("open-b");
      expect((await door.signUpHttp({ email: a })).status).toBe(200);
      expect((await door.signUpHttp({ email: b })).status).toBe(200);
      expect(await isAdmin(door.armory.services, a)).toBe(true);
      expect(await isAdmin(door.armory.services, b)).toBe(false);
      // isAdmin is never taken from the request.
      const c = uniqueEmail("open-c");
      expect((await door.signUpHttp({ email: c, isAdmin: true } as never)).status).toBe(200);
      expect(await isAdmin(door.armory.services, c)).toBe(false);
      // Nor through better-auth's update-user endpoint.
      const signedIn = await door.signUpHttp({ email: uniqueEmail("open-d") });
      const update = await postJson(`${door.http.url}/api/auth/update-user`, { isAdmin: true }, { cookie: cookieOf(signedIn) });
      expect(update.status).toBe(400);
      expect(await door.armory.services.db.prisma.user.count({ where: { isAdmin: true } })).toBe(1);
    } finally {
      await door.http.close();
      await door.armory.close();
    }
  });
});

describe("races (postgres)", () => {
  it("two simultaneous first sign-ups in invite mode: exactly one gets in, as admin", async () => {
    const door = await startDoor("postgres", "invite");
    try {
      const results = await Promise.all(Array.from({ length: 4 }, (_, i) => door.signUpHttp({ email: uniqueEmail(`race-${i}`) })));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 403, 403, 403]);
      const users = await door.armory.services.db.prisma.user.findMany({ select: { isAdmin: true } });
      expect(users).toEqual([{ isAdmin: true }]);
    } finally {
      await door.http.close();
      await door.armory.close();
    }
  });

  it("simultaneous first sign-ups in open mode: all get in, exactly one admin", async () => {
    const door = await startDoor("postgres", "open");
    try {
      const results = await Promise.all(Array.from({ length: 4 }, (_, i) => door.signUpHttp({ email: uniqueEmail(`orace-${i}`) })));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(await door.armory.services.db.prisma.user.count({ where: { isAdmin: true } })).toBe(1);
    } finally {
      await door.http.close();
      await door.armory.close();
    }
  });

  it("one invitation used by several people at once admits exactly one", async () => {
    const door = await startDoor("postgres", "invite");
    try {
      const admin = await signUp(door.armory.services);
      const project = await (await callerFor(door.armory.services, admin)).project.create({ name: "Race" });
      const { token } = await (await callerFor(door.armory.services, admin)).invitation.create({ projectId: project.id, role: "viewer" });
      const results = await Promise.all(Array.from({ length: 4 }, (_, i) => door.signUpHttp({ email: uniqueEmail(`irace-${i}`), invitation: token })));
      expect(results.map((r) => r.status).sort()).toEqual([200, 403, 403, 403]);
      expect(await door.armory.services.db.prisma.user.count()).toBe(2);
      expect(await door.armory.services.db.prisma.projectMember.count({ where: { projectId: project.id } })).toBe(2);
    } finally {
      await door.http.close();
      await door.armory.close();
    }
  });
});

describe("the instance admin manages users", () => {
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let admin: TestUser;
  let user: TestUser;
  let services: Services;

  beforeAll(async () => {
    armory = await startTestArmory("pglite", { ARMORY_SIGN_UP: "open", ARMORY_SIGN_IN_RATE_LIMIT: "10000" });
    services = armory.services;
    http = await startHttp(() => armory.services);
    admin = await signUp(services, { name: "Admin" });
    user = await signUp(services, { name: "Regular" });
  });
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  const signIn = (email: string, password = PASSWORD) => postJson(`${http.url}/api/auth/sign-in/email`, { email, password });

  it("refuses admin.* to a non-admin (403) and to an admin's machine token (403)", async () => {
    const caller = await callerFor(services, user);
    await expectTrpcError(caller.admin.users(), "FORBIDDEN", /instance admin/);
    await expectTrpcError(caller.admin.disableUser({ userId: admin.id }), "FORBIDDEN");
    await expectTrpcError(caller.admin.setAdmin({ userId: user.id, isAdmin: true }), "FORBIDDEN");
    const { token } = await makeToken(services, admin.id);
    await expectTrpcError((await tokenCaller(services, token)).admin.users(), "FORBIDDEN", /machine tokens/);
  });

  it("lists users with last seen, projects, sessions and tokens", async () => {
    const project = await (await callerFor(services, user)).project.create({ name: "Regular's" });
    await makeToken(services, user.id);
    const rows = await (await callerFor(services, admin)).admin.users();
    const row = rows.find((r) => r.id === user.id)!;
    expect(row).toMatchObject({ name: "Regular", email: user.email, isAdmin: false, disabledAt: null, activeSessions: 1 });
    expect(row.activeTokens).toBeGreaterThanOrEqual(1);
    expect(row.projects).toEqual([{ projectId: project.id, name: "Regular's", role: "owner" }]);
    expect(row.lastSeenAt).toBeInstanceOf(Date);
    expect(rows.find((r) => r.id === admin.id)?.isAdmin).toBe(true);
  });

  it("records last seen at most once a minute", async () => {
    const before = (await services.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).lastSeenAt!;
    await (await callerFor(services, user)).project.list();
    expect((await services.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).lastSeenAt).toEqual(before);
    await services.db.prisma.user.update({ where: { id: user.id }, data: { lastSeenAt: new Date(Date.now() - 120_000) } });
    await (await callerFor(services, user)).project.list();
    const after = (await services.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).lastSeenAt!;
    expect(Date.now() - after.getTime()).toBeLessThan(10_000);
  });

  it("an admin cannot disable themselves, nor demote the last admin", async () => {
    const caller = await callerFor(services, admin);
    await expectTrpcError(caller.admin.disableUser({ userId: admin.id }), "FORBIDDEN", /your own account/);
    await expectTrpcError(caller.admin.setAdmin({ userId: admin.id, isAdmin: false }), "FORBIDDEN");
  });

  it("disabling a user refuses their cookie and their token at once (401), ends their streams, refuses sign-in, revokes their invitations", async () => {
    const { token } = await makeToken(services, user.id);
    const projectId = (await services.db.prisma.projectMember.findFirstOrThrow({ where: { userId: user.id } })).projectId;
    const handedOut = await (await callerFor(services, user)).invitation.create({ projectId, role: "viewer" });
    const cookieClient = httpClient(http.url, user.cookie);
    expect(await cookieClient.project.list.query()).toHaveLength(1);
    expect(await (await tokenCaller(services, token)).project.list()).toHaveLength(1);
    const changes: AccessChange[] = [];
    const stop = onAccessChange((c) => changes.push(c));
    try {
      const result = await (await callerFor(services, admin)).admin.disableUser({ userId: user.id });
      expect(result.sessionsRevoked).toBe(1);
    } finally {
      stop();
    }
    expect(changes).toContainEqual({ kind: "user", userId: user.id });
    await expect(cookieClient.project.list.query()).rejects.toMatchObject({ data: { httpStatus: 401 } });
    // The token, over HTTP too.
    const tokenRes = await fetch(`${http.url}/api/trpc/project.list`, { headers: { authorization: `Bearer ${token}` } });
    expect(tokenRes.status).toBe(401);
    expect(await tokenRes.text()).toContain("This account is disabled.");
    const signInRes = await signIn(user.email);
    expect(signInRes.status).toBe(403);
    expect(((await signInRes.json()) as { message: string }).message).toBe("This account is disabled.");
    expect(signInRes.headers.getSetCookie().filter((c) => c.includes("session_token="))).toEqual([]);
    const listed = (await (await callerFor(services, admin)).admin.users()).find((r) => r.id === user.id)!;
    expect(listed.disabledAt).toBeInstanceOf(Date);
    expect(listed.activeSessions).toBe(0);
    expect(await (await callerFor(services)).invitation.preview({ token: handedOut.token })).toMatchObject({ valid: false });

    // Enabled again: sign-in and the token work.
    await (await callerFor(services, admin)).admin.enableUser({ userId: user.id });
    const again = await signIn(user.email);
    expect(again.status).toBe(200);
    user = { ...user, cookie: cookieOf(again), headers: new Headers({ cookie: cookieOf(again) }) };
    expect(await (await tokenCaller(services, token)).project.list()).toHaveLength(1);
  });

  it("revoking sessions signs the user out at once (401 on the old cookie)", async () => {
    const cookieClient = httpClient(http.url, user.cookie);
    expect(await cookieClient.project.list.query()).toHaveLength(1);
    const changes: AccessChange[] = [];
    const stop = onAccessChange((c) => changes.push(c));
    try {
      expect((await (await callerFor(services, admin)).admin.revokeSessions({ userId: user.id })).sessionsRevoked).toBe(1);
    } finally {
      stop();
    }
    expect(changes).toContainEqual({ kind: "user", userId: user.id });
    await expect(cookieClient.project.list.query()).rejects.toMatchObject({ data: { httpStatus: 401 } });
    expect((await signIn(user.email)).status).toBe(200);
  });

  it("promotes and demotes admins, and audits it", async () => {
    const caller = await callerFor(services, admin);
    await caller.admin.setAdmin({ userId: user.id, isAdmin: true });
    expect(await isAdmin(services, user.email)).toBe(true);
    await caller.admin.setAdmin({ userId: user.id, isAdmin: false });
    expect(await isAdmin(services, user.email)).toBe(false);
    const audited = await services.db.prisma.auditEvent.count({ where: { action: "admin.setAdmin", userId: admin.id, allowed: true } });
    expect(audited).toBe(2);
  });
});

describe("npm run admin on PostgreSQL (Armory may keep running)", () => {
  it("reset-password reaches the same database through DATABASE_URL", async () => {
    const armory = await startTestArmory("postgres");
    try {
      const user = await signUp(armory.services);
      const databaseUrl = armory.target.options.databaseUrl!;
      const out = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/admin.ts", "reset-password", user.email], {
        env: { ...process.env, DATABASE_URL: databaseUrl, ARMORY_NEW_PASSWORD: "postgres-new-password", LOG_LEVEL: "silent" },
        timeout: 120_000,
      });
      expect(out.stdout).toContain("1 session(s) signed out");
      expect(await armory.services.auth.api.getSession({ headers: user.headers })).toBeNull();
      const res = await armory.services.auth.api.signInEmail({ body: { email: user.email, password: "postgres-new-password" }, asResponse: true });
      expect(res.status).toBe(200);
    } finally {
      await armory.close();
    }
  }, 200_000);
});

describe("npm run admin (a locked-out instance, embedded database)", () => {
  it("reset-password sets a new password through better-auth's hasher and signs the user out; list-admins and make-admin work", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-admin-cli-"));
    const open = async () =>
      createServices({
        config: testConfig({ ARMORY_DATA_DIR: dataDir }),
        db: await openDatabase({ pgliteDir: path.join(dataDir, "pglite") }),
        log: createLogger({ level: "silent", format: "json" }),
        authSecret: TEST_AUTH_SECRET,
      });
    const run = (args: string[], env: Record<string, string> = {}) =>
      promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/admin.ts", ...args], {
        env: { ...process.env, ARMORY_DATA_DIR: dataDir, DATABASE_URL: "", LOG_LEVEL: "silent", ...env },
        timeout: 60_000,
      });
    try {
      let services = await open();
      const admin = await signUp(services, { name: "Locked out" });
      const other = await signUp(services, { name: "Other" });
      await services.close();

      const reset = await run(["reset-password", admin.email], { ARMORY_NEW_PASSWORD: "a-brand-new-password" });
      expect(reset.stdout).toContain("Password reset");
      expect(reset.stdout).not.toContain("a-brand-new-password");
      const generated = await run(["reset-password", other.email]);
      const newPassword = /New password: (\S+)/.exec(generated.stdout)?.[1];
      expect(newPassword).toMatch(/^.{16,}$/);
      expect((await run(["list-admins"])).stdout).toContain(admin.email);
      expect((await run(["make-admin", other.email])).stdout).toContain("is now an instance admin");

      services = await open();
      try {
        // The old session is gone; the new passwords work, the old ones do not.
        expect(await services.auth.api.getSession({ headers: admin.headers })).toBeNull();
        const signInWith = (email: string, password: string) =>
          services.auth.api.signInEmail({ body: { email, password }, asResponse: true }).then((r) => r.status);
        expect(await signInWith(admin.email, PASSWORD)).toBe(401);
        expect(await signInWith(admin.email, "a-brand-new-password")).toBe(200);
        expect(await signInWith(other.email, newPassword!)).toBe(200);
        expect(await isAdmin(services, other.email)).toBe(true);
        await expect(resetPassword(services.db.prisma, "nobody@example.test", "long-enough-password")).rejects.toThrow(/No Armory user/);
      } finally {
        await services.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 400_000);
});
