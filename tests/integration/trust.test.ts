// Machine tokens, trust grants, members and the audit log, through the real context and
// middlewares (createCaller) and over real HTTP with the typed client (tokens, SSE).
import { EventSource } from "eventsource";
import { TRPCClientError } from "@trpc/client";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createArmoryClient, type AppRouter } from "@/client";
import { agentProcedure, authorizeAgentImage, authorizeAgentPath } from "@/server/api/middleware/agent-access";
import { createCallerFactory, createContext, router } from "@/server/api/trpc";
import { pruneAuditEvents, redactInput } from "@/server/trust/audit";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { DB_KINDS } from "../support/databases";
import { insertAgentRow, makeToken, tokenCaller } from "../support/trust";
import { expectTrpcError } from "../support/trpc-errors";

// A stand-in for the files / version routers of other branches: real agentProcedure middlewares
// and the exported one-line checks, with handlers that touch nothing else.
const probeRouter = router({
  stop: agentProcedure("stop").output(z.literal("ok")).mutation(() => "ok" as const),
  writeFile: agentProcedure("file_write")
    .input(z.object({ path: z.string() }))
    .output(z.string())
    .mutation(async ({ ctx, input }) => authorizeAgentPath(ctx, "file_write", input.path)),
  readFile: agentProcedure("file_read")
    .input(z.object({ path: z.string() }))
    .output(z.string())
    .query(async ({ ctx, input }) => authorizeAgentPath(ctx, "file_read", input.path)),
  setImage: agentProcedure("update_image")
    .input(z.object({ image: z.string() }))
    .output(z.literal("ok"))
    .mutation(async ({ ctx, input }) => {
      await authorizeAgentImage(ctx, input.image);
      return "ok" as const;
    }),
});
const createProbe = createCallerFactory(probeRouter);

async function expectClientError(promise: Promise<unknown>, status: number, message?: RegExp) {
  const err = await promise.then(
    () => {
      throw new Error(`expected HTTP ${status}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCClientError);
  expect(((err as TRPCClientError<AppRouter>).data as { httpStatus?: number } | undefined)?.httpStatus).toBe(status);
  if (message) expect((err as Error).message).toMatch(message);
}

describe.each(DB_KINDS)("trust, tokens and audit on %s", (kind) => {
  let armory: TestArmory;
  let http: { url: string; close(): Promise<void> };
  let alice: TestUser; // owner
  let bob: TestUser; // viewer
  let carol: TestUser; // not a member until the members test
  let projectId: string;
  let web: { id: string; name: string; projectId: string };
  let db: { id: string; name: string; projectId: string };

  beforeAll(async () => {
    armory = await startTestArmory(kind, { ARMORY_TOKEN_FAIL_RATE_LIMIT: "5", ARMORY_TOKEN_FAIL_RATE_WINDOW_SECONDS: "600" });
    http = await startHttp(() => armory.services);
    alice = await signUp(armory.services, { name: "Alice" });
    bob = await signUp(armory.services, { name: "Bob" });
    carol = await signUp(armory.services, { name: "Carol" });
    const a = await callerFor(armory.services, alice);
    projectId = (await a.project.create({ name: "Trust" })).id;
    await a.project.members.add({ projectId, email: bob.email, role: "viewer" });
    web = await insertAgentRow(armory.services, projectId, "web-1");
    db = await insertAgentRow(armory.services, projectId, "db-1");
  });
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  async function probeAs(user: TestUser) {
    return createProbe(await createContext({ services: armory.services, headers: user.headers }));
  }

  describe("machine tokens", () => {
    it("create, use over HTTP, rotate (old fails), revoke (fails), expire (fails)", async () => {
      const a = await callerFor(armory.services, alice);
      const { token, summary } = await a.token.create({ name: "ci", scopes: ["read", "write"] });
      expect(token).toMatch(/^arm_[0-9a-f]{12}_/);
      expect(token.startsWith(`arm_${summary.prefix}_`)).toBe(true);
      const row = await armory.services.db.prisma.apiToken.findUniqueOrThrow({ where: { id: summary.id } });
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
      // The secret is everything after `arm_<prefix>_` (base64url: it may itself contain "_").
      expect(JSON.stringify(row)).not.toContain(token.slice(`arm_${summary.prefix}_`.length));
      expect((await a.token.list()).find((t) => t.id === summary.id)).toMatchObject({ state: "active", lastUsedAt: null });

      const client = createArmoryClient({ url: http.url, token });
      expect((await client.project.list.query()).map((p) => p.id)).toContain(projectId);
      const renamed = await client.project.update.mutate({ projectId, description: "renamed by a token" });
      expect(renamed.description).toBe("renamed by a token");
      expect((await a.token.list()).find((t) => t.id === summary.id)!.lastUsedAt).toBeInstanceOf(Date);
      const audited = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "project.update", tokenId: summary.id } });
      expect(audited).toMatchObject({ userId: alice.id, tokenPrefix: summary.prefix, allowed: true, outcome: "ok", ip: "127.0.0.1" });
      expect(audited.reason).toBe("The owner role meets the admin role this needs.");

      const rotated = await a.token.rotate({ tokenId: summary.id });
      expect(rotated.token).not.toBe(token);
      await expectClientError(client.project.list.query(), 401, /Invalid token/);
      const rotatedClient = createArmoryClient({ url: http.url, token: rotated.token });
      expect(await rotatedClient.project.get.query({ projectId })).toMatchObject({ id: projectId });

      await a.token.revoke({ tokenId: summary.id });
      await expectClientError(rotatedClient.project.get.query({ projectId }), 401, /revoked/);

      const expiring = await a.token.create({ name: "short", scopes: ["read"], expiresAt: new Date(Date.now() + 60_000) });
      const expClient = createArmoryClient({ url: http.url, token: expiring.token });
      expect(await expClient.project.get.query({ projectId })).toMatchObject({ id: projectId });
      // Time passes: the expiry is now behind us.
      await armory.services.db.prisma.apiToken.update({ where: { id: expiring.summary.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      await expectClientError(expClient.project.get.query({ projectId }), 401, /expired/);
      expect((await a.token.list()).find((t) => t.id === expiring.summary.id)!.state).toBe("expired");
    });

    it("never stores or logs the token secret", async () => {
      const a = await callerFor(armory.services, alice);
      const { token, summary } = await a.token.create({ name: "secret-check", scopes: ["read"] });
      const rotated = await a.token.rotate({ tokenId: summary.id });
      const audit = await armory.services.db.prisma.auditEvent.findMany({ where: { userId: alice.id } });
      const dump = JSON.stringify(audit) + armory.logs.text;
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(rotated.token);
      expect(redactInput({ password: "p", nested: { apiKey: "k", name: "n" }, env: { A: "1" } })).toEqual({
        password: "[redacted]",
        nested: { apiKey: "[redacted]", name: "n" },
        env: "[redacted]",
      });
      // env.* and secret.* inputs keep only ids and names.
      expect(redactInput({ projectId: "p", set: { API_URL: "https://x", TOKEN2: "s3cret" }, unset: ["OLD"] }, { strict: true })).toEqual({
        projectId: "p",
        set: { API_URL: "[redacted]", TOKEN2: "[redacted]" },
        unset: ["[redacted]"],
      });
    });

    it("tokens act as their owner narrowed by scopes and projects; they cannot manage tokens", async () => {
      const a = await callerFor(armory.services, alice);
      const other = await a.project.create({ name: "Other" });
      const { token } = await makeToken(armory.services, alice.id, { projectIds: [projectId] });
      const t = await tokenCaller(armory.services, token);
      expect(await t.project.get({ projectId })).toMatchObject({ role: "owner" });
      expect((await t.project.list()).map((p) => p.id)).toEqual([projectId]);
      await expectTrpcError(t.project.get({ projectId: other.id }), "FORBIDDEN", /not scoped to this project/);
      await expectTrpcError(t.token.list(), "FORBIDDEN", /sign in as a person/);
      await expectTrpcError(t.token.create({ name: "x", scopes: ["read"] }), "FORBIDDEN");
      const readOnly = await tokenCaller(armory.services, (await makeToken(armory.services, alice.id, { scopes: ["read"] })).token);
      await expectTrpcError(readOnly.project.update({ projectId, description: "x" }), "FORBIDDEN", /write scope/);
    });

    it("subscribes over SSE with the token (header from the typed client, or the token connection param)", async () => {
      const { token } = await makeToken(armory.services, alice.id, { scopes: ["read"] });
      const client = createArmoryClient({ url: http.url, token, EventSource });
      const first = await new Promise<unknown>((resolve, reject) => {
        const sub = client.agent.onStatus.subscribe(
          { projectId, agentId: web.id },
          {
            onData: (e) => {
              sub.unsubscribe();
              resolve(e);
            },
            onError: reject,
          },
        );
      });
      expect(first).toMatchObject({ type: "engine" });

      const url = new URL(`${http.url}/api/trpc/agent.onStatus`);
      url.searchParams.set("input", JSON.stringify({ json: { projectId } }));
      const withParam = new URL(url);
      withParam.searchParams.set("connectionParams", JSON.stringify({ token }));
      const ac = new AbortController();
      const res = await fetch(withParam, { signal: ac.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes('"engine"')) text += new TextDecoder().decode((await reader.read()).value);
      ac.abort();
      // Without a token the stream carries the 401 as its error event, and no data.
      const anon = await fetch(url);
      const anonText = await anon.text();
      expect(anonText).toMatch(/serialized-error[\s\S]*UNAUTHORIZED/);
      expect(anonText).not.toContain('"engine"');
    });

    it("rate-limits failed token attempts per client address (429), but never a good token", async () => {
      const { token } = await makeToken(armory.services, alice.id);
      const headers = (t: string) => new Headers({ authorization: `Bearer ${t}`, "x-armory-client-ip": "203.0.113.77" });
      const bad = `arm_abcdefabcdef_${"y".repeat(43)}`;
      for (let i = 0; i < 5; i++) {
        const c = (await import("@/server/api/root")).createCaller(await createContext({ services: armory.services, headers: headers(bad) }));
        await expectTrpcError(c.project.list(), "UNAUTHORIZED");
      }
      const limited = (await import("@/server/api/root")).createCaller(await createContext({ services: armory.services, headers: headers(bad) }));
      await expectTrpcError(limited.project.list(), "TOO_MANY_REQUESTS");
      // A valid token from the locked-out address still authenticates (issue 12: a lockout never blocks valid tokens).
      const good = (await import("@/server/api/root")).createCaller(await createContext({ services: armory.services, headers: headers(token) }));
      expect(await good.project.get({ projectId })).toMatchObject({ id: projectId });
      // Another address is not affected.
      expect(await (await tokenCaller(armory.services, token)).project.get({ projectId })).toMatchObject({ id: projectId });
    });
  });

  describe("trust grants", () => {
    it("a viewer is denied by default; a glob grant allows matching agents only; expiry flips allow to deny", async () => {
      const probe = await probeAs(bob);
      await expectTrpcError(probe.stop({ projectId, agentId: web.id }), "FORBIDDEN", /operator role or higher.*you are viewer/);

      const a = await callerFor(armory.services, alice);
      const grant = await a.trust.create({
        projectId,
        callerType: "user",
        callerId: bob.id,
        targetType: "agent_glob",
        target: "web-*",
        permissions: { stop: true },
        description: "bob stops web agents",
      });
      expect(await probe.stop({ projectId, agentId: web.id })).toBe("ok");
      await expectTrpcError(probe.stop({ projectId, agentId: db.id }), "FORBIDDEN");

      const allowedEntry = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "stop", userId: bob.id, allowed: true } });
      expect(allowedEntry).toMatchObject({ grantId: grant.id, agentId: web.id, agentName: "web-1", permission: "stop" });
      expect(allowedEntry.reason).toMatch(/bob stops web agents/);

      const check = await a.trust.check({ projectId, agentId: web.id, permission: "stop", caller: { type: "user", id: bob.id } });
      expect(check).toMatchObject({ allowed: true, role: "viewer", grant: { id: grant.id } });

      await a.trust.update({ projectId, grantId: grant.id, expiresAt: new Date(Date.now() - 1000) });
      await expectTrpcError(probe.stop({ projectId, agentId: web.id }), "FORBIDDEN", /expired/);
      const expiredCheck = await a.trust.check({ projectId, agentId: web.id, permission: "stop", caller: { type: "user", id: bob.id } });
      expect(expiredCheck.allowed).toBe(false);
      expect(expiredCheck.reason).toMatch(/expired/);
      expect((await a.trust.list({ projectId })).find((g) => g.id === grant.id)!.expired).toBe(true);

      await expectTrpcError(
        a.trust.create({ projectId, callerType: "user", callerId: bob.id, targetType: "agent_glob", target: "web-*" }),
        "CONFLICT",
      );
      await a.trust.delete({ projectId, grantId: grant.id });
      expect(await a.trust.list({ projectId })).toEqual([]);
    });

    it("file path globs allow and deny writes and reads; path tricks are normalized", async () => {
      const a = await callerFor(armory.services, alice);
      const probe = await probeAs(bob);
      // Viewers read files by default (any path); writing needs a grant.
      expect(await probe.readFile({ projectId, agentId: web.id, path: "/etc/hostname" })).toBe("/etc/hostname");
      await expectTrpcError(probe.writeFile({ projectId, agentId: web.id, path: "/workspace/src/a.ts" }), "FORBIDDEN");
      const grant = await a.trust.create({
        projectId,
        callerType: "role",
        callerId: "viewer",
        targetType: "agent",
        target: web.id,
        fileWritePaths: ["/workspace/src/**"],
      });
      expect(await probe.writeFile({ projectId, agentId: web.id, path: "/workspace/src/deep/a.ts" })).toBe("/workspace/src/deep/a.ts");
      await expectTrpcError(probe.writeFile({ projectId, agentId: web.id, path: "/workspace/README.md" }), "FORBIDDEN", /only covers \/workspace\/src\/\*\*/);
      await expectTrpcError(probe.writeFile({ projectId, agentId: web.id, path: "/workspace/src/../../etc/passwd" }), "FORBIDDEN");
      await expectTrpcError(probe.writeFile({ projectId, agentId: db.id, path: "/workspace/src/a.ts" }), "FORBIDDEN");

      const denied = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "writeFile", filePath: "/etc/passwd" } });
      expect(denied).toMatchObject({ allowed: false, permission: "file_write", outcome: "FORBIDDEN", agentId: web.id });
      const allowed = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "writeFile", filePath: "/workspace/src/deep/a.ts" } });
      expect(allowed).toMatchObject({ allowed: true, grantId: grant.id });

      const checked = await a.trust.check({ projectId, agentId: web.id, permission: "file_write", caller: { type: "role", id: "viewer" }, path: "/workspace/src/x" });
      expect(checked).toMatchObject({ allowed: true, grant: { id: grant.id } });
      await a.trust.delete({ projectId, grantId: grant.id });
    });

    it("allowed images allow and deny image updates; admins may use any image", async () => {
      const a = await callerFor(armory.services, alice);
      const { token, summary } = await makeToken(armory.services, bob.id);
      const viaToken = createProbe(await createContext({ services: armory.services, headers: new Headers({ authorization: `Bearer ${token}` }) }));
      await expectTrpcError(viaToken.setImage({ projectId, agentId: web.id, image: "armory-agent:2" }), "FORBIDDEN");
      const grant = await a.trust.create({
        projectId,
        callerType: "token",
        callerId: summary.id,
        targetType: "project",
        target: projectId,
        permissions: { update_image: true },
        allowedImages: ["armory-agent:*"],
      });
      expect(await viaToken.setImage({ projectId, agentId: web.id, image: "armory-agent:2.1" })).toBe("ok");
      await expectTrpcError(viaToken.setImage({ projectId, agentId: db.id, image: "evil/miner:latest" }), "FORBIDDEN", /not in the allowed images/);
      // The grant is the token's, not its owner's: Bob's session does not get it.
      await expectTrpcError((await probeAs(bob)).setImage({ projectId, agentId: web.id, image: "armory-agent:2.1" }), "FORBIDDEN");
      const entry = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "setImage", image: "evil/miner:latest" } });
      expect(entry).toMatchObject({ allowed: false, tokenId: summary.id, userId: bob.id });
      expect(await (await probeAs(alice)).setImage({ projectId, agentId: web.id, image: "anything:else" })).toBe("ok");
      await a.trust.delete({ projectId, grantId: grant.id });
    });

    it("agent.update with a new image needs update_image and an allowed image", async () => {
      const a = await callerFor(armory.services, alice);
      const b = await callerFor(armory.services, bob);
      expect(await a.agent.update({ projectId, agentId: db.id, image: "armory-agent:9" })).toMatchObject({ image: "armory-agent:9" });
      const grant = await a.trust.create({
        projectId,
        callerType: "user",
        callerId: bob.id,
        targetType: "agent",
        target: db.id,
        permissions: { update_env: true },
      });
      expect(await b.agent.update({ projectId, agentId: db.id, memoryMb: 512 })).toMatchObject({ memoryMb: 512 });
      await expectTrpcError(b.agent.update({ projectId, agentId: db.id, image: "armory-agent:10" }), "FORBIDDEN", /update_image/);
      await a.trust.update({ projectId, grantId: grant.id, permissions: { update_image: true }, allowedImages: ["armory-agent:*"] });
      expect(await b.agent.update({ projectId, agentId: db.id, image: "armory-agent:10" })).toMatchObject({ image: "armory-agent:10" });
      await expectTrpcError(b.agent.update({ projectId, agentId: db.id, image: "evil/miner:1" }), "FORBIDDEN", /not in the allowed images/);
      expect((await a.agent.get({ projectId, agentId: db.id })).image).toBe("armory-agent:10");
      await expectTrpcError(a.agent.update({ projectId, agentId: db.id, image: "Not An Image" }), "BAD_REQUEST", /Docker image reference/);
      await a.trust.delete({ projectId, grantId: grant.id });
    });

    it("only admins manage grants; viewers may check their own access", async () => {
      const b = await callerFor(armory.services, bob);
      await expectTrpcError(b.trust.list({ projectId }), "FORBIDDEN");
      await expectTrpcError(
        b.trust.create({ projectId, callerType: "user", callerId: bob.id, targetType: "project", target: projectId, permissions: { remove: true } }),
        "FORBIDDEN",
      );
      expect(await b.trust.check({ projectId, agentId: web.id, permission: "inspect" })).toMatchObject({ allowed: true, role: "viewer", grant: null });
      const remove = await b.trust.check({ projectId, agentId: web.id, permission: "remove" });
      expect(remove.allowed).toBe(false);
      expect(remove.reason).toMatch(/admin role or higher/);
      await expectTrpcError(b.trust.check({ projectId, agentId: web.id, permission: "inspect", caller: { type: "role", id: "owner" } }), "FORBIDDEN");
    });
  });

  describe("members", () => {
    it("adds by email, changes roles, keeps the last owner, and limits admins", async () => {
      const a = await callerFor(armory.services, alice);
      await expectTrpcError(a.project.members.add({ projectId, email: "nobody@example.test", role: "viewer" }), "NOT_FOUND", /sign up first/);
      const added = await a.project.members.add({ projectId, email: carol.email, role: "admin" });
      expect(added).toMatchObject({ userId: carol.id, role: "admin" });
      await expectTrpcError(a.project.members.add({ projectId, email: carol.email, role: "viewer" }), "CONFLICT");
      expect((await a.project.members.list({ projectId })).map((m) => m.role).sort()).toEqual(["admin", "owner", "viewer"]);

      const c = await callerFor(armory.services, carol);
      await expectTrpcError(c.project.members.updateRole({ projectId, userId: bob.id, role: "owner" }), "FORBIDDEN", /Only an owner/);
      await expectTrpcError(c.project.members.remove({ projectId, userId: alice.id }), "FORBIDDEN", /Only an owner/);
      expect(await c.project.members.updateRole({ projectId, userId: bob.id, role: "operator" })).toMatchObject({ role: "operator" });

      await expectTrpcError(a.project.members.updateRole({ projectId, userId: alice.id, role: "admin" }), "PRECONDITION_FAILED", /last owner/);
      await expectTrpcError(a.project.members.remove({ projectId, userId: alice.id }), "PRECONDITION_FAILED", /last owner/);
      await a.project.members.updateRole({ projectId, userId: carol.id, role: "owner" });
      expect(await a.project.members.updateRole({ projectId, userId: alice.id, role: "admin" })).toMatchObject({ role: "admin" });
      await c.project.members.updateRole({ projectId, userId: alice.id, role: "owner" });
      await a.project.members.remove({ projectId, userId: carol.id });
      expect((await a.project.members.list({ projectId })).map((m) => m.userId)).not.toContain(carol.id);
      await a.project.members.updateRole({ projectId, userId: bob.id, role: "viewer" });
    });
  });

  describe("audit.list", () => {
    it("filters by caller, target, action, allowed and time, pages by cursor, admins only", async () => {
      const a = await callerFor(armory.services, alice);
      const probe = await probeAs(bob);
      const since = new Date(Date.now() - 1);
      for (let i = 0; i < 3; i++) await expectTrpcError(probe.stop({ projectId, agentId: db.id }), "FORBIDDEN");

      const denied = await a.audit.list({ projectId, caller: bob.email, target: "db-1", action: "stop", allowed: false, from: since });
      expect(denied.items).toHaveLength(3);
      expect(denied.items.every((e) => e.userId === bob.id && e.agentId === db.id && !e.allowed)).toBe(true);
      expect(denied.items[0]!.at.getTime()).toBeGreaterThanOrEqual(denied.items[2]!.at.getTime());

      const page1 = await a.audit.list({ projectId, limit: 2, caller: bob.email, from: since });
      expect(page1.items).toHaveLength(2);
      const page2 = await a.audit.list({ projectId, limit: 2, caller: bob.email, from: since, cursor: page1.nextCursor! });
      expect(page2.items).toHaveLength(1);
      expect(page2.nextCursor).toBeNull();
      expect(new Set([...page1.items, ...page2.items].map((e) => e.id)).size).toBe(3);

      // An action prefix: a project.* call made now is listed, and nothing outside project.* is.
      await a.project.update({ projectId, description: "audited by prefix" });
      const byPrefix = (await a.audit.list({ projectId, action: "project.", allowed: true })).items;
      expect(byPrefix.length).toBeGreaterThan(0);
      expect(byPrefix.map((e) => e.action)).toContain("project.update");
      expect(byPrefix.filter((e) => !e.action.startsWith("project.")).map((e) => e.action)).toEqual([]);
      expect(byPrefix.filter((e) => !e.allowed)).toEqual([]);
      expect((await a.audit.list({ projectId, to: new Date(0) })).items).toEqual([]);
      await expectTrpcError((await callerFor(armory.services, bob)).audit.list({ projectId }), "FORBIDDEN");
    });

    it("deletes entries older than the retention, and nothing when retention is 0", async () => {
      const prisma = armory.services.db.prisma;
      const entry = { action: "retention.probe", type: "mutation", allowed: true, reason: "test", outcome: "ok", requestId: "retention", projectId };
      const old = await prisma.auditEvent.create({ data: { ...entry, at: new Date(Date.now() - 91 * 86_400_000) } });
      const recent = await prisma.auditEvent.create({ data: { ...entry, at: new Date(Date.now() - 89 * 86_400_000) } });
      expect(await pruneAuditEvents(prisma, 0)).toBe(0);
      expect(await prisma.auditEvent.count({ where: { id: { in: [old.id, recent.id] } } })).toBe(2);
      expect(await pruneAuditEvents(prisma, 90)).toBeGreaterThanOrEqual(1);
      const left = await prisma.auditEvent.findMany({ where: { id: { in: [old.id, recent.id] } }, select: { id: true } });
      expect(left.map((e) => e.id)).toEqual([recent.id]);
    });
  });
});
