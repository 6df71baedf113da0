// Managing an agent's files on a real Docker engine: a template's instructions reach a new
// agent's /workspace/CLAUDE.md once (never over an existing file, never again after a restart or
// a re-created container), and the file operations beyond read/write: create-only writes, mkdir,
// rename and move, chunked uploads (append) — each as the agent user, with its refusals as 4xx.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { sh } from "../support/agent-exec";
import { docker, removeProjectDockerObjects } from "../support/docker";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;

const MAX_BYTES = 1024 * 1024;
const INSTRUCTIONS = "# House rules\n\nAnswer briefly. Ünïcödé ✓\n";

describe("managing agent files on a real Docker engine", () => {
  let armory: TestArmory;
  let caller: Caller;
  let viewer: Caller;
  let projectId: string;
  let templateId: string;
  let image: string;

  const row = (agentId: string) => armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } });

  beforeAll(async () => {
    image = await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("pglite"), { ARMORY_FILES_MAX_BYTES: String(MAX_BYTES) });
    const owner = await signUp(armory.services, { name: "Files Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Files manage" })).id;
    const coder = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!;
    templateId = (await caller.template.create({ projectId, copyFrom: coder.id, name: "with-rules", instructions: INSTRUCTIONS })).id;
    const v = await signUp(armory.services, { name: "Viewer" });
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: v.id, role: "viewer" } });
    viewer = await callerFor(armory.services, v);
  }, 600_000);

  afterAll(async () => {
    await removeProjectDockerObjects(projectId);
    await armory?.close();
  });

  describe("template instructions", () => {
    it("a new agent from a template with instructions has them in /workspace/CLAUDE.md, owned by the agent user; a restart or a re-created container never writes it again", async () => {
      const agentId = (await caller.agent.create({ projectId, templateId, name: "rules", start: true })).id;
      const ref = { projectId, agentId };
      let containerId = (await row(agentId)).containerId!;
      expect(await sh(containerId, "stat -c '%u:%g %a' /workspace/CLAUDE.md")).toBe("1000:1000 644\n");
      expect(await sh(containerId, "cat /workspace/CLAUDE.md")).toBe(INSTRUCTIONS);
      // Files shows it (the same path the UI lists and opens).
      expect((await caller.files.list(ref)).entries.map((e) => e.name)).toContain("CLAUDE.md");
      expect((await caller.files.read({ ...ref, path: "/workspace/CLAUDE.md" })).content).toBe(INSTRUCTIONS);
      expect((await row(agentId)).pendingInstructions).toBeNull();

      // The user deletes it on purpose: a restart does not bring it back.
      await sh(containerId, "rm /workspace/CLAUDE.md");
      await caller.agent.restart(ref);
      expect(await sh(containerId, "ls -A /workspace")).not.toContain("CLAUDE.md");

      // A re-created container (a changed env needs one) on the same volume: still not written.
      await caller.agent.update({ ...ref, env: { RULES_TEST: "1" } });
      await caller.agent.restart(ref);
      const recreated = (await row(agentId)).containerId!;
      expect(recreated).not.toBe(containerId);
      containerId = recreated;
      expect((await docker.getContainer(containerId).inspect()).State.Running).toBe(true);
      expect(await sh(containerId, "ls -A /workspace")).not.toContain("CLAUDE.md");
    }, 180_000);

    it("never overwrites a CLAUDE.md that is already in the workspace volume at the first start", async () => {
      const agentId = (await caller.agent.create({ projectId, templateId, name: "mine-first", start: false })).id;
      const agent = await row(agentId);
      expect(agent.pendingInstructions).toBe(INSTRUCTIONS);
      // Put the user's own CLAUDE.md into the (new, not yet used) workspace volume, as uid 1000.
      const seeder = await docker.createContainer({
        Image: image,
        User: "1000:1000",
        Entrypoint: ["bash", "-c", "printf 'Mine.\\n' > /workspace/CLAUDE.md"],
        HostConfig: { Mounts: [{ Type: "volume", Source: agent.workspaceVolume, Target: "/workspace" }] },
      });
      await seeder.start();
      expect((await seeder.wait()).StatusCode).toBe(0);
      await seeder.remove();
      await caller.agent.start({ projectId, agentId });
      const containerId = (await row(agentId)).containerId!;
      expect(await sh(containerId, "cat /workspace/CLAUDE.md")).toBe("Mine.\n");
      expect((await row(agentId)).pendingInstructions).toBeNull();
    }, 180_000);

    it("a template without instructions leaves the workspace without CLAUDE.md", async () => {
      const coder = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!;
      const bare = (await caller.template.create({ projectId, copyFrom: coder.id, name: "bare", instructions: "" })).id;
      const agentId = (await caller.agent.create({ projectId, templateId: bare, name: "bare", start: true })).id;
      expect((await row(agentId)).pendingInstructions).toBeNull();
      expect(await sh((await row(agentId)).containerId!, "ls -A /workspace")).not.toContain("CLAUDE.md");
    }, 180_000);
  });

  describe("file operations", () => {
    let ref: { projectId: string; agentId: string };
    let containerId: string;

    beforeAll(async () => {
      const agentId = (await caller.agent.create({ projectId, templateId, name: "ops", start: true })).id;
      ref = { projectId, agentId };
      containerId = (await row(agentId)).containerId!;
    }, 180_000);

    it("creates a file only when nothing is there (ifAbsent): 409 otherwise, the file untouched", async () => {
      const w = await caller.files.write({ ...ref, path: "/workspace/new.txt", content: "first\n", ifAbsent: true });
      expect(w.created).toBe(true);
      await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/new.txt", content: "second\n", ifAbsent: true }), "CONFLICT", /already exists/);
      await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/CLAUDE.md", content: "x", ifAbsent: true }), "CONFLICT", /already exists/);
      expect(await sh(containerId, "cat /workspace/new.txt; ls -A /workspace | grep -c armory-write || true")).toBe("first\n0\n");
    });

    it("makes directories as the agent user; refuses an existing name (409), a missing parent (404), traversal (400), outside the roots (403) and a viewer (403)", async () => {
      expect(await caller.files.mkdir({ ...ref, path: "/workspace/docs" })).toEqual({ path: "/workspace/docs", created: true });
      expect(await sh(containerId, "stat -c '%u:%g %a %F' /workspace/docs")).toBe("1000:1000 755 directory\n");
      await expectTrpcError(caller.files.mkdir({ ...ref, path: "/workspace/docs" }), "CONFLICT", /already exists/);
      await expectTrpcError(caller.files.mkdir({ ...ref, path: "/workspace/new.txt" }), "CONFLICT", /already exists/);
      await expectTrpcError(caller.files.mkdir({ ...ref, path: "/workspace/a/b/c" }), "NOT_FOUND", /does not exist/);
      await caller.files.mkdir({ ...ref, path: "/workspace/a/b/c", createDirs: true });
      expect(await sh(containerId, "stat -c '%u %F' /workspace/a /workspace/a/b/c")).toBe("1000 directory\n1000 directory\n");
      await expectTrpcError(caller.files.mkdir({ ...ref, path: "/workspace/../etc/x" }), "BAD_REQUEST", /`\.\.` is not allowed/);
      await expectTrpcError(caller.files.mkdir({ ...ref, path: "/etc/x" }), "FORBIDDEN", /outside the agent's files/);
      await expectTrpcError(caller.files.mkdir({ ...ref, path: "/workspace/new.txt/sub" }), "BAD_REQUEST", /not a directory/);
      await expectTrpcError(viewer.files.mkdir({ ...ref, path: "/workspace/viewer" }), "FORBIDDEN");
      // A link to a directory outside the roots is not a way out.
      await sh(containerId, "ln -sfn /tmp /workspace/tmp-link");
      await expectTrpcError(caller.files.mkdir({ ...ref, path: "/workspace/tmp-link/x" }), "FORBIDDEN", /symbolic link/);
    });

    it("renames and moves files, directories and links (a link moves, it is not followed)", async () => {
      await caller.files.write({ ...ref, path: "/workspace/docs/a.md", content: "A\n" });
      expect(await caller.files.rename({ ...ref, path: "/workspace/docs/a.md", to: "/workspace/docs/b.md" })).toEqual({ from: "/workspace/docs/a.md", to: "/workspace/docs/b.md", type: "file" });
      expect(await sh(containerId, "ls /workspace/docs; cat /workspace/docs/b.md")).toBe("b.md\nA\n");
      // Move into another directory.
      await caller.files.rename({ ...ref, path: "/workspace/docs/b.md", to: "/workspace/a/b.md" });
      expect(await sh(containerId, "ls -A /workspace/docs; stat -c '%u %s' /workspace/a/b.md")).toBe("1000 2\n");
      // A directory with its contents.
      await caller.files.rename({ ...ref, path: "/workspace/a", to: "/workspace/docs/a" });
      expect(await sh(containerId, "find /workspace/docs | sort")).toBe("/workspace/docs\n/workspace/docs/a\n/workspace/docs/a/b\n/workspace/docs/a/b.md\n/workspace/docs/a/b/c\n");
      // A link is moved as a link.
      expect((await caller.files.rename({ ...ref, path: "/workspace/tmp-link", to: "/workspace/docs/tmp-link" })).type).toBe("symlink");
      expect(await sh(containerId, "readlink /workspace/docs/tmp-link; ls -A /tmp | grep -c tmp-link || true")).toBe("/tmp\n0\n");
    });

    it("refuses a rename over an existing name (409) unless overwrite, a missing source or directory (404), a move into itself, a root or traversal (400), outside the roots (403), a viewer (403)", async () => {
      await caller.files.write({ ...ref, path: "/workspace/x.txt", content: "x\n" });
      await caller.files.write({ ...ref, path: "/workspace/y.txt", content: "y\n" });
      await expectTrpcError(caller.files.rename({ ...ref, path: "/workspace/x.txt", to: "/workspace/y.txt" }), "CONFLICT", /y\.txt already exists/);
      expect(await sh(containerId, "cat /workspace/x.txt /workspace/y.txt")).toBe("x\ny\n");
      await caller.files.rename({ ...ref, path: "/workspace/x.txt", to: "/workspace/y.txt", overwrite: true });
      expect(await sh(containerId, "cat /workspace/y.txt; ls /workspace | grep -c '^x.txt$' || true")).toBe("x\n0\n");
      await expectTrpcError(caller.files.rename({ ...ref, path: "/workspace/nothing.txt", to: "/workspace/z.txt" }), "NOT_FOUND", /does not exist/);
      await expectTrpcError(caller.files.rename({ ...ref, path: "/workspace/y.txt", to: "/workspace/nowhere/z.txt" }), "NOT_FOUND", /nowhere does not exist/);
      await expectTrpcError(caller.files.rename({ ...ref, path: "/workspace/docs", to: "/workspace/docs/a/inner" }), "BAD_REQUEST", /into itself/);
      await expectTrpcError(caller.files.rename({ ...ref, path: "/workspace", to: "/workspace/w2" }), "BAD_REQUEST", /root directories/);
      await expectTrpcError(caller.files.rename({ ...ref, path: "/workspace/y.txt", to: "/workspace/../tmp/y.txt" }), "BAD_REQUEST", /`\.\.` is not allowed/);
      await expectTrpcError(caller.files.rename({ ...ref, path: "/workspace/y.txt", to: "/tmp/y.txt" }), "FORBIDDEN", /outside the agent's files/);
      await expectTrpcError(caller.files.rename({ ...ref, path: "/workspace/y.txt", to: "/workspace/docs/tmp-link/y.txt" }), "FORBIDDEN", /symbolic link/);
      await expectTrpcError(viewer.files.rename({ ...ref, path: "/workspace/y.txt", to: "/workspace/v.txt" }), "FORBIDDEN");
      expect(await sh(containerId, "cat /workspace/y.txt; ls -A /tmp | grep -c y.txt || true")).toBe("x\n0\n");
    });

    it("uploads in chunks (write, then append at the size so far) byte for byte; a wrong offset is 409, past the limit 413, a missing file 404", async () => {
      const bytes = randomBytes(700_000);
      const chunk = 256 * 1024;
      const path = "/workspace/upload.bin";
      await caller.files.write({ ...ref, path, content: bytes.subarray(0, chunk).toString("base64"), encoding: "base64", ifAbsent: true });
      for (let off = chunk; off < bytes.length; off += chunk) {
        const res = await caller.files.append({ ...ref, path, content: bytes.subarray(off, off + chunk).toString("base64"), offset: off });
        expect(res.size).toBe(Math.min(off + chunk, bytes.length));
      }
      const back = await caller.files.read({ ...ref, path });
      expect(back.encoding).toBe("base64");
      expect(Buffer.from(back.content, "base64").equals(bytes)).toBe(true);
      expect(await sh(containerId, `stat -c '%u %s' ${path}`)).toBe(`1000 ${bytes.length}\n`);
      // The same chunk again (a retry after a lost answer) is refused, not appended twice.
      await expectTrpcError(caller.files.append({ ...ref, path, content: bytes.subarray(0, 10).toString("base64"), offset: 10 }), "CONFLICT", /700,000 bytes now/);
      await expectTrpcError(caller.files.append({ ...ref, path, content: randomBytes(400_000).toString("base64"), offset: bytes.length }), "PAYLOAD_TOO_LARGE", /limit is 1,048,576 bytes/);
      await expectTrpcError(caller.files.append({ ...ref, path: "/workspace/none.bin", content: "AAAA", offset: 0 }), "NOT_FOUND");
      await expectTrpcError(caller.files.append({ ...ref, path, content: "not base64!", offset: 0 }), "BAD_REQUEST", /base64/);
      await expectTrpcError(caller.files.append({ ...ref, path: "/workspace/docs", content: "AAAA", offset: 0 }), "BAD_REQUEST", /not a file/);
      await expectTrpcError(viewer.files.append({ ...ref, path, content: "AAAA", offset: bytes.length }), "FORBIDDEN");
      expect(await sh(containerId, `stat -c '%s' ${path}`)).toBe(`${bytes.length}\n`);
      // The list tells the client the limit, so it can refuse a too-large upload before sending it.
      expect((await caller.files.list(ref)).maxBytes).toBe(MAX_BYTES);
    });
  });
});
