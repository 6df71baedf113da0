// Templates: the sync of templates/*.yaml at start, and template.* through createCaller (real
// context, middlewares, database) on both databases.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "@/server/api/root";
import { resolveTemplateImage, syncTemplates } from "@/server/domain/templates";
import { DB_KINDS } from "../support/databases";
import { httpClient } from "../support/http-server";
import { expectTrpcError } from "../support/trpc-errors";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";

const REPO_TEMPLATES = path.join(process.cwd(), "templates");

/** A log that remembers what it was told. */
function memoryLog() {
  const entries: { level: "info" | "warn"; obj: object; msg: string }[] = [];
  return {
    entries,
    warnings: () => entries.filter((e) => e.level === "warn").map((e) => e.msg),
    info(obj: object, msg: string) {
      entries.push({ level: "info", obj, msg });
    },
    warn(obj: object, msg: string) {
      entries.push({ level: "warn", obj, msg });
    },
  };
}

function templateYaml(name: string, extra: { memoryMb?: number | string; body?: string } = {}): string {
  return [
    `name: ${name}`,
    `displayName: Temp ${name}`,
    "model: claude-sonnet-4-5",
    "resources:",
    `  memoryMb: ${extra.memoryMb ?? 512}`,
    "  cpus: 1",
    "  pidsLimit: 128",
    extra.body ?? "",
  ].join("\n");
}

function tempTemplatesDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "armory-templates-"));
}

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("resolveTemplateImage", () => {
  it("resolves default to the agent image tag and keeps anything else", () => {
    expect(resolveTemplateImage("default", "armory-agent:0.1.0")).toBe("armory-agent:0.1.0");
    expect(resolveTemplateImage("ghcr.io/acme/agent:2", "armory-agent:0.1.0")).toBe("ghcr.io/acme/agent:2");
  });
});

describe.each(DB_KINDS)("templates on %s", (kind) => {
  let armory: TestArmory;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  const tempDirs: string[] = [];
  const prisma = () => armory.services.db.prisma;

  function tempDir() {
    const dir = tempTemplatesDir();
    tempDirs.push(dir);
    return dir;
  }

  beforeAll(async () => {
    armory = await startTestArmory(kind);
    [alice, bob, carol] = await Promise.all([
      signUp(armory.services, { name: "Alice" }),
      signUp(armory.services, { name: "Bob" }),
      signUp(armory.services, { name: "Carol" }),
    ]);
    // The built-ins, whether or not start-up synced them already.
    await syncTemplates(prisma(), { dir: REPO_TEMPLATES, log: memoryLog() });
    // Providers are instance configuration (provider.* is tested in providers.test.ts).
    await prisma().provider.createMany({
      data: [
        { name: "llm-example", baseUrl: "https://llm.example.com", keySecret: "LLM_KEY" },
        { name: "opus-only", baseUrl: "https://opus.example.com", allowedModels: ["claude-opus-4-1"] },
      ],
    });
  });
  afterAll(async () => {
    await armory?.close();
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function projectWithRoles() {
    const owner = await callerFor(armory.services, alice);
    const project = await owner.project.create({ name: `Templates ${crypto.randomUUID().slice(0, 8)}` });
    await prisma().projectMember.createMany({
      data: [
        { projectId: project.id, userId: bob.id, role: "viewer" },
        { projectId: project.id, userId: carol.id, role: "admin" },
      ],
    });
    return {
      project,
      owner,
      viewer: await callerFor(armory.services, bob),
      admin: await callerFor(armory.services, carol),
    };
  }

  async function builtIn(name: string) {
    const row = await prisma().template.findFirst({ where: { projectId: null, name } });
    if (!row) throw new Error(`built-in template ${name} is missing`);
    return row;
  }

  describe("sync of templates/*.yaml", () => {
    it("has the two built-in templates from the repository, stored with the file's hash", async () => {
      for (const name of ["claude-coder", "reviewer"]) {
        const row = await builtIn(name);
        expect(row).toMatchObject({ projectId: null, source: "file", sourceFile: `templates/${name}.yaml`, image: "default" });
        expect(row.sourceHash).toBe(sha256(path.join(REPO_TEMPLATES, `${name}.yaml`)));
        expect(row.instructions.length).toBeGreaterThan(100);
        expect(row.personality.length).toBeGreaterThan(50);
      }
      const coder = await builtIn("claude-coder");
      expect(coder).toMatchObject({ model: "claude-sonnet-4-5", memoryMb: 2048, cpus: 2, pidsLimit: 512, permissionMode: "acceptEdits" });
      expect(coder.allowedTools).toContain("Bash");
      const reviewer = await builtIn("reviewer");
      expect(["plan", "default"]).toContain(reviewer.permissionMode);
      expect(reviewer.allowedTools).toContain("Bash(git diff:*)");
      for (const tool of ["Write", "Edit", "MultiEdit", "Bash"]) expect(reviewer.allowedTools).not.toContain(tool);
      expect(await prisma().template.count({ where: { projectId: null, name: { in: ["claude-coder", "reviewer"] } } })).toBe(2);
    });

    it("leaves unchanged files alone on a re-sync", async () => {
      const before = await prisma().template.findMany({ where: { projectId: null }, orderBy: { name: "asc" } });
      const log = memoryLog();
      const result = await syncTemplates(prisma(), { dir: REPO_TEMPLATES, log });
      expect(result).toEqual({ created: [], updated: [], unchanged: ["claude-coder", "reviewer"], skipped: [] });
      const after = await prisma().template.findMany({ where: { projectId: null }, orderBy: { name: "asc" } });
      expect(after.map((t) => [t.id, t.updatedAt.getTime()])).toEqual(before.map((t) => [t.id, t.updatedAt.getTime()]));
      expect(log.entries.find((e) => e.msg === "built-in templates synced")).toBeTruthy();
    });

    it("creates, updates on a changed file, and keeps a template whose file was removed", async () => {
      const dir = tempDir();
      const file = path.join(dir, "alpha.yaml");
      fs.writeFileSync(file, templateYaml("tmp-alpha"));
      const first = await syncTemplates(prisma(), { dir, log: memoryLog() });
      expect(first.created).toEqual(["tmp-alpha"]);
      const created = await builtIn("tmp-alpha");
      expect(created).toMatchObject({ memoryMb: 512, displayName: "Temp tmp-alpha", sourceHash: sha256(file), source: "file" });

      const again = await syncTemplates(prisma(), { dir, log: memoryLog() });
      expect(again).toMatchObject({ created: [], updated: [], unchanged: ["tmp-alpha"] });

      fs.writeFileSync(file, templateYaml("tmp-alpha", { memoryMb: 4096, body: "env:\n  DEBUG: 1\n" }));
      const changed = await syncTemplates(prisma(), { dir, log: memoryLog() });
      expect(changed).toMatchObject({ created: [], updated: ["tmp-alpha"], unchanged: [] });
      const updated = await builtIn("tmp-alpha");
      expect(updated.id).toBe(created.id);
      expect(updated).toMatchObject({ memoryMb: 4096, env: { DEBUG: "1" }, sourceHash: sha256(file) });
      expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
      expect(updated.sourceHash).not.toBe(created.sourceHash);

      fs.rmSync(file);
      const log = memoryLog();
      const removed = await syncTemplates(prisma(), { dir, log });
      expect(removed).toEqual({ created: [], updated: [], unchanged: [], skipped: [] });
      expect(await builtIn("tmp-alpha")).toMatchObject({ id: created.id, memoryMb: 4096 });
      expect(log.warnings().join("\n")).toMatch(/tmp-alpha .*kept/);
    });

    it("skips an invalid file with a warning naming the file and the field, and still syncs the others", async () => {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, "a-good.yaml"), templateYaml("tmp-good"));
      fs.writeFileSync(path.join(dir, "b-small.yaml"), templateYaml("tmp-small", { memoryMb: 10 }));
      fs.writeFileSync(path.join(dir, "c-broken.yaml"), "name: tmp-broken\n  model: [unclosed\n");
      fs.writeFileSync(path.join(dir, "d-typo.yml"), templateYaml("tmp-typo", { body: "permisionMode: plan\nenv:\n  9LIVES: x\n" }));
      fs.writeFileSync(path.join(dir, "e-duplicate.yaml"), templateYaml("tmp-good", { memoryMb: 1024 }));
      fs.writeFileSync(path.join(dir, "README.md"), "# not a template\n");

      const log = memoryLog();
      const result = await syncTemplates(prisma(), { dir, log });
      expect(result.created).toEqual(["tmp-good"]);
      expect(result.skipped).toEqual(
        ["b-small.yaml", "c-broken.yaml", "d-typo.yml", "e-duplicate.yaml"].map((f) => path.join(dir, f)),
      );
      const warnings = log.warnings().join("\n");
      expect(warnings).toContain(`${path.join(dir, "b-small.yaml")}: resources.memoryMb: memoryMb must be at least 128 MB`);
      expect(warnings).toMatch(/c-broken\.yaml: not valid YAML \(line \d+, column \d+\)/);
      expect(warnings).toMatch(/d-typo\.yml: .*env\.9LIVES: 9LIVES is not a valid environment variable name.*unknown field permisionMode/);
      expect(warnings).toMatch(/e-duplicate\.yaml: name: the template tmp-good is already defined in .*a-good\.yaml/);
      for (const name of ["tmp-small", "tmp-broken", "tmp-typo"]) {
        expect(await prisma().template.count({ where: { name } })).toBe(0);
      }

      // A file that turns invalid keeps its last valid version in the database.
      fs.rmSync(path.join(dir, "e-duplicate.yaml"));
      const good = await builtIn("tmp-good");
      expect(good.memoryMb).toBe(512);
      fs.writeFileSync(path.join(dir, "a-good.yaml"), templateYaml("tmp-good", { memoryMb: "lots" }));
      const log2 = memoryLog();
      const result2 = await syncTemplates(prisma(), { dir, log: log2 });
      expect(result2.skipped).toContain(path.join(dir, "a-good.yaml"));
      expect(log2.warnings().join("\n")).toMatch(/a-good\.yaml: resources\.memoryMb: memoryMb must be a number of megabytes/);
      expect(log2.warnings().join("\n")).toMatch(/tmp-good keeps its last valid version/);
      expect(await builtIn("tmp-good")).toMatchObject({ id: good.id, memoryMb: 512, updatedAt: good.updatedAt });
    });

    it("names a registered provider by name; a file naming an unknown provider is skipped with a warning", async () => {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, "a.yaml"), templateYaml("tmp-provided", { body: "provider: llm-example\negressAllowlist: [api.github.com, '*.npmjs.org']\n" }));
      fs.writeFileSync(path.join(dir, "b.yaml"), templateYaml("tmp-unregistered", { body: "provider: nobody-registered-this\n" }));
      fs.writeFileSync(path.join(dir, "c.yaml"), templateYaml("tmp-old-style", { body: "provider:\n  baseUrl: http://169.254.169.254\n  keySecret: K\n" }));
      fs.writeFileSync(path.join(dir, "d.yaml"), templateYaml("tmp-wrong-model", { body: "provider: opus-only\n" }));
      fs.writeFileSync(path.join(dir, "e.yaml"), templateYaml("tmp-egress-ip", { body: "egressAllowlist: [10.0.0.1]\n" }));
      const log = memoryLog();
      const result = await syncTemplates(prisma(), { dir, log });
      expect(result.created).toEqual(["tmp-provided"]);
      expect(result.skipped.sort()).toEqual(["b.yaml", "c.yaml", "d.yaml", "e.yaml"].map((f) => path.join(dir, f)));
      const provided = await prisma().template.findFirstOrThrow({ where: { name: "tmp-provided" }, include: { provider: true } });
      expect(provided.provider?.name).toBe("llm-example");
      expect(provided.egressAllowlist).toEqual(["api.github.com", "*.npmjs.org"]);
      const warnings = log.warnings().join("\n");
      expect(warnings).toContain(
        `Skipped template file ${path.join(dir, "b.yaml")}: provider: Provider nobody-registered-this is not registered; an instance admin registers providers under Admin → Providers`,
      );
      expect(warnings).toMatch(/c\.yaml: provider: provider is now the name of a registered provider/);
      expect(warnings).toMatch(/d\.yaml: provider: Model claude-sonnet-4-5 is not allowed with provider opus-only/);
      expect(warnings).toMatch(/e\.yaml: egressAllowlist\[0\]: 10\.0\.0\.1 is an IP address/);
      for (const name of ["tmp-unregistered", "tmp-old-style", "tmp-wrong-model", "tmp-egress-ip"]) {
        expect(await prisma().template.count({ where: { name } })).toBe(0);
      }

      // Once the admin registers it, the next sync (the next start) picks the file up.
      await prisma().provider.create({ data: { name: "nobody-registered-this", baseUrl: "https://late.example.com" } });
      const later = await syncTemplates(prisma(), { dir, log: memoryLog() });
      expect(later.created).toEqual(["tmp-unregistered"]);
      expect(later.unchanged).toEqual(["tmp-provided"]);
    });

    it("starts without a templates directory (or an unreadable one), with a warning", async () => {
      const log = memoryLog();
      const result = await syncTemplates(prisma(), { dir: path.join(tempDir(), "missing"), log });
      expect(result).toMatchObject({ created: [], updated: [], skipped: [] });
      expect(log.warnings().join("\n")).toMatch(/does not exist/);

      const notADir = memoryLog();
      const before = await prisma().template.count({ where: { projectId: null } });
      const result2 = await syncTemplates(prisma(), { dir: path.join(REPO_TEMPLATES, "README.md"), log: notADir });
      expect(result2).toEqual({ created: [], updated: [], unchanged: [], skipped: [] });
      expect(notADir.warnings().join("\n")).toMatch(/cannot be read/);
      expect(await prisma().template.count({ where: { projectId: null } })).toBe(before);
    });
  });

  describe("template.*", () => {
    it("refuses anonymous callers with UNAUTHORIZED", async () => {
      const anon = await callerFor(armory.services, null);
      const projectId = crypto.randomUUID();
      const templateId = crypto.randomUUID();
      await expectTrpcError(anon.template.list({ projectId }), "UNAUTHORIZED", /Sign in/);
      await expectTrpcError(anon.template.get({ projectId, templateId }), "UNAUTHORIZED");
      await expectTrpcError(
        anon.template.create({ projectId, name: "x", model: "m", memoryMb: 512, cpus: 1, pidsLimit: 64 }),
        "UNAUTHORIZED",
      );
      await expectTrpcError(anon.template.update({ projectId, templateId, displayName: "y" }), "UNAUTHORIZED");
    });

    it("lists the built-ins first, then the project's own templates, and not another project's", async () => {
      const { project, owner } = await projectWithRoles();
      const other = await owner.project.create({ name: "Other project" });
      await owner.template.create({ projectId: project.id, name: "zeta", model: "m1", memoryMb: 512, cpus: 1, pidsLimit: 64 });
      await owner.template.create({ projectId: project.id, name: "alpha", model: "m1", memoryMb: 512, cpus: 1, pidsLimit: 64 });
      await owner.template.create({ projectId: other.id, name: "elsewhere", model: "m1", memoryMb: 512, cpus: 1, pidsLimit: 64 });

      const list = await owner.template.list({ projectId: project.id });
      const builtIns = list.filter((t) => t.builtIn);
      const own = list.filter((t) => !t.builtIn);
      expect(builtIns.map((t) => t.name)).toEqual(expect.arrayContaining(["claude-coder", "reviewer"]));
      expect(builtIns.every((t) => t.projectId === null)).toBe(true);
      expect(own.map((t) => t.name)).toEqual(["alpha", "zeta"]);
      expect(own.every((t) => t.projectId === project.id)).toBe(true);
      // Built-ins first, each group by name.
      expect(list.slice(0, builtIns.length).every((t) => t.builtIn)).toBe(true);
      expect(builtIns.map((t) => t.name)).toEqual([...builtIns.map((t) => t.name)].sort());
      expect(list.map((t) => t.name)).not.toContain("elsewhere");

      const coder = list.find((t) => t.name === "claude-coder")!;
      expect(coder).toMatchObject({ builtIn: true, source: "file", image: "default", sourceFile: "templates/claude-coder.yaml" });
      expect(coder.env).toMatchObject({ DISABLE_TELEMETRY: "1" });
      expect(coder.volumes).toEqual([]);
      expect(coder.createdAt).toBeInstanceOf(Date);
    });

    it("creates a template with defaults, gets it, and updates it", async () => {
      const { project, admin } = await projectWithRoles();
      const created = await admin.template.create({
        projectId: project.id,
        name: "  data-pipeline  ",
        model: "claude-opus-4-1",
        memoryMb: 4096,
        cpus: 1.5,
        pidsLimit: 1024,
        env: { PIPELINE_STAGE: "dev" },
        allowedTools: ["Read", "Bash(npm test:*)"],
        volumes: [{ name: "cache", mountPath: "/cache" }],
        provider: "llm-example",
        egressAllowlist: ["api.github.com", "*.NPMJS.org "],
        instructions: "# Pipeline\nRun the pipeline.",
      });
      expect(created).toMatchObject({
        projectId: project.id,
        builtIn: false,
        name: "data-pipeline",
        displayName: "data-pipeline",
        description: "",
        image: "default",
        model: "claude-opus-4-1",
        memoryMb: 4096,
        cpus: 1.5,
        pidsLimit: 1024,
        permissionMode: "acceptEdits",
        env: { PIPELINE_STAGE: "dev" },
        allowedTools: ["Read", "Bash(npm test:*)"],
        volumes: [{ name: "cache", mountPath: "/cache" }],
        provider: "llm-example",
        egressAllowlist: ["api.github.com", "*.npmjs.org"],
        personality: "",
        source: "api",
        sourceFile: null,
        sourceHash: null,
      });
      expect(await admin.template.get({ projectId: project.id, templateId: created.id })).toEqual(created);

      const updated = await admin.template.update({
        projectId: project.id,
        templateId: created.id,
        name: "pipeline",
        displayName: "Data pipeline",
        permissionMode: "plan",
        provider: null,
        egressAllowlist: [],
        env: {},
      });
      expect(updated).toMatchObject({
        id: created.id,
        name: "pipeline",
        displayName: "Data pipeline",
        permissionMode: "plan",
        provider: null,
        egressAllowlist: [],
        env: {},
        // Untouched fields stay.
        memoryMb: 4096,
        allowedTools: ["Read", "Bash(npm test:*)"],
        instructions: "# Pipeline\nRun the pipeline.",
      });
      expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    });

    it("keeps Swarm placement constraints (canonical spelling), changes them, and refuses a malformed one naming it", async () => {
      const { project, admin } = await projectWithRoles();
      const created = await admin.template.create({
        projectId: project.id,
        name: "on-ssd",
        model: "claude-sonnet-4-5",
        memoryMb: 512,
        cpus: 1,
        pidsLimit: 128,
        placement: { constraints: ["node.labels.disk == ssd", "node.role!=manager"] },
      });
      expect(created.placement).toEqual({ constraints: ["node.labels.disk==ssd", "node.role!=manager"] });
      expect((await admin.template.get({ projectId: project.id, templateId: created.id })).placement).toEqual(created.placement);
      const copy = await admin.template.create({ projectId: project.id, copyFrom: created.id, name: "on-ssd-too" });
      expect(copy.placement).toEqual(created.placement);
      const cleared = await admin.template.update({ projectId: project.id, templateId: created.id, placement: { constraints: [] } });
      expect(cleared.placement).toEqual({ constraints: [] });
      await expectTrpcError(
        admin.template.update({ projectId: project.id, templateId: created.id, placement: { constraints: ["node.role!=manager", "disk=ssd"] } }),
        "BAD_REQUEST",
        /placement\.constraints\[1\]|"disk=ssd" is not a Swarm placement constraint/,
      );
      expect((await admin.template.get({ projectId: project.id, templateId: created.id })).placement).toEqual({ constraints: [] });
    });

    it("copies a built-in or a project template into the project, applying the given fields", async () => {
      const { project, owner } = await projectWithRoles();
      const reviewer = await builtIn("reviewer");
      const copy = await owner.template.create({ projectId: project.id, copyFrom: reviewer.id, name: "reviewer", memoryMb: 2048 });
      expect(copy).toMatchObject({
        builtIn: false,
        projectId: project.id,
        name: "reviewer",
        displayName: reviewer.displayName,
        instructions: reviewer.instructions,
        personality: reviewer.personality,
        permissionMode: reviewer.permissionMode,
        allowedTools: reviewer.allowedTools,
        model: reviewer.model,
        cpus: reviewer.cpus,
        memoryMb: 2048,
        source: "api",
        sourceFile: null,
      });
      expect(copy.id).not.toBe(reviewer.id);
      // The built-in is untouched.
      expect(await builtIn("reviewer")).toMatchObject({ memoryMb: reviewer.memoryMb, updatedAt: reviewer.updatedAt });

      const copyOfCopy = await owner.template.create({
        projectId: project.id,
        copyFrom: copy.id,
        name: "strict-reviewer",
        displayName: "Strict reviewer",
        permissionMode: "plan",
      });
      expect(copyOfCopy).toMatchObject({ name: "strict-reviewer", displayName: "Strict reviewer", permissionMode: "plan", memoryMb: 2048 });
    });

    it("lets viewers read but not write, and refuses non-members", async () => {
      const { project, owner, viewer } = await projectWithRoles();
      const mine = await owner.template.create({ projectId: project.id, name: "mine", model: "m", memoryMb: 512, cpus: 1, pidsLimit: 64 });
      expect((await viewer.template.list({ projectId: project.id })).map((t) => t.id)).toContain(mine.id);
      expect((await viewer.template.get({ projectId: project.id, templateId: mine.id })).name).toBe("mine");
      await expectTrpcError(
        viewer.template.create({ projectId: project.id, name: "nope", model: "m", memoryMb: 512, cpus: 1, pidsLimit: 64 }),
        "FORBIDDEN",
        /admin role or higher/,
      );
      await expectTrpcError(
        viewer.template.create({ projectId: project.id, copyFrom: mine.id, name: "nope" }),
        "FORBIDDEN",
      );
      await expectTrpcError(viewer.template.update({ projectId: project.id, templateId: mine.id, displayName: "x" }), "FORBIDDEN");

      const stranger = await callerFor(armory.services, await signUp(armory.services, { name: "Stranger" }));
      await expectTrpcError(stranger.template.list({ projectId: project.id }), "FORBIDDEN", /not a member/);
      await expectTrpcError(stranger.template.get({ projectId: project.id, templateId: mine.id }), "FORBIDDEN");
      expect((await owner.template.get({ projectId: project.id, templateId: mine.id })).displayName).toBe("mine");
    });

    it("keeps built-in templates read-only", async () => {
      const { project, owner } = await projectWithRoles();
      const coder = await builtIn("claude-coder");
      expect((await owner.template.get({ projectId: project.id, templateId: coder.id })).builtIn).toBe(true);
      await expectTrpcError(
        owner.template.update({ projectId: project.id, templateId: coder.id, memoryMb: 4096 }),
        "FORBIDDEN",
        /^Built-in templates come from templates\/\*\.yaml\. Copy it into the project to change it\.$/,
      );
      expect(await builtIn("claude-coder")).toMatchObject({ memoryMb: coder.memoryMb, updatedAt: coder.updatedAt });
    });

    it("refuses a name that is taken in the project with CONFLICT", async () => {
      const { project, owner } = await projectWithRoles();
      const base = { projectId: project.id, model: "m", memoryMb: 512, cpus: 1, pidsLimit: 64 };
      await owner.template.create({ ...base, name: "taken" });
      const other = await owner.template.create({ ...base, name: "other" });
      await expectTrpcError(
        owner.template.create({ ...base, name: "taken" }),
        "CONFLICT",
        /^A template named taken already exists in this project$/,
      );
      await expectTrpcError(
        owner.template.create({ projectId: project.id, copyFrom: other.id, name: "taken" }),
        "CONFLICT",
        /A template named taken already exists/,
      );
      await expectTrpcError(
        owner.template.update({ projectId: project.id, templateId: other.id, name: "taken" }),
        "CONFLICT",
        /A template named taken already exists in this project/,
      );
      // Renaming to its own name is not a clash; the same name in another project is fine.
      expect((await owner.template.update({ projectId: project.id, templateId: other.id, name: "other" })).name).toBe("other");
      const elsewhere = await owner.project.create({ name: "Elsewhere" });
      expect((await owner.template.create({ ...base, projectId: elsewhere.id, name: "taken" })).name).toBe("taken");
    });

    it("rejects bad fields and limits out of range with readable BAD_REQUEST messages", async () => {
      const { project, owner } = await projectWithRoles();
      const base = { projectId: project.id, name: "limits", model: "m", memoryMb: 512, cpus: 1, pidsLimit: 64 };
      const bad = (fields: Record<string, unknown>, message: RegExp) =>
        expectTrpcError(owner.template.create({ ...base, ...fields } as typeof base), "BAD_REQUEST", message);

      // (Through createCaller the message carries the zod issues; over HTTP it reads
      // "memoryMb: memoryMb must be at least 128 MB", see the HTTP test below.)
      await bad({ memoryMb: 10 }, /memoryMb must be at least 128 MB/);
      await bad({ memoryMb: 1_000_000 }, /memoryMb must be at most 65536 MB/);
      await bad({ cpus: 0 }, /cpus must be at least 0\.1/);
      await bad({ pidsLimit: 5 }, /pidsLimit must be at least 32/);
      await bad({ name: "Not DNS safe" }, /Template name must be lower-case letters, digits and hyphens/);
      await bad({ name: "" }, /Template name is required/);
      await bad({ name: "x".repeat(41) }, /Template name must be at most 40 characters/);
      await bad({ permissionMode: "yolo" }, /permissionMode must be one of default, acceptEdits, plan, bypassPermissions/);
      await bad({ image: "Not An Image" }, /image must be a Docker image reference/);
      // A template names a registered provider; base URLs are not template input.
      await bad({ provider: "not-registered" }, /^Provider not-registered is not registered; an instance admin registers providers under Admin → Providers$/);
      await bad({ provider: "opus-only" }, /^Model m is not allowed with provider opus-only \(allowed: claude-opus-4-1\)$/);
      await bad({ provider: "https://evil.example.com" }, /provider must be the name of a registered provider/);
      await bad({ egressAllowlist: ["10.0.0.1"] }, /10\.0\.0\.1 is an IP address/);
      await bad({ egressAllowlist: ["api.github.com:443"] }, /give no port/);
      await bad({ egressAllowlist: ["localhost"] }, /localhost is not a host name/);
      await bad({ egressAllowlist: ["https://api.github.com/"] }, /not a host name/);
      await bad({ egressAllowlist: [`${"a".repeat(250)}.com`] }, /at most 253 characters/);
      await bad({ egressAllowlist: Array.from({ length: 101 }, (_, i) => `h${i}.example.com`) }, /At most 100 egress hosts/);
      await bad({ egressAllowlist: ["a.example.com", "A.example.com"] }, /lists a\.example\.com twice/);
      await bad({ allowedTools: ["Read", "Read"] }, /allowedTools lists Read twice/);
      await bad({ volumes: [{ name: "ws", mountPath: "/workspace" }] }, /\/workspace is mounted by Armory/);
      await bad({ volumes: [{ name: "rel", mountPath: "data" }] }, /Mount path must be an absolute path/);
      await bad({ env: { "1BAD": "x" } }, /1BAD is not a valid environment variable name/);

      const { model: _m, memoryMb: _mem, ...withoutModelAndMemory } = base;
      await expectTrpcError(
        owner.template.create(withoutModelAndMemory as typeof base),
        "BAD_REQUEST",
        /model is required for a new template[\s\S]*memoryMb is required for a new template/,
      );

      const t = await owner.template.create(base);
      await expectTrpcError(owner.template.update({ projectId: project.id, templateId: t.id }), "BAD_REQUEST", /Nothing to update/);
      await expectTrpcError(
        owner.template.update({ projectId: project.id, templateId: t.id, cpus: 1000 }),
        "BAD_REQUEST",
        /cpus must be at most 64/,
      );
      expect(await owner.template.get({ projectId: project.id, templateId: t.id })).toMatchObject({ cpus: 1, memoryMb: 512 });
    });

    it("over HTTP: 400 with a readable sentence per field, 403 for built-ins, 404 for unknown ids", async () => {
      const http = await startHttp(() => armory.services);
      try {
        const { project } = await projectWithRoles();
        const trpc = httpClient(http.url, alice.cookie);
        const failure = (p: Promise<unknown>) => p.then(() => expect.fail("expected the call to fail"), (e: unknown) => e as TRPCClientError<AppRouter>);

        const tooSmall = await failure(
          trpc.template.create.mutate({ projectId: project.id, name: "tiny", model: "m", memoryMb: 10, cpus: 1, pidsLimit: 64 }),
        );
        expect(tooSmall).toBeInstanceOf(TRPCClientError);
        expect(tooSmall.message).toBe("memoryMb: memoryMb must be at least 128 MB");
        expect(tooSmall.data).toMatchObject({ httpStatus: 400, fieldErrors: { memoryMb: ["memoryMb must be at least 128 MB"] } });

        const coder = await builtIn("claude-coder");
        const readOnly = await failure(trpc.template.update.mutate({ projectId: project.id, templateId: coder.id, cpus: 4 }));
        expect(readOnly.data?.httpStatus).toBe(403);
        expect(readOnly.message).toBe("Built-in templates come from templates/*.yaml. Copy it into the project to change it.");

        const unregistered = await failure(
          trpc.template.create.mutate({ projectId: project.id, name: "rogue", model: "m", memoryMb: 512, cpus: 1, pidsLimit: 64, provider: "not-registered" }),
        );
        expect(unregistered.data?.httpStatus).toBe(400);
        expect(unregistered.message).toBe("Provider not-registered is not registered; an instance admin registers providers under Admin → Providers");

        const missing = await failure(trpc.template.get.query({ projectId: project.id, templateId: crypto.randomUUID() }));
        expect(missing.data?.httpStatus).toBe(404);

        const list = await trpc.template.list.query({ projectId: project.id });
        expect(list.find((t) => t.name === "claude-coder")?.createdAt).toBeInstanceOf(Date);
      } finally {
        await http.close();
      }
    });

    it("answers unknown templates and other projects' templates with NOT_FOUND", async () => {
      const { project, owner } = await projectWithRoles();
      const other = await owner.project.create({ name: "Not this one" });
      const foreign = await owner.template.create({
        projectId: other.id,
        name: "foreign",
        model: "m",
        memoryMb: 512,
        cpus: 1,
        pidsLimit: 64,
      });
      const unknown = crypto.randomUUID();
      await expectTrpcError(owner.template.get({ projectId: project.id, templateId: unknown }), "NOT_FOUND", /Template not found/);
      await expectTrpcError(owner.template.get({ projectId: project.id, templateId: foreign.id }), "NOT_FOUND", /Template not found/);
      await expectTrpcError(
        owner.template.update({ projectId: project.id, templateId: foreign.id, displayName: "mine now" }),
        "NOT_FOUND",
      );
      await expectTrpcError(
        owner.template.create({ projectId: project.id, copyFrom: foreign.id, name: "stolen" }),
        "NOT_FOUND",
        /Template not found/,
      );
      await expectTrpcError(owner.template.update({ projectId: project.id, templateId: unknown, displayName: "x" }), "NOT_FOUND");
      await expectTrpcError(owner.template.get({ projectId: project.id, templateId: "nope" }), "BAD_REQUEST", /templateId/);
      expect((await owner.template.get({ projectId: other.id, templateId: foreign.id })).displayName).toBe("foreign");
    });
  });
});
