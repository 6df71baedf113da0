// Model providers are instance configuration: provider.* (admin-only mutations, validation, the
// built-in entry, 409 on delete in use, confirming migrated ones), templates that may name only a
// registered provider, and the gateway forwarding only where the admin said, over real HTTP to
// scripted upstreams: no unconfirmed providers, no loopback by another name, no redirects, no
// loops, bounded size and time. Plus the migration that turned free-form URLs into providers.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/server/db";
import { applyMigrations } from "@/server/db/migrate";
import { GATEWAY_PATH } from "@/server/gateway/gateway";
import { startDemoModelServer, type DemoModelServer } from "@/server/gateway/demo-model";
import { createTestDatabase, DB_KINDS } from "../support/databases";
import { expectTrpcError } from "../support/trpc-errors";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";

/** A scripted upstream: counts requests, remembers their headers, answers with `handler`. */
async function scripted(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on("end", () => handler(req, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function serve(armory: TestArmory) {
  const server = http.createServer((req, res) => {
    if (armory.services.gateway.handles(req.url)) void armory.services.gateway.handle(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}${GATEWAY_PATH}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const body = (text: string, stream = true, model = "claude-test") =>
  JSON.stringify({ model, stream, max_tokens: 100, messages: [{ role: "user", content: text }] });

const SSE_HEAD = { "content-type": "text/event-stream", "cache-control": "no-cache" };
const sseEvent = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

describe("model providers", () => {
  let armory: TestArmory;
  let gw: Awaited<ReturnType<typeof serve>>;
  let admin: TestUser;
  let member: TestUser;
  let projectId: string;
  let baseTemplateId: string;
  const prisma = () => armory.services.db.prisma;

  beforeAll(async () => {
    armory = await startTestArmory("pglite", {
      // No operator key: without a provider, agents would get the demo model.
      ARMORY_GATEWAY_URL: "http://gateway.invalid/api/gateway/anthropic",
      // Small bounds so the tests can cross them quickly.
      ARMORY_GATEWAY_MAX_RESPONSE_BYTES: String(64 * 1024),
      ARMORY_GATEWAY_MAX_REQUEST_BYTES: String(16 * 1024),
      ARMORY_GATEWAY_IDLE_TIMEOUT_SECONDS: "1",
      ARMORY_GATEWAY_UPSTREAM_TIMEOUT_SECONDS: "3",
    });
    gw = await serve(armory);
    admin = await signUp(armory.services, { name: "Admin" });
    await prisma().user.update({ where: { id: admin.id }, data: { isAdmin: true } });
    member = await signUp(armory.services, { name: "Member" });
    await prisma().user.update({ where: { id: member.id }, data: { isAdmin: false } });
    const memberCaller = await callerFor(armory.services, member);
    projectId = (await memberCaller.project.create({ name: "Providers" })).id;
    baseTemplateId = (await memberCaller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
  });
  afterAll(async () => {
    await gw?.close();
    await armory?.close();
  });

  /** A project template using `provider`, and an agent made from it; returns the agent's gateway call. */
  async function agentUsing(provider: string, model = "claude-test") {
    const owner = await callerFor(armory.services, member);
    const template = await owner.template.create({ projectId, copyFrom: baseTemplateId, name: `t-${crypto.randomUUID().slice(0, 8)}`, provider, model });
    const agent = await prisma().agent.create({
      data: { projectId, templateId: template.id, name: `a-${crypto.randomUUID().slice(0, 8)}`, image: "x", model, memoryMb: 256, cpus: 1, pidsLimit: 64, permissionMode: "acceptEdits", workspaceVolume: "w", sessionVolume: "s" },
    });
    const token = (await armory.services.gateway.agentEnv(agent.id)).ANTHROPIC_API_KEY!;
    return {
      agentId: agent.id,
      templateId: template.id,
      call: (payload = body("hello"), headers: Record<string, string> = {}) =>
        fetch(`${gw.url}/v1/messages?beta=true`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": token, ...headers }, body: payload }),
    };
  }

  async function register(name: string, baseUrl: string, extra: { allowedModels?: string[]; keySecret?: string } = {}) {
    return (await callerFor(armory.services, admin)).provider.create({ name, baseUrl, ...extra });
  }

  const errorOf = async (res: Response) => ((await res.json()) as { error: { type: string; message: string } }).error;

  describe("provider.*", () => {
    it("lets only the instance admin register, change, confirm and delete providers (403 for others, 401 anonymous)", async () => {
      const other = await callerFor(armory.services, member);
      const anonymous = await callerFor(armory.services, null);
      const created = await register("only-admin", "https://llm.example.com/");
      await expectTrpcError(other.provider.create({ name: "sneaky", baseUrl: "http://169.254.169.254" }), "FORBIDDEN", /instance admin/);
      await expectTrpcError(other.provider.update({ providerId: created.id, baseUrl: "http://127.0.0.1:1" }), "FORBIDDEN");
      await expectTrpcError(other.provider.confirm({ providerId: created.id }), "FORBIDDEN");
      await expectTrpcError(other.provider.delete({ providerId: created.id }), "FORBIDDEN");
      await expectTrpcError(anonymous.provider.create({ name: "anon", baseUrl: "https://x.example.com" }), "UNAUTHORIZED");
      await expectTrpcError(anonymous.provider.list(), "UNAUTHORIZED");
      expect(await prisma().provider.count({ where: { name: { in: ["sneaky", "anon"] } } })).toBe(0);
      expect((await prisma().provider.findUniqueOrThrow({ where: { id: created.id } })).baseUrl).toBe("https://llm.example.com");
      // The refusals are audited.
      const refused = await prisma().auditEvent.findMany({ where: { action: { startsWith: "provider." }, allowed: false, userId: member.id } });
      expect(refused.map((e) => e.action).sort()).toEqual(["provider.confirm", "provider.create", "provider.delete", "provider.update"]);
    });

    it("lists the operator's upstream as the read-only built-in entry, then registered ones; usage for the admin only", async () => {
      const used = await register("listed", "https://listed.example.com");
      const { templateId } = await agentUsing("listed");
      const asMember = await (await callerFor(armory.services, member)).provider.list();
      expect(asMember[0]).toMatchObject({ id: "armory", name: "armory", builtIn: true, demo: true, confirmed: true, baseUrl: armory.services.config.model.baseUrl, templates: null });
      const mine = asMember.find((p) => p.id === used.id)!;
      expect(mine).toMatchObject({ name: "listed", builtIn: false, confirmed: true, templateCount: 1, templates: null });
      const asAdmin = await (await callerFor(armory.services, admin)).provider.get({ providerId: used.id });
      expect(asAdmin.templates).toEqual([expect.objectContaining({ id: templateId, projectId, projectName: "Providers" })]);
      // The built-in entry cannot be changed through the API.
      await expectTrpcError((await callerFor(armory.services, admin)).provider.delete({ providerId: "armory" }), "BAD_REQUEST", /providerId must be a provider id/);
    });

    it("validates names, URLs, key secret names and allowed models with readable messages", async () => {
      const a = await callerFor(armory.services, admin);
      const bad = (input: Record<string, unknown>, message: RegExp) =>
        expectTrpcError(a.provider.create({ name: "valid-name", baseUrl: "https://ok.example.com", ...input } as never), "BAD_REQUEST", message);
      await bad({ name: "Not A Slug" }, /Provider name must be lower-case letters, digits and hyphens/);
      await bad({ name: "armory" }, /cannot be armory, default, demo/);
      await bad({ name: "x".repeat(64) }, /at most 63 characters/);
      await bad({ baseUrl: "ftp://files.example.com" }, /must be an http\(s\) URL/);
      await bad({ baseUrl: "not a url" }, /must be an http\(s\) URL/);
      await bad({ baseUrl: "https://user:pw@llm.example.com" }, /cannot carry credentials/);
      await bad({ baseUrl: "https://llm.example.com/#frag" }, /cannot have a fragment/);
      await bad({ baseUrl: "https://llm.example.com/?key=1" }, /cannot have a query/);
      await bad({ baseUrl: `https://llm.example.com/${"p".repeat(2100)}` }, /at most 2048 characters/);
      await bad({ keySecret: "sk-ant-actual-key" }, /Key secret must be the NAME of a project secret/);
      await bad({ allowedModels: ["a", "a"] }, /allowedModels lists a twice/);
      await bad({ allowedModels: Array.from({ length: 101 }, (_, i) => `m${i}`) }, /At most 100 allowed models/);
      await bad({ allowedModels: ["has space"] }, /model must be a model id without spaces/);
      await register("taken-name", "https://a.example.com");
      await expectTrpcError(a.provider.create({ name: "taken-name", baseUrl: "https://b.example.com" }), "CONFLICT", /already registered/);
      // Normalised as the gateway will connect: lower-case host, dotted IPv4, no trailing slash.
      expect((await register("normalised", "HTTP://0x7f000001:8080/Api/")).baseUrl).toBe("http://127.0.0.1:8080/Api");
    });

    it("refuses to delete a provider templates use (409 naming them), deletes an unused one", async () => {
      const a = await callerFor(armory.services, admin);
      const p = await register("in-use", "https://in-use.example.com");
      const { templateId } = await agentUsing("in-use");
      const tpl = await prisma().template.findUniqueOrThrow({ where: { id: templateId } });
      await expectTrpcError(a.provider.delete({ providerId: p.id }), "CONFLICT", new RegExp(`Provider in-use is used by 1 template: ${tpl.name} \\(project Providers\\)`));
      const unused = await register("unused", "https://unused.example.com");
      expect(await a.provider.delete({ providerId: unused.id })).toEqual({ id: unused.id, name: "unused", deleted: true });
      expect(await prisma().provider.count({ where: { id: unused.id } })).toBe(0);
    });

    it("keeps templates' models within a provider's allowed models", async () => {
      const a = await callerFor(armory.services, admin);
      const owner = await callerFor(armory.services, member);
      const p = await register("narrow", "https://narrow.example.com", { allowedModels: ["claude-opus-4-1", "claude-haiku-4-5"] });
      await expectTrpcError(
        owner.template.create({ projectId, copyFrom: baseTemplateId, name: "narrow-bad", provider: "narrow", model: "claude-sonnet-4-5" }),
        "BAD_REQUEST",
        /Model claude-sonnet-4-5 is not allowed with provider narrow \(allowed: claude-opus-4-1, claude-haiku-4-5\)/,
      );
      const t = await owner.template.create({ projectId, copyFrom: baseTemplateId, name: "narrow-ok", provider: "narrow", model: "claude-opus-4-1" });
      await expectTrpcError(owner.template.update({ projectId, templateId: t.id, model: "claude-sonnet-4-5" }), "BAD_REQUEST", /not allowed with provider narrow/);
      // Narrowing the list under a template's feet is refused, naming it.
      await expectTrpcError(a.provider.update({ providerId: p.id, allowedModels: ["claude-haiku-4-5"] }), "CONFLICT", /narrow-ok \(claude-opus-4-1, project Providers\)/);
      expect((await a.provider.update({ providerId: p.id, allowedModels: [] })).allowedModels).toEqual([]);
    });

    it("refuses a template naming an unregistered provider (400; over HTTP in templates.test.ts)", async () => {
      const owner = await callerFor(armory.services, member);
      await expectTrpcError(
        owner.template.create({ projectId, copyFrom: baseTemplateId, name: "rogue", provider: "not-registered" }),
        "BAD_REQUEST",
        /^Provider not-registered is not registered; an instance admin registers providers under Admin → Providers$/,
      );
      expect(await prisma().template.count({ where: { name: "rogue" } })).toBe(0);
    });
  });

  describe("the gateway forwards only where the admin said", () => {
    let upstream: DemoModelServer;
    beforeAll(async () => {
      upstream = await startDemoModelServer();
    });
    afterAll(async () => {
      await upstream?.close();
    });

    it("refuses an unconfirmed (migrated) provider until an admin confirms it; sends the hop header", async () => {
      const migrated = await prisma().provider.create({ data: { name: "migrated-0badc0de", baseUrl: upstream.url, confirmed: false } });
      const listed = (await (await callerFor(armory.services, member)).provider.list()).find((p) => p.id === migrated.id);
      expect(listed?.confirmed).toBe(false);
      const { call } = await agentUsing("migrated-0badc0de");
      const before = upstream.requests.length;
      const refused = await call(body("hi", false));
      expect(refused.status).toBe(403);
      expect((await errorOf(refused)).message).toMatch(/provider migrated-0badc0de, which was migrated .* awaits confirmation: an instance admin confirms it under Admin → Providers/);
      expect(upstream.requests.length).toBe(before);

      expect((await (await callerFor(armory.services, admin)).provider.confirm({ providerId: migrated.id })).confirmed).toBe(true);
      const ok = await call(body("hi", false));
      expect(ok.status).toBe(200);
      expect(upstream.requests.length).toBe(before + 1);
      expect(upstream.headers.at(-1)!["x-armory-gateway-hop"]).toBe("1");
    });

    it("refuses a loopback upstream the admin did not register as that exact address (and the server sees nothing)", async () => {
      const target = await scripted((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
      try {
        // Registered by name; "localhost" resolves to a loopback address: not the exact registration.
        await register("by-name", `http://localhost:${target.port}`);
        const { call } = await agentUsing("by-name");
        const res = await call(body("hi", false));
        expect(res.status).toBe(403);
        expect((await errorOf(res)).message).toMatch(
          new RegExp(`refused to forward to provider by-name: the model provider's host localhost resolves to (127\\.0\\.0\\.1|::1), a loopback address; .*registers that exact address`),
        );
        expect(target.seen).toHaveLength(0);
        expect(armory.logs.text).toContain("model gateway refused an upstream");

        // The same server registered as its exact address is the admin's decision.
        await register("by-address", target.url);
        const exact = await (await agentUsing("by-address")).call(body("hi", false));
        expect(exact.status).toBe(200);
        expect(target.seen).toHaveLength(1);
      } finally {
        await target.close();
      }
    });

    it("never follows a redirect: a 302 to an internal URL is a 502 and the internal server sees no request", async () => {
      const internal = await scripted((_req, res) => res.writeHead(200).end("internal secrets"));
      const redirector = await scripted((_req, res) => res.writeHead(302, { location: `${internal.url}/v1/messages` }).end());
      try {
        await register("redirector", redirector.url);
        const { call } = await agentUsing("redirector");
        const res = await call(body("hi", false));
        expect(res.status).toBe(502);
        const error = await errorOf(res);
        expect(error.message).toMatch(/provider redirector answered with a redirect \(302\); Armory's model gateway never follows redirects/);
        expect(error.message).not.toContain(String(internal.port));
        expect(redirector.seen).toHaveLength(1);
        expect(internal.seen).toHaveLength(0);
      } finally {
        await internal.close();
        await redirector.close();
      }
    });

    it("refuses a request that already carries the hop header (508), so a provider pointing back at a gateway cannot loop", async () => {
      const { call } = await agentUsing("armory");
      const direct = await call(body("hi", false), { "x-armory-gateway-hop": "1" });
      expect(direct.status).toBe(508);
      expect((await errorOf(direct)).message).toMatch(/already passed through an Armory model gateway/);

      // A provider registered (exactly) at the gateway itself: the forwarded request comes back with the hop header.
      await register("loop", `http://127.0.0.1:${gw.port}${GATEWAY_PATH}`);
      const looped = await (await agentUsing("loop")).call(body("hi", false));
      expect(looped.status).toBe(508);
      const handled = armory.logs.lines.filter((l) => l.includes("model gateway refused a looped request"));
      expect(handled).toHaveLength(2); // the direct one and the loop's second pass; no third
    });

    it("cuts a response bigger than ARMORY_GATEWAY_MAX_RESPONSE_BYTES (SSE gets an error event, JSON a broken body)", async () => {
      const closed: Promise<unknown>[] = [];
      const flood = await scripted((req, res) => {
        closed.push(once(res, "close"));
        const chunk = `${sseEvent("ping", { pad: "x".repeat(8 * 1024) })}`;
        if (req.url?.includes("json")) res.writeHead(200, { "content-type": "application/json" });
        else res.writeHead(200, SSE_HEAD);
        // 1 MiB in all, far past the 64 KiB limit; each write waits for the socket (or its end).
        let sent = 0;
        const more = () => {
          while (sent < 1024 * 1024 && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", more);
          }
          res.end();
        };
        more();
      });
      try {
        await register("flood", flood.url);
        await register("flood-json", `${flood.url}/json`);
        const res = await (await agentUsing("flood")).call();
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text.length).toBeLessThan(64 * 1024 + 1024);
        expect(text).toMatch(/event: error\ndata: .*cut the reply from provider flood: the response passed 65536 bytes \(ARMORY_GATEWAY_MAX_RESPONSE_BYTES\)/);
        await closed[0]; // the upstream connection was dropped, not drained
        expect(armory.logs.text).toContain("model upstream response cut");

        const json = await (await agentUsing("flood-json")).call(body("hi", false));
        expect(json.status).toBe(200);
        await expect(json.text()).rejects.toThrow();
      } finally {
        await flood.close();
      }
    });

    it("cuts an upstream that stalls past the idle timeout, before or after its headers, and one past the total timeout", async () => {
      const ended: Promise<unknown>[] = [];
      const staller = await scripted((req, res) => {
        ended.push(once(res, "close"));
        if (req.url?.includes("before")) return; // never answers
        res.writeHead(200, SSE_HEAD);
        res.write(sseEvent("message_start", { message: { id: "m", usage: { input_tokens: 1, output_tokens: 0 } } }));
        if (req.url?.includes("trickle")) {
          // A byte of keep-alive every 300 ms: never idle for 1 s, but past the 3 s total.
          const t = setInterval(() => res.write(": keep-alive\n\n"), 300);
          res.on("close", () => clearInterval(t));
        }
      });
      try {
        await register("stall-after", staller.url);
        await register("stall-before", `${staller.url}/before`);
        await register("trickle", `${staller.url}/trickle`);

        const started = performance.now();
        const after = await (await agentUsing("stall-after")).call();
        expect(after.status).toBe(200);
        const text = await after.text();
        expect(text).toContain("message_start");
        expect(text).toMatch(/event: error\ndata: .*cut the reply from provider stall-after: it sent nothing for 1 s/);
        await ended[0];
        expect(performance.now() - started).toBeLessThan(2900);

        const before = await (await agentUsing("stall-before")).call();
        expect(before.status).toBe(504);
        expect((await errorOf(before)).message).toMatch(/gave up on provider stall-before: it sent nothing for 1 s/);
        await ended[1];

        const trickle = await (await agentUsing("trickle")).call();
        expect(await trickle.text()).toMatch(/cut the reply from provider trickle: it took longer than 3 s/);
        await ended[2];
      } finally {
        await staller.close();
      }
    });

    it("refuses a request body over ARMORY_GATEWAY_MAX_REQUEST_BYTES with 413", async () => {
      const before = upstream.requests.length;
      await register("body-limit", upstream.url);
      const res = await (await agentUsing("body-limit")).call(body("x".repeat(20 * 1024), false));
      expect(res.status).toBe(413);
      expect(upstream.requests.length).toBe(before);
    });

    it("holds a request to the provider's allowed models", async () => {
      await register("models", upstream.url, { allowedModels: ["claude-test"] });
      const { call } = await agentUsing("models");
      const res = await call(body("hi", false, "claude-opus-4-1"));
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(/Provider models allows the models claude-test; this request asked for claude-opus-4-1/);
      expect((await call(body("hi", false, "claude-test"))).status).toBe(200);
    });
  });
});

describe.each(DB_KINDS)("the providers migration on %s", (kind) => {
  it("turns old templates' free-form base URLs into unconfirmed providers, one per (URL, key secret)", async () => {
    const target = await createTestDatabase(kind, { empty: true });
    const db = await openDatabase(target.options);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-migrations-"));
    try {
      const all = path.join(process.cwd(), "prisma/migrations");
      const names = fs.readdirSync(all).filter((n) => fs.statSync(path.join(all, n)).isDirectory()).sort();
      const upTo = names.indexOf("20261205160822_instance_providers_security");
      expect(upTo).toBeGreaterThan(0);
      for (const name of names.slice(0, upTo)) fs.cpSync(path.join(all, name), path.join(dir, name), { recursive: true });
      fs.copyFileSync(path.join(all, "migration_lock.toml"), path.join(dir, "migration_lock.toml"));
      await applyMigrations(db, { migrationsDir: dir });

      const user = "u1";
      await db.raw.query(`INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt") VALUES ($1, 'Old', 'old@example.test', false, now(), now())`, [user]);
      await db.raw.query(`INSERT INTO project (id, name, "createdById", "createdAt", "updatedAt") VALUES ('p1', 'Old project', $1, now(), now())`, [user]);
      const insert = (id: string, name: string, url: string | null, secret: string | null) =>
        db.raw.query(
          `INSERT INTO template (id, "projectId", name, "displayName", image, model, "memoryMb", cpus, "pidsLimit", "providerBaseUrl", "providerKeySecret", "createdAt", "updatedAt")
           VALUES ($1, 'p1', $2, $2, 'default', 'claude-x', 512, 1, 64, $3, $4, now(), now())`,
          [id, name, url, secret],
        );
      await insert("t1", "one", "http://169.254.169.254/latest/", "K");
      await insert("t2", "two", "http://169.254.169.254/latest/", "K");
      await insert("t3", "three", "https://llm.example.com", null);
      await insert("t4", "plain", null, null);

      await applyMigrations(db, { migrationsDir: all });
      const providers = await db.raw.query<{ id: string; name: string; baseUrl: string; keySecret: string | null; confirmed: boolean }>(
        `SELECT id, name, "baseUrl", "keySecret", confirmed FROM provider ORDER BY "baseUrl"`,
      );
      expect(providers).toEqual([
        { id: expect.any(String), name: expect.stringMatching(/^migrated-[0-9a-f]{8}$/), baseUrl: "http://169.254.169.254/latest", keySecret: "K", confirmed: false },
        { id: expect.any(String), name: expect.stringMatching(/^migrated-[0-9a-f]{8}$/), baseUrl: "https://llm.example.com", keySecret: null, confirmed: false },
      ]);
      const templates = await db.raw.query<{ id: string; providerId: string | null }>(`SELECT id, "providerId" FROM template ORDER BY id`);
      expect(templates).toEqual([
        { id: "t1", providerId: providers[0]!.id },
        { id: "t2", providerId: providers[0]!.id },
        { id: "t3", providerId: providers[1]!.id },
        { id: "t4", providerId: null },
      ]);
    } finally {
      await db.close();
      await target.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
