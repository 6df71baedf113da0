// SPEC D6: every procedure of the app router, found by walking the router (so procedures added
// later are covered without editing this file), refuses an anonymous caller (401) and a caller
// without the needed right (403), and each refusal is in the audit log (the instance's security
// log when the caller is unknown).
//
// Inputs are generic on purpose: authentication, token scopes and the project/agent checks run
// in the base procedures' middlewares before any procedure-specific input field is parsed, so
// `{ projectId, agentId }` reaches the permission check of every procedure.
import type { AnyProcedure } from "@trpc/server";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, createCaller } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { insertAgentRow, makeToken } from "../support/trust";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = ReturnType<typeof createCaller>;

const allProcedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>).sort(([a], [b]) => a.localeCompare(b));
/** The only procedures anyone may call: what the sign-up page needs. Adding one here is a deliberate act. */
const PUBLIC = ["instance.signUp", "invitation.preview"];
const procedures = allProcedures.filter(([p]) => !PUBLIC.includes(p));

function typeOf(p: AnyProcedure): "query" | "mutation" | "subscription" {
  return p._def.type;
}

/** Does any input parser of the procedure take a projectId (a project-scoped procedure)? */
function takesProjectId(p: AnyProcedure): boolean {
  const inputs = (p._def as { inputs?: unknown[] }).inputs ?? [];
  return inputs.some((parser) => parser instanceof z.ZodObject && "projectId" in parser.shape);
}

/** Calls the procedure at `path` on `caller`; subscriptions are consumed until their first event. */
async function call(caller: Caller, path: string, input: unknown): Promise<unknown> {
  const fn = path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (i: unknown) => Promise<unknown>;
  const result = await fn(input);
  if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const it = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();
  }
  return result;
}

describe("every procedure refuses callers without the right (postgres)", () => {
  let armory: TestArmory;
  let owner: TestUser;
  let outsider: TestUser;
  let input: { projectId: string; agentId: string };
  let readOnly: string;
  let writeOnly: string;
  let disabled: TestUser;
  let disabledToken: string;

  beforeAll(async () => {
    armory = await startTestArmory("postgres");
    owner = await signUp(armory.services, { name: "Owner" });
    outsider = await signUp(armory.services, { name: "Outsider" });
    const project = await (await callerFor(armory.services, owner)).project.create({ name: "Enumerated" });
    const agent = await insertAgentRow(armory.services, project.id, "enum-agent");
    input = { projectId: project.id, agentId: agent.id };
    readOnly = (await makeToken(armory.services, owner.id, { scopes: ["read"] })).token;
    writeOnly = (await makeToken(armory.services, owner.id, { scopes: ["write"] })).token;
    // A member (owner of the project) whose account is then disabled. Set directly, keeping the
    // session: createContext itself must refuse it (admin.disableUser also deletes the sessions).
    disabled = await signUp(armory.services, { name: "Disabled" });
    await armory.services.db.prisma.projectMember.create({ data: { projectId: project.id, userId: disabled.id, role: "owner" } });
    disabledToken = (await makeToken(armory.services, disabled.id)).token;
    await armory.services.db.prisma.user.update({ where: { id: disabled.id }, data: { disabledAt: new Date() } });
  });
  afterAll(async () => {
    await armory?.close();
  });

  async function callerWith(headers: Headers, requestId: string) {
    return createCaller(await createContext({ services: armory.services, headers, requestId }));
  }

  async function expectAuditedRefusal(requestId: string, path: string, code: string) {
    const rows = await armory.services.db.prisma.auditEvent.findMany({ where: { requestId } });
    expect(rows, `audit entry for ${path} (${requestId})`).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: path, allowed: false, outcome: code });
  }

  /** Calls refused before Armory knew the caller go to the instance's security log, not the audit log. */
  async function expectSecurityLogged(requestId: string, path: string, code: string) {
    expect(await armory.services.db.prisma.auditEvent.count({ where: { requestId } })).toBe(0);
    const rows = await armory.services.db.prisma.securityEvent.findMany({ where: { requestId } });
    expect(rows, `security log entry for ${path} (${requestId})`).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: path, outcome: code });
  }

  it("finds the procedures of every router", () => {
    const paths = procedures.map(([p]) => p);
    expect(paths).toEqual(
      expect.arrayContaining(["agent.stop", "project.members.add", "token.create", "trust.check", "audit.list", "admin.disableUser", "invitation.create", "invitation.accept", "files.mkdir", "files.rename", "files.append"]),
    );
    // Conversation management (rename, delete) is enumerated like every other procedure.
    expect(paths).toEqual(expect.arrayContaining(["chat.renameSession", "chat.deleteSession", "chat.sessions"]));
    // The terminal (a shell in the agent's container) needs exec on every procedure.
    expect(paths).toEqual(expect.arrayContaining(["terminal.open", "terminal.input", "terminal.resize"]));
    // Tool approvals: reading them needs a project role, deciding one exec on its agent.
    expect(paths).toEqual(expect.arrayContaining(["approval.list", "approval.get", "approval.decide", "approval.onRequest"]));
    // Budgets and usage (the model gateway's limits and records).
    expect(paths).toEqual(expect.arrayContaining(["budget.get", "budget.set", "usage.summary", "usage.onChange"]));
    // Inbound webhooks: reading needs inspect on the agent, managing and replaying chat.
    expect(paths).toEqual(expect.arrayContaining(["hook.list", "hook.create", "hook.update", "hook.delete", "hook.rotateSecret", "hook.deliveries", "hook.replay", "hook.onDelivery"]));
    // Teams (issue 18): reading by any member, changes by operators, send needs chat on the chosen agent.
    expect(paths).toEqual(expect.arrayContaining(["team.list", "team.get", "team.create", "team.update", "team.delete", "team.send", "team.messages", "team.import"]));
    // Schedules: reading needs a project role, changing or running one chat on its agent.
    expect(paths).toEqual(expect.arrayContaining(["schedule.list", "schedule.create", "schedule.update", "schedule.delete", "schedule.runs", "schedule.runNow", "schedule.onChange"]));
    // Snapshots: reading needs a project role, taking and restoring one `remove` on the agent, delete and clone admin.
    expect(paths).toEqual(expect.arrayContaining(["snapshot.list", "snapshot.create", "snapshot.restore", "snapshot.delete", "snapshot.clone", "snapshot.onChange"]));
    // Git workspaces: status and diffs need file_read on the agent, changes file_write, model calls and session branches chat.
    expect(paths).toEqual(expect.arrayContaining(["git.status", "git.diff", "git.onChange", "git.commit", "git.push", "git.discard", "git.suggestMessage", "git.createSession", "git.openPullRequest", "git.retryClone"]));
    expect(procedures.length).toBeGreaterThanOrEqual(30);
    expect(allProcedures.map(([p]) => p)).toEqual(expect.arrayContaining(PUBLIC));
  });

  it.each(PUBLIC)("%s is public and answers an anonymous caller", async (path) => {
    await expect(call(await callerWith(new Headers(), `public-${crypto.randomUUID()}`), path, { token: "inv_unknown" })).resolves.toBeDefined();
  });

  it.each(procedures)("%s refuses a disabled user's session with 401", async (path) => {
    const rid = `disabled-${path}-${crypto.randomUUID()}`;
    // One client address per procedure: the security log is rate-limited per address.
    const headers = new Headers(disabled.headers);
    headers.set("x-armory-client-ip", `10.3.${procedures.findIndex(([p]) => p === path)}.1`);
    await expectTrpcError(call(await callerWith(headers, rid), path, input), "UNAUTHORIZED", /This account is disabled/);
    await expectSecurityLogged(rid, path, "UNAUTHORIZED");
  });

  it.each(procedures)("%s refuses a disabled user's machine token with 401", async (path) => {
    const rid = `disabledtoken-${path}-${crypto.randomUUID()}`;
    const headers = new Headers({ authorization: `Bearer ${disabledToken}`, "x-armory-client-ip": `10.4.${procedures.findIndex(([p]) => p === path)}.1` });
    await expectTrpcError(call(await callerWith(headers, rid), path, input), "UNAUTHORIZED", /This account is disabled/);
    await expectSecurityLogged(rid, path, "UNAUTHORIZED");
  });

  // Instance-admin procedures: user management, the security log, provider changes, the nodes.
  const ADMIN_ONLY = /^(admin\.|node\.|security\.log$|provider\.(create|update|confirm|delete)$)/;
  const adminOnly = procedures.filter(([p]) => ADMIN_ONLY.test(p));
  it("has instance-admin procedures to check", () => {
    expect(adminOnly.map(([p]) => p)).toEqual(
      expect.arrayContaining(["admin.disableUser", "node.list", "node.drain", "security.log", "provider.create", "provider.update", "provider.confirm", "provider.delete"]),
    );
  });
  it.each(adminOnly)("%s refuses a signed-in user who is not the instance admin with 403, audited", async (path) => {
    const rid = `notadmin-${path}-${crypto.randomUUID()}`;
    await expectTrpcError(call(await callerWith(outsider.headers, rid), path, { userId: owner.id, isAdmin: false }), "FORBIDDEN", /instance admin/);
    await expectAuditedRefusal(rid, path, "FORBIDDEN");
  });

  it.each(procedures)("%s refuses an anonymous caller with 401, in the security log", async (path) => {
    const rid = `anon-${path}-${crypto.randomUUID()}`;
    const headers = new Headers({ "x-armory-client-ip": `10.2.${procedures.findIndex(([p]) => p === path)}.1` });
    await expectTrpcError(call(await callerWith(headers, rid), path, input), "UNAUTHORIZED");
    await expectSecurityLogged(rid, path, "UNAUTHORIZED");
  });

  it.each(procedures)("%s refuses an invalid token with 401, in the security log", async (path) => {
    const rid = `badtoken-${path}-${crypto.randomUUID()}`;
    const headers = new Headers({ authorization: `Bearer arm_000000000000_${"x".repeat(43)}`, "x-armory-client-ip": `10.1.${procedures.findIndex(([p]) => p === path)}.1` });
    await expectTrpcError(call(await callerWith(headers, rid), path, input), "UNAUTHORIZED", /Invalid token/);
    await expectSecurityLogged(rid, path, "UNAUTHORIZED");
  });

  it.each(procedures)("%s refuses a token without the needed scope with 403, audited", async (path, proc) => {
    const rid = `scope-${path}-${crypto.randomUUID()}`;
    // Mutations need the write scope, queries and subscriptions the read scope; token management needs a person.
    const token = typeOf(proc) === "mutation" ? readOnly : writeOnly;
    const headers = new Headers({ authorization: `Bearer ${token}` });
    await expectTrpcError(call(await callerWith(headers, rid), path, input), "FORBIDDEN");
    await expectAuditedRefusal(rid, path, "FORBIDDEN");
  });

  const projectScoped = procedures.filter(([, p]) => takesProjectId(p));
  it("has project-scoped procedures to check", () => {
    expect(projectScoped.map(([p]) => p)).toEqual(expect.arrayContaining(["agent.get", "agent.stop", "trust.create", "audit.list"]));
  });

  it.each(projectScoped)("%s refuses a signed-in non-member with 403, audited", async (path) => {
    const rid = `outsider-${path}-${crypto.randomUUID()}`;
    await expectTrpcError(call(await callerWith(outsider.headers, rid), path, input), "FORBIDDEN", /not a member/);
    await expectAuditedRefusal(rid, path, "FORBIDDEN");
    const entry = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { requestId: rid } });
    expect(entry).toMatchObject({ userId: outsider.id, projectId: input.projectId });
  });
});
