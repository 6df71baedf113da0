// Issue 21, item 1: the README's role table (section "Roles"), procedure by procedure, proven over
// HTTP. The expectations below are written out by hand from the README — deliberately NOT imported
// from src/server/domain/agent-permissions.ts or any middleware table — so a change to the code's
// tables that breaks the documented promise fails here. Every procedure of the app router must have
// an expectation: a new procedure without one fails "the matrix covers exactly the router's
// procedures", naming it.
//
// Each procedure is called over real HTTP (tests/support/http-server.ts) by the project's viewer,
// operator, admin and owner (real sign-ups, session cookies) and by the instance admin (the first
// account, not a member of the project):
// - a refused call must answer 403 FORBIDDEN;
// - an allowed call must get past authorization: any status except 401 and 403. Handlers may well
//   fail after that — 404 (no such grant, session, webhook...), 400 (input the handler rejects),
//   409, 412, or 500/503 because this Armory's Docker client points at a socket that does not
//   exist (no container is needed, or made, to prove a permission).
// Subscriptions go over SSE (GET, as the web app's httpSubscriptionLink does). Authorization runs
// before the response starts, and its decision is audited before that, so once the stream's
// `connected` event has arrived: a refused subscription has its FORBIDDEN in the audit log and its
// next event is the serialized 403; an allowed one has no refusal recorded for its request id.
import Docker from "dockerode";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnyProcedure } from "@trpc/server";
import { appRouter } from "@/server/api/root";
import { signUp, startHttp, startTestArmory, uniqueEmail, type TestArmory, type TestUser } from "../support/armory";
import { createInvitation } from "@/server/instance/invitations";
import { insertAgentRow } from "../support/trust";

type Role = "viewer" | "operator" | "admin" | "owner";
/** The weakest project role allowed, or one of the rules that are not about a project role. */
type Rule = Role | "instance admin only" | "any signed-in user" | "public";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

// The README's role table, one procedure per line (the table's row in the comment).
const MATRIX: Record<string, Rule> = {
  // Instance administration (section "The instance door": users, the security log, providers).
  "admin.disableUser": "instance admin only",
  "admin.enableUser": "instance admin only",
  "admin.revokeSessions": "instance admin only",
  "admin.setAdmin": "instance admin only",
  "admin.users": "instance admin only",
  "node.list": "instance admin only",
  "node.drain": "instance admin only",
  "node.activate": "instance admin only",
  "security.log": "instance admin only",
  "provider.create": "instance admin only",
  "provider.update": "instance admin only",
  "provider.confirm": "instance admin only",
  "provider.delete": "instance admin only",
  "provider.list": "any signed-in user",
  "provider.get": "any signed-in user",
  // Account-level: anyone signed in (their own projects, tokens, invitations to accept).
  "project.create": "any signed-in user",
  "project.list": "any signed-in user",
  "health.summary": "any signed-in user",
  "token.create": "any signed-in user",
  "token.list": "any signed-in user",
  "token.revoke": "any signed-in user",
  "token.rotate": "any signed-in user",
  "invitation.accept": "any signed-in user",
  // What the sign-up page needs.
  "instance.signUp": "public",
  "instance.cluster": "instance admin only",
  "invitation.preview": "public",
  // "See the project, its members, templates and agents; follow agent status": viewer.
  "project.get": "viewer",
  "project.members.list": "viewer",
  "template.list": "viewer",
  "template.get": "viewer",
  "agent.list": "viewer",
  "agent.get": "viewer",
  "agent.onStatus": "viewer",
  "trust.check": "viewer", // about oneself; another caller's access: admin (a separate test below)
  // "Agents: inspect, logs, stats, read files": viewer.
  "agentConfig.capabilities": "viewer",
  "agentConfig.onReload": "viewer",
  "env.get": "viewer",
  "version.list": "viewer",
  "version.history": "viewer",
  "version.onUpdate": "viewer",
  "health.agent": "viewer",
  "health.stats": "viewer",
  "health.statsStream": "viewer",
  "logs.tail": "viewer",
  "logs.follow": "viewer",
  "chat.sessions": "viewer",
  "chat.history": "viewer",
  "chat.stream": "viewer",
  "files.list": "viewer",
  "files.read": "viewer",
  "files.onChange": "viewer",
  // "Read approvals, usage and budgets": viewer.
  "approval.list": "viewer",
  "approval.get": "viewer",
  "approval.onRequest": "viewer",
  "usage.summary": "viewer",
  "usage.onChange": "viewer",
  "budget.get": "viewer",
  // "Agents: start, stop, restart, chat, write files, open a terminal and decide approvals": operator.
  "agent.start": "operator",
  "agent.stop": "operator",
  "agent.restart": "operator",
  "health.setRestartPolicy": "operator",
  "chat.send": "operator",
  "chat.interrupt": "operator",
  "chat.renameSession": "operator",
  "chat.deleteSession": "operator",
  "files.write": "operator",
  "files.append": "operator",
  "files.mkdir": "operator",
  "files.rename": "operator",
  "files.delete": "operator",
  "terminal.open": "operator",
  "terminal.input": "operator",
  "terminal.resize": "operator",
  "approval.decide": "operator",
  // "Agents: create, remove, change env, change image (any image); project templates and secrets": admin.
  "agent.create": "admin",
  "agent.remove": "admin",
  "agent.update": "admin",
  "env.patch": "admin",
  "version.update": "admin",
  "template.create": "admin",
  "template.update": "admin",
  "secret.list": "admin",
  "secret.set": "admin",
  "secret.delete": "admin",
  "secret.agent.list": "admin",
  "secret.agent.set": "admin",
  "secret.agent.delete": "admin",
  // "Rename the project, edit its description": admin.
  "project.update": "admin",
  // "Notification webhooks; set budgets": admin.
  "notification.list": "admin",
  "notification.create": "admin",
  "notification.update": "admin",
  "notification.delete": "admin",
  "notification.test": "admin",
  "notification.deliveries": "admin",
  "notification.redeliver": "admin",
  "notification.onDelivery": "admin",
  "budget.set": "admin",
  // "Inbound webhooks: read them and their deliveries": viewer; "create, change, delete, rotate the secret, replay": operator (chat on the agent).
  "hook.list": "viewer",
  "hook.deliveries": "viewer",
  "hook.onDelivery": "viewer",
  "hook.create": "operator",
  "hook.update": "operator",
  "hook.delete": "operator",
  "hook.rotateSecret": "operator",
  "hook.replay": "operator",
  // Teams (issue 18): reading is a viewer's; creating, changing, deleting and importing teams and
  // sending through them an operator's (team.send needs "chat" on the agent the router chose).
  "team.list": "viewer",
  "team.get": "viewer",
  "team.messages": "viewer",
  "team.create": "operator",
  "team.update": "operator",
  "team.delete": "operator",
  "team.import": "operator",
  "team.send": "operator",
  // "Add members, change roles, remove members (up to admin)": admin.
  "project.members.add": "admin",
  "project.members.updateRole": "admin",
  "project.members.remove": "admin",
  // "Manage trust grants; read the audit log; check others' access": admin.
  "trust.list": "admin",
  "trust.create": "admin",
  "trust.update": "admin",
  "trust.delete": "admin",
  "audit.list": "admin",
  // "Make, change or remove owners; delete the project; invitations": owner.
  "project.delete": "owner",
  "invitation.create": "owner",
  "invitation.list": "owner",
  "invitation.revoke": "owner",
  // Schedules: reading them is the viewer's; creating, changing, deleting and running one needs
  // what sending a chat message to the agent needs (chat: operator).
  "schedule.list": "viewer",
  "schedule.runs": "viewer",
  "schedule.onChange": "viewer",
  "schedule.create": "operator",
  "schedule.update": "operator",
  "schedule.delete": "operator",
  "schedule.runNow": "operator",
  // Snapshots: reading them is the viewer's; taking and restoring one need `remove` on the agent,
  // deleting one and cloning one into a new agent the admin role (what creating and removing agents need).
  "snapshot.list": "viewer",
  "snapshot.onChange": "viewer",
  "snapshot.create": "admin",
  "snapshot.restore": "admin",
  "snapshot.delete": "admin",
  "snapshot.clone": "admin",
  // Git workspaces: reading status and diffs needs file_read, changing them file_write, asking the model and new session branches chat.
  "git.status": "viewer",
  "git.diff": "viewer",
  "git.onChange": "viewer",
  "git.commit": "operator",
  "git.push": "operator",
  "git.discard": "operator",
  "git.suggestMessage": "operator",
  "git.createSession": "operator",
  "git.openPullRequest": "operator",
  "git.retryClone": "operator",
};

/** Project-role procedures the instance admin may call without being a member (README: "Invitations are created by the instance admin or a project owner"). */
const INSTANCE_ADMIN_TOO = new Set(["invitation.create", "invitation.list", "invitation.revoke"]);

type CallerName = Role | "instance admin";
const CALLERS: CallerName[] = ["viewer", "operator", "admin", "owner", "instance admin"];

function allowed(path: string, caller: CallerName): boolean {
  const rule = MATRIX[path]!;
  if (rule === "public" || rule === "any signed-in user") return true;
  if (rule === "instance admin only") return caller === "instance admin";
  if (caller === "instance admin") return INSTANCE_ADMIN_TOO.has(path);
  return RANK[caller] >= RANK[rule];
}

const routerProcedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>).sort(([a], [b]) => a.localeCompare(b));

interface Fixture {
  projectId: string;
  agentId: string;
  /** A chat session and run of the agent (approvals hang off them). */
  sessionId: string;
  runId: string;
  /** A team whose one member (and fallback) is the fixture agent. */
  teamId: string;
  users: Record<CallerName, TestUser>;
  /** A project with the same four members, made for one destructive call. */
  freshProject(): Promise<string>;
  /** A user who is a viewer of the fixture project, made for one call that changes or removes them. */
  freshMember(): Promise<{ id: string; email: string }>;
  /** A user in no project. */
  freshUser(): Promise<{ id: string; email: string }>;
  freshAgent(): Promise<string>;
  freshApproval(): Promise<string>;
  /** A valid invitation (single use) to a project the four roles are not members of. */
  freshInvitation(): Promise<string>;
}

const NO_SUCH = "00000000-0000-4000-8000-000000000000";

/**
 * A minimal input per procedure. Procedures that would destroy the fixture (or change a caller)
 * get a resource made for that one call, so every cell is tested against the same state.
 */
const INPUTS: Record<string, (fx: Fixture) => unknown | Promise<unknown>> = {
  "admin.disableUser": async (fx) => ({ userId: (await fx.freshUser()).id }),
  "admin.enableUser": async (fx) => ({ userId: (await fx.freshUser()).id }),
  "admin.revokeSessions": async (fx) => ({ userId: (await fx.freshUser()).id }),
  "admin.setAdmin": async (fx) => ({ userId: (await fx.freshUser()).id, isAdmin: false }),
  "admin.users": () => undefined,
  "node.list": () => undefined,
  "node.drain": () => ({ nodeId: "no-such-node" }),
  "node.activate": () => ({ nodeId: "no-such-node" }),
  "security.log": () => ({}),
  "provider.create": () => ({ name: "matrix", baseUrl: "https://models.example.test/" }),
  "provider.update": () => ({ providerId: NO_SUCH, name: "matrix" }),
  "provider.confirm": () => ({ providerId: NO_SUCH }),
  "provider.delete": () => ({ providerId: NO_SUCH }),
  "provider.list": () => undefined,
  "provider.get": () => ({ providerId: NO_SUCH }),
  "project.create": () => ({ name: "Made by the matrix" }),
  "project.list": () => undefined,
  "health.summary": () => undefined, // optional input: called without one
  "token.create": () => ({ name: "matrix", scopes: ["read"] }),
  "token.list": () => undefined,
  "token.revoke": () => ({ tokenId: NO_SUCH }),
  "token.rotate": () => ({ tokenId: NO_SUCH }),
  "invitation.accept": async (fx) => ({ token: await fx.freshInvitation() }),
  "instance.signUp": () => undefined,
  "instance.cluster": () => undefined,
  "invitation.preview": () => ({ token: "inv_unknown" }),
  "project.get": (fx) => ({ projectId: fx.projectId }),
  "project.members.list": (fx) => ({ projectId: fx.projectId }),
  "template.list": (fx) => ({ projectId: fx.projectId }),
  "template.get": (fx) => ({ projectId: fx.projectId, templateId: NO_SUCH }),
  "agent.list": (fx) => ({ projectId: fx.projectId }),
  "agent.onStatus": (fx) => ({ projectId: fx.projectId }),
  "trust.check": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, permission: "stop" }),
  "files.list": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "/workspace" }),
  "files.read": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "/workspace/a.txt" }),
  "files.onChange": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "/workspace" }),
  "chat.history": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, sessionId: fx.sessionId }),
  "chat.stream": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, sessionId: fx.sessionId }),
  "approval.list": (fx) => ({ projectId: fx.projectId }),
  "approval.get": async (fx) => ({ projectId: fx.projectId, approvalId: await fx.freshApproval() }),
  "approval.onRequest": (fx) => ({ projectId: fx.projectId }),
  "usage.summary": (fx) => ({ projectId: fx.projectId }),
  "usage.onChange": (fx) => ({ projectId: fx.projectId }),
  "budget.get": (fx) => ({ projectId: fx.projectId }),
  "health.setRestartPolicy": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, policy: "never" }),
  "chat.send": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, message: "hello" }),
  "chat.interrupt": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, sessionId: NO_SUCH }),
  "chat.renameSession": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, sessionId: NO_SUCH, title: "renamed" }),
  "chat.deleteSession": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, sessionId: NO_SUCH }),
  "files.write": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "/workspace/a.txt", content: "x" }),
  "files.append": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "/workspace/a.txt", content: "eA==", offset: 0 }),
  "files.mkdir": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "/workspace/d" }),
  "files.rename": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "/workspace/a.txt", to: "/workspace/b.txt" }),
  "files.delete": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "/workspace/a.txt" }),
  "terminal.open": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, cols: 80, rows: 24 }),
  "terminal.input": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, termId: NO_SUCH, data: "ls\n" }),
  "terminal.resize": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, termId: NO_SUCH, cols: 80, rows: 24 }),
  "approval.decide": async (fx) => ({ projectId: fx.projectId, approvalId: await fx.freshApproval(), decision: "deny" }),
  "agent.create": (fx) => ({ projectId: fx.projectId, name: `matrix-${crypto.randomUUID().slice(0, 8)}`, templateId: NO_SUCH }),
  "agent.remove": async (fx) => ({ projectId: fx.projectId, agentId: await fx.freshAgent(), keepVolumes: true }),
  "agent.update": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, env: {} }),
  "env.patch": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, set: {}, unset: [] }),
  "version.update": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, image: "armory-agent:matrix" }),
  "template.create": (fx) => ({ projectId: fx.projectId, name: `matrix-${crypto.randomUUID().slice(0, 8)}` }),
  "template.update": (fx) => ({ projectId: fx.projectId, templateId: NO_SUCH, description: "x" }),
  "secret.list": (fx) => ({ projectId: fx.projectId }),
  "secret.set": (fx) => ({ projectId: fx.projectId, name: "MATRIX_SECRET", value: "s3cret" }),
  "secret.delete": (fx) => ({ projectId: fx.projectId, name: "NO_SUCH_SECRET" }),
  "secret.agent.set": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, name: "MATRIX_SECRET", value: "s3cret" }),
  "secret.agent.delete": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, name: "NO_SUCH_SECRET" }),
  "project.update": (fx) => ({ projectId: fx.projectId, description: "edited by the matrix" }),
  "notification.list": (fx) => ({ projectId: fx.projectId }),
  "notification.create": (fx) => ({ projectId: fx.projectId, name: "matrix", url: "https://hooks.example.test/x", format: "json", events: ["agent.crashed"] }),
  "notification.update": (fx) => ({ projectId: fx.projectId, webhookId: NO_SUCH, enabled: false }),
  "notification.delete": (fx) => ({ projectId: fx.projectId, webhookId: NO_SUCH }),
  "notification.test": (fx) => ({ projectId: fx.projectId, webhookId: NO_SUCH }),
  "notification.deliveries": (fx) => ({ projectId: fx.projectId, webhookId: NO_SUCH }),
  "notification.redeliver": (fx) => ({ projectId: fx.projectId, deliveryId: NO_SUCH }),
  "notification.onDelivery": (fx) => ({ projectId: fx.projectId }),
  "budget.set": (fx) => ({ projectId: fx.projectId, monthlyCostUsd: 100, monthlyTokens: null }),
  "team.list": (fx) => ({ projectId: fx.projectId }),
  "team.get": (fx) => ({ projectId: fx.projectId, teamId: fx.teamId }),
  "team.messages": (fx) => ({ projectId: fx.projectId, teamId: fx.teamId }),
  "team.create": (fx) => ({ projectId: fx.projectId, name: `matrix-${crypto.randomUUID().slice(0, 8)}`, members: [{ agentId: fx.agentId }] }),
  "team.update": (fx) => ({ projectId: fx.projectId, teamId: fx.teamId, description: "changed by the matrix" }),
  "team.delete": (fx) => ({ projectId: fx.projectId, teamId: NO_SUCH }),
  "team.import": (fx) => ({ projectId: fx.projectId, yaml: `name: matrix-${crypto.randomUUID().slice(0, 8)}\nmembers:\n  - agent: matrix-agent\n` }),
  // Routed to the fixture agent (the team's fallback): the operator has "chat" on it, the viewer not.
  "team.send": (fx) => ({ projectId: fx.projectId, teamId: fx.teamId, message: "hello team" }),
  "project.members.add": async (fx) => ({ projectId: fx.projectId, email: (await fx.freshUser()).email, role: "viewer" }),
  "project.members.updateRole": async (fx) => ({ projectId: fx.projectId, userId: (await fx.freshMember()).id, role: "operator" }),
  "project.members.remove": async (fx) => ({ projectId: fx.projectId, userId: (await fx.freshMember()).id }),
  "trust.list": (fx) => ({ projectId: fx.projectId }),
  "trust.create": (fx) => ({
    projectId: fx.projectId,
    callerType: "role",
    callerId: "viewer",
    targetType: "agent_glob",
    target: `matrix-${crypto.randomUUID().slice(0, 8)}-*`,
    permissions: { logs: true },
  }),
  "trust.update": (fx) => ({ projectId: fx.projectId, grantId: NO_SUCH, description: "x" }),
  "trust.delete": (fx) => ({ projectId: fx.projectId, grantId: NO_SUCH }),
  "audit.list": (fx) => ({ projectId: fx.projectId }),
  "project.delete": async (fx) => ({ projectId: await fx.freshProject() }),
  "invitation.create": (fx) => ({ projectId: fx.projectId, role: "viewer" }),
  "invitation.list": (fx) => ({ projectId: fx.projectId }),
  "invitation.revoke": (fx) => ({ projectId: fx.projectId, invitationId: NO_SUCH }),
  "hook.list": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId }),
  "hook.deliveries": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, hookId: NO_SUCH }),
  "hook.onDelivery": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId }),
  "hook.create": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, name: `matrix-${crypto.randomUUID().slice(0, 8)}`, verify: "github", template: "{{ event }}" }),
  "hook.update": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, hookId: NO_SUCH, enabled: false }),
  "hook.delete": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, hookId: NO_SUCH }),
  "hook.rotateSecret": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, hookId: NO_SUCH }),
  "hook.replay": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, deliveryId: NO_SUCH }),
  "schedule.list": (fx) => ({ projectId: fx.projectId }),
  "schedule.runs": (fx) => ({ projectId: fx.projectId }),
  "schedule.onChange": (fx) => ({ projectId: fx.projectId }),
  "schedule.create": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, name: "matrix", cron: "0 9 * * *", message: "hello" }),
  "schedule.update": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, scheduleId: NO_SUCH, enabled: false }),
  "schedule.delete": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, scheduleId: NO_SUCH }),
  "schedule.runNow": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, scheduleId: NO_SUCH }),
  "snapshot.list": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId }),
  "snapshot.onChange": (fx) => ({ projectId: fx.projectId }),
  "snapshot.create": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, note: "matrix" }),
  "snapshot.restore": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, snapshotId: NO_SUCH }),
  "snapshot.delete": (fx) => ({ projectId: fx.projectId, snapshotId: NO_SUCH }),
  "snapshot.clone": (fx) => ({ projectId: fx.projectId, snapshotId: NO_SUCH, name: "matrix-clone" }),
  "git.diff": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "README.md" }),
  "git.commit": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, message: "matrix" }),
  "git.discard": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, path: "README.md" }),
  "git.createSession": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, title: "matrix" }),
  "git.openPullRequest": (fx) => ({ projectId: fx.projectId, agentId: fx.agentId, sessionId: NO_SUCH }),
};
/** Procedures on one agent whose input is just `{ projectId, agentId }`. */
const AGENT_ONLY = [
  "agent.get", "agent.start", "agent.stop", "agent.restart", "agentConfig.capabilities", "agentConfig.onReload", "env.get",
  "version.list", "version.history", "version.onUpdate", "health.agent", "health.stats", "health.statsStream", "logs.tail",
  "logs.follow", "chat.sessions", "secret.agent.list", "git.status", "git.onChange", "git.push", "git.suggestMessage",
  "git.retryClone",
];
for (const path of AGENT_ONLY) INPUTS[path] = (fx) => ({ projectId: fx.projectId, agentId: fx.agentId });

describe("the README's role table, procedure by procedure, over HTTP (pglite)", () => {
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;
  let fx: Fixture;

  beforeAll(async () => {
    // No container is needed to prove a permission: Docker calls of allowed handlers fail fast
    // on a socket that does not exist (after authorization, which is what is tested).
    const docker = new Docker({ socketPath: `/nonexistent/armory-role-matrix-${process.pid}.sock` });
    armory = await startTestArmory("pglite", {}, { docker });
    const { services } = armory;
    const prisma = services.db.prisma;
    http = await startHttp(() => armory.services);
    // The first account is the instance admin; it is no member of the project.
    const instanceAdmin = await signUp(services, { name: "Instance admin" });
    const owner = await signUp(services, { name: "Owner" });
    const admin = await signUp(services, { name: "Admin" });
    const operator = await signUp(services, { name: "Operator" });
    const viewer = await signUp(services, { name: "Viewer" });
    const users: Record<CallerName, TestUser> = { viewer, operator, admin, owner, "instance admin": instanceAdmin };
    expect(await prisma.user.findUniqueOrThrow({ where: { id: instanceAdmin.id }, select: { isAdmin: true } })).toEqual({ isAdmin: true });
    expect(await prisma.user.count({ where: { isAdmin: true } })).toBe(1);

    /** An account row (no password: it is only ever the target of a call, never a caller). */
    async function bystander(): Promise<{ id: string; email: string }> {
      const email = uniqueEmail("bystander");
      return prisma.user.create({ data: { id: crypto.randomUUID(), name: "Bystander", email }, select: { id: true, email: true } });
    }
    async function projectWithMembers(name: string): Promise<string> {
      const project = await prisma.project.create({ data: { name } });
      for (const role of ["owner", "admin", "operator", "viewer"] as const) {
        await prisma.projectMember.create({ data: { projectId: project.id, userId: users[role].id, role } });
      }
      return project.id;
    }
    const projectId = await projectWithMembers("Role matrix");
    const agentId = (await insertAgentRow(services, projectId, "matrix-agent")).id;
    const session = await services.chat.store.createSession({ projectId, agentId, title: "Matrix", userId: owner.id });
    const runId = (await services.chat.store.createRun({ sessionId: session.id, agentId, projectId, userId: owner.id, message: "ls", mode: "warm" })).id;
    const teamId = (await services.teams.create(projectId, { name: "Matrix team", description: "", router: "keyword", model: "claude-haiku-4-5", fallbackAgentId: agentId, members: [{ agentId, description: "", keywords: [] }] })).id;
    fx = {
      projectId,
      agentId,
      sessionId: session.id,
      runId,
      teamId,
      users,
      freshProject: () => projectWithMembers(`Doomed ${crypto.randomUUID().slice(0, 8)}`),
      async freshMember() {
        const user = await bystander();
        await prisma.projectMember.create({ data: { projectId, userId: user.id, role: "viewer" } });
        return user;
      },
      freshUser: bystander,
      async freshAgent() {
        return (await insertAgentRow(services, projectId, `doomed-${crypto.randomUUID().slice(0, 8)}`)).id;
      },
      async freshInvitation() {
        // A project of its own (owned by a user outside the matrix), so accepting it changes no caller's role in the fixture.
        const project = await prisma.project.create({ data: { name: `Invited ${crypto.randomUUID().slice(0, 8)}` } });
        const inviter = await prisma.projectMember.create({ data: { projectId: project.id, userId: instanceAdmin.id, role: "owner" } });
        return (await createInvitation(prisma, { userId: inviter.userId, role: "owner" }, { projectId: project.id, role: "viewer" })).token;
      },
      async freshApproval() {
        const row = await prisma.approval.create({
          data: {
            projectId,
            agentId,
            sessionId: session.id,
            runId,
            requestId: crypto.randomUUID(),
            toolName: "Bash",
            input: { command: "ls" },
            summary: "ls",
            expiresAt: new Date(Date.now() + 600_000),
          },
        });
        return row.id;
      },
    };
  });
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  it("the matrix covers exactly the router's procedures, each with an input", () => {
    const paths = routerProcedures.map(([p]) => p);
    const missing = paths.filter((p) => !(p in MATRIX));
    expect(missing, `procedures without an expectation in the role matrix (add them from the README's role table): ${missing.join(", ")}`).toEqual([]);
    const stale = Object.keys(MATRIX).filter((p) => !paths.includes(p));
    expect(stale, `expectations for procedures the router no longer has: ${stale.join(", ")}`).toEqual([]);
    const noInput = paths.filter((p) => !(p in INPUTS));
    expect(noInput, `procedures without an input in the role matrix: ${noInput.join(", ")}`).toEqual([]);
    // The floor is the real count (104 when this was written), not a guess.
    expect(Object.keys(MATRIX)).toHaveLength(paths.length);
    expect(paths).toContain("health.summary");
  });

  interface Outcome {
    /** HTTP status (queries, mutations) or the serialized error's httpStatus (subscriptions); 200 for a stream that opened. */
    status: number;
    code: string | null;
  }

  async function callOverHttp(path: string, type: string, input: unknown, user: TestUser | null): Promise<Outcome> {
    const requestId = `matrix-${path}-${crypto.randomUUID()}`;
    const headers: Record<string, string> = { "x-request-id": requestId };
    if (user) headers.cookie = user.cookie;
    const encoded = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(superjson.serialize(input)))}`;
    if (type === "mutation") {
      const res = await fetch(`${http.url}/api/trpc/${path}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: input === undefined ? undefined : JSON.stringify(superjson.serialize(input)),
      });
      const body = (await res.json()) as { error?: { json?: { data?: { code?: string } } } };
      return { status: res.status, code: body.error?.json?.data?.code ?? null };
    }
    if (type === "query") {
      const res = await fetch(`${http.url}/api/trpc/${path}${encoded}`, { headers });
      const body = (await res.json()) as { error?: { json?: { data?: { code?: string } } } };
      return { status: res.status, code: body.error?.json?.data?.code ?? null };
    }
    // A subscription over SSE.
    const aborter = new AbortController();
    const res = await fetch(`${http.url}/api/trpc/${path}${encoded}`, { headers: { ...headers, accept: "text/event-stream" }, signal: aborter.signal });
    try {
      if (res.status !== 200) return { status: res.status, code: null };
      expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
      const events = sseEvents(res.body!);
      const first = await events.next();
      expect(first.value?.event, `${path}: the stream opens with the connected event`).toBe("connected");
      // The authorization decision was written before the response started.
      const refusals = await armory.services.db.prisma.auditEvent.findMany({ where: { requestId, allowed: false } });
      if (refusals.length === 0) return { status: 200, code: null };
      // Refused: the next event, at once, is the serialized error.
      const next = await events.next();
      expect(next.value?.event, `${path}: a refused stream's next event`).toBe("serialized-error");
      const shape = superjson.deserialize(JSON.parse(next.value!.data)) as { data?: { code?: string; httpStatus?: number } };
      return { status: shape.data?.httpStatus ?? 0, code: shape.data?.code ?? null };
    } finally {
      aborter.abort();
    }
  }

  for (const [path, proc] of routerProcedures) {
    const type = proc._def.type as string;
    it(`${path} (${type}): ${MATRIX[path] ?? "NO EXPECTATION"}`, async () => {
      expect(MATRIX[path], `${path} has no expectation in the role matrix`).toBeDefined();
      const cells: string[] = [];
      // Weakest first: a destructive procedure is refused to the weaker roles before a stronger one runs it.
      for (const name of CALLERS) {
        const input = await INPUTS[path]!(fx);
        const outcome = await callOverHttp(path, type, input, fx.users[name]);
        cells.push(`${name}: ${outcome.status} ${outcome.code ?? ""}`.trim());
        if (allowed(path, name)) {
          expect([401, 403], `${path} must let the ${name} past authorization (got ${outcome.status} ${outcome.code})`).not.toContain(outcome.status);
        } else {
          expect(outcome, `${path} must refuse the ${name} with 403 FORBIDDEN`).toEqual({ status: 403, code: "FORBIDDEN" });
        }
      }
      if (MATRIX[path] === "public") {
        const outcome = await callOverHttp(path, type, await INPUTS[path]!(fx), null);
        expect([401, 403], `${path} is public: an anonymous caller gets past authorization`).not.toContain(outcome.status);
      }
      if (process.env.ROLE_MATRIX_PRINT) console.log(`[role-matrix] ${path}: ${cells.join(" | ")}`);
    });
  }

  it("trust.check of another caller's access needs the admin role (README: check others' access)", async () => {
    for (const name of CALLERS.slice(0, 4) as Role[]) {
      const other = name === "viewer" ? fx.users.operator : fx.users.viewer;
      const input = { projectId: fx.projectId, agentId: fx.agentId, permission: "stop", caller: { type: "user", id: other.id } };
      const outcome = await callOverHttp("trust.check", "query", input, fx.users[name]);
      if (RANK[name] >= RANK.admin) expect([401, 403], `the ${name} may check another's access (got ${outcome.status})`).not.toContain(outcome.status);
      else expect(outcome, `the ${name} may not check another's access`).toEqual({ status: 403, code: "FORBIDDEN" });
    }
  });
});

/** Reads a server-sent event stream event by event. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of raw.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length || event !== "message") yield { event, data: data.join("\n") };
    }
  }
}
