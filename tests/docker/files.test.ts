// Agent files on a real Docker engine: bytes in and out as the agent user, ownership, listing a
// 10,000-entry directory, the path rules (traversal, NUL, symlink escapes, size), and that no
// write runs as root: a symlink swapped in during a write never places a file outside the roots.
import { randomBytes } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { AgentFileSystem } from "@/server/files/agent-fs";
import { DomainError } from "@/server/domain/errors";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { sh } from "../support/agent-exec";
import { docker, removeProjectDockerObjects } from "../support/docker";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;

const MAX_BYTES = 2 * 1024 * 1024;

describe("agent files on a real Docker engine", () => {
  let armory: TestArmory;
  let caller: Caller;
  let viewer: Caller;
  let projectId: string;
  let agentId: string;
  let containerId: string;
  let ref: { projectId: string; agentId: string };

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("postgres"), { ARMORY_FILES_MAX_BYTES: String(MAX_BYTES) });
    const owner = await signUp(armory.services, { name: "Files Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Files" })).id;
    const templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    agentId = (await caller.agent.create({ projectId, templateId, name: "files", start: true })).id;
    ref = { projectId, agentId };
    containerId = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    const v = await signUp(armory.services, { name: "Viewer" });
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: v.id, role: "viewer" } });
    viewer = await callerFor(armory.services, v);
  }, 600_000);

  afterAll(async () => {
    await removeProjectDockerObjects(projectId);
    await armory?.close();
  });

  it("writes a text file and reads back the same bytes, owned by the agent user with the default mode", async () => {
    const text = "# Notes\nünïcödé ✓ — tabs\tand\r\nCRLF\n";
    const w = await caller.files.write({ ...ref, path: "/workspace/notes/today.md", content: text, createDirs: true });
    expect(w).toMatchObject({ path: "/workspace/notes/today.md", size: Buffer.byteLength(text), mode: 0o644, created: true });
    const r = await caller.files.read({ ...ref, path: "/workspace/notes/today.md" });
    expect(r.encoding).toBe("utf-8");
    expect(Buffer.from(r.content, "utf8").equals(Buffer.from(text, "utf8"))).toBe(true);
    expect(r.sha256).toBe(w.sha256);
    expect(r.modifiedAt.getTime()).toBe(w.modifiedAt.getTime());
    // Ownership and mode as the container sees them (the created directory too).
    expect(await sh(containerId, "stat -c '%u:%g %a' /workspace/notes/today.md /workspace/notes")).toBe("1000:1000 644\n1000:1000 755\n");
    // The agent can edit what Armory wrote.
    await sh(containerId, "echo more >> /workspace/notes/today.md");
    expect((await caller.files.read({ ...ref, path: "/workspace/notes/today.md" })).content).toBe(text + "more\n");
  });

  it("writes and reads binary content as base64, byte for byte, with the requested mode", async () => {
    const bytes = Buffer.concat([Buffer.from([0, 1, 2, 255, 0xc3, 0x28]), randomBytes(300_000)]);
    const w = await caller.files.write({ ...ref, path: "/workspace/bin/data.bin", content: bytes.toString("base64"), encoding: "base64", createDirs: true, mode: 0o600 });
    expect(w.size).toBe(bytes.length);
    const r = await caller.files.read({ ...ref, path: "/workspace/bin/data.bin" });
    expect(r.encoding).toBe("base64");
    expect(Buffer.from(r.content, "base64").equals(bytes)).toBe(true);
    expect(r.mode).toBe(0o600);
    expect(await sh(containerId, "stat -c '%u:%g %a %s' /workspace/bin/data.bin")).toBe(`1000:1000 600 ${bytes.length}\n`);
  });

  it("overwrites only when the content is still what the caller read (expectedSha256)", async () => {
    const path = "/workspace/cas.txt";
    const first = await caller.files.write({ ...ref, path, content: "one\n" });
    await sh(containerId, "echo changed-by-agent > /workspace/cas.txt");
    await expectTrpcError(caller.files.write({ ...ref, path, content: "two\n", expectedSha256: first.sha256 }), "CONFLICT", /changed since you opened it/);
    const now = await caller.files.read({ ...ref, path });
    expect(now.content).toBe("changed-by-agent\n");
    await caller.files.write({ ...ref, path, content: "two\n", expectedSha256: now.sha256 });
    expect((await caller.files.read({ ...ref, path })).content).toBe("two\n");
  });

  it("refuses a write into a missing directory unless createDirs is set, and writes onto directories", async () => {
    await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/missing/dir/x.txt", content: "x" }), "NOT_FOUND", /createDirs/);
    await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/notes", content: "x" }), "BAD_REQUEST", /directory/);
    await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/notes/today.md/sub.txt", content: "x", createDirs: true }), "BAD_REQUEST", /not a directory/);
    await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/x.bin", content: "not base64!", encoding: "base64" }), "BAD_REQUEST", /base64/);
    await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/x.txt", content: "x", mode: 0o4755 }), "BAD_REQUEST", /mode/);
  });

  it("lists a directory of 10,000 entries, with types, sizes, modes, times and symlink targets", async () => {
    await sh(containerId, "mkdir -p /workspace/big && cd /workspace/big && seq -f 'f%05g.txt' 1 10000 | xargs touch && mkdir sub && echo hello > sub/a && ln -s sub/a link && ln -s /nowhere dangling");
    const started = performance.now();
    const res = await caller.files.list({ ...ref, path: "/workspace/big" });
    const took = performance.now() - started;
    console.log(`files.list of 10,003 entries: ${took.toFixed(0)} ms`);
    expect(res.entries).toHaveLength(10_003);
    expect(res.truncated).toBe(false);
    expect(res.entries[0]).toMatchObject({ name: "sub", type: "directory", path: "/workspace/big/sub" });
    const link = res.entries.find((e) => e.name === "link")!;
    expect(link).toMatchObject({ type: "symlink", symlinkTarget: "sub/a", targetType: "file" });
    expect(res.entries.find((e) => e.name === "dangling")).toMatchObject({ type: "symlink", symlinkTarget: "/nowhere", targetType: "missing" });
    const f = res.entries.find((e) => e.name === "f00042.txt")!;
    expect(f).toMatchObject({ type: "file", size: 0, mode: 0o644 });
    expect(Math.abs(f.modifiedAt.getTime() - Date.now())).toBeLessThan(120_000);
    expect(new Set(res.entries.map((e) => e.name)).size).toBe(10_003);
    // The root listing names the roots for the tree.
    const root = await caller.files.list({ ...ref });
    expect(root.roots).toEqual(["/workspace", "/home/agent/.claude"]);
    expect(root.entries.map((e) => e.name)).toEqual(expect.arrayContaining(["big", "notes", "cas.txt"]));
  });

  it("refuses traversal, NUL bytes, relative paths and paths outside the roots with clear 4xx errors", async () => {
    await expectTrpcError(caller.files.read({ ...ref, path: "/workspace/../etc/passwd" }), "BAD_REQUEST", /`\.\.` is not allowed/);
    await expectTrpcError(caller.files.read({ ...ref, path: "/workspace/a\0b" }), "BAD_REQUEST", /NUL/);
    await expectTrpcError(caller.files.read({ ...ref, path: "etc/passwd" }), "BAD_REQUEST", /absolute/);
    await expectTrpcError(caller.files.read({ ...ref, path: "/etc/passwd" }), "FORBIDDEN", /outside the agent's files/);
    await expectTrpcError(caller.files.write({ ...ref, path: "/etc/evil", content: "x" }), "FORBIDDEN");
    await expectTrpcError(caller.files.list({ ...ref, path: "/" }), "FORBIDDEN");
    await expectTrpcError(caller.files.delete({ ...ref, path: "/workspace", recursive: true }), "BAD_REQUEST", /root/);
    await expectTrpcError(caller.files.read({ ...ref, path: "/workspace/nope.txt" }), "NOT_FOUND", /does not exist/);
    await expectTrpcError(caller.files.read({ ...ref, path: "/workspace/notes" }), "BAD_REQUEST", /not a file/);
  });

  it("refuses symlinks that lead outside the roots, for reading, listing and writing; deleting the link removes only the link", async () => {
    await sh(containerId, "ln -sfn /etc /workspace/etc-link && ln -sfn /etc/hostname /workspace/host-link && ln -sfn /workspace/notes /workspace/notes-link");
    await expectTrpcError(caller.files.read({ ...ref, path: "/workspace/etc-link/passwd" }), "FORBIDDEN", /symbolic link/);
    await expectTrpcError(caller.files.read({ ...ref, path: "/workspace/host-link" }), "FORBIDDEN", /leads to \/etc\/hostname/);
    await expectTrpcError(caller.files.list({ ...ref, path: "/workspace/etc-link" }), "FORBIDDEN");
    await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/etc-link/evil", content: "x" }), "FORBIDDEN");
    await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/host-link", content: "x" }), "FORBIDDEN");
    // A link that stays inside is followed.
    expect((await caller.files.read({ ...ref, path: "/workspace/notes-link/today.md" })).resolvedPath).toBe("/workspace/notes/today.md");
    await caller.files.delete({ ...ref, path: "/workspace/host-link" });
    expect(await sh(containerId, "test -e /workspace/host-link || echo gone; test -s /etc/hostname && echo intact")).toBe("gone\nintact\n");
  });

  it("checks a grant's path globs on the path a symlink leads to, not only on the link", async () => {
    await sh(containerId, "mkdir -p /workspace/public && echo private > /workspace/private.txt && ln -sfn /workspace/private.txt /workspace/public/leak && ln -sfn /workspace /workspace/public/up");
    const grant = await caller.trust.create({ projectId, callerType: "role", callerId: "viewer", targetType: "agent", target: agentId, fileWritePaths: ["/workspace/public/**"] });
    try {
      expect((await viewer.files.write({ ...ref, path: "/workspace/public/ok.txt", content: "fine" })).resolvedPath).toBe("/workspace/public/ok.txt");
      // The link is inside the globs; the file it leads to is not.
      await expectTrpcError(viewer.files.write({ ...ref, path: "/workspace/public/leak", content: "overwritten" }), "FORBIDDEN", /\/workspace\/private\.txt.*only covers \/workspace\/public\/\*\*/);
      await expectTrpcError(viewer.files.write({ ...ref, path: "/workspace/public/up/private.txt", content: "overwritten" }), "FORBIDDEN");
      await expectTrpcError(viewer.files.delete({ ...ref, path: "/workspace/public/up/private.txt" }), "FORBIDDEN");
      expect(await sh(containerId, "cat /workspace/private.txt")).toBe("private\n");
      const refused = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "files.write", filePath: "/workspace/private.txt", allowed: false } });
      expect(refused).toMatchObject({ permission: "file_write", agentId });
    } finally {
      await caller.trust.delete({ projectId, grantId: grant.id });
    }
  });

  it("refuses files over the size limit, both ways", async () => {
    const big = Buffer.alloc(MAX_BYTES + 1, 0x61);
    await expectTrpcError(caller.files.write({ ...ref, path: "/workspace/big.txt", content: big.toString("utf8") }), "PAYLOAD_TOO_LARGE", /limit is 2,097,152 bytes/);
    await sh(containerId, `head -c ${MAX_BYTES + 10} /dev/zero > /workspace/huge.bin`);
    await expectTrpcError(caller.files.read({ ...ref, path: "/workspace/huge.bin" }), "PAYLOAD_TOO_LARGE", /ARMORY_FILES_MAX_BYTES/);
  });

  it("deletes files, and directories only when asked to", async () => {
    await caller.files.write({ ...ref, path: "/workspace/trash/a/b.txt", content: "b", createDirs: true });
    await expectTrpcError(caller.files.delete({ ...ref, path: "/workspace/trash" }), "BAD_REQUEST", /recursive/);
    expect(await caller.files.delete({ ...ref, path: "/workspace/trash/a/b.txt" })).toMatchObject({ deleted: true, type: "file" });
    expect(await caller.files.delete({ ...ref, path: "/workspace/trash", recursive: true })).toMatchObject({ deleted: true, type: "directory" });
    expect(await sh(containerId, "test -e /workspace/trash || echo gone")).toBe("gone\n");
    await expectTrpcError(caller.files.delete({ ...ref, path: "/workspace/trash" }), "NOT_FOUND");
  });

  it("streams agent-file-changed events for changes made through Armory", async () => {
    const iterable = (await caller.files.onChange({ ...ref })) as AsyncIterable<{ path: string; change: string; sha256: string | null }>;
    const it = iterable[Symbol.asyncIterator]();
    const next = it.next();
    const w = await caller.files.write({ ...ref, path: "/workspace/evented.txt", content: "e" });
    const ev = await next;
    expect(ev.value).toMatchObject({ path: "/workspace/evented.txt", change: "written", source: "armory", sha256: w.sha256 });
    await it.return?.();
  });

  it("lets viewers read but not write, and says so", async () => {
    expect((await viewer.files.read({ ...ref, path: "/workspace/cas.txt" })).content).toBe("two\n");
    await expectTrpcError(viewer.files.write({ ...ref, path: "/workspace/cas.txt", content: "x" }), "FORBIDDEN", /file_write/);
    await expectTrpcError(viewer.files.delete({ ...ref, path: "/workspace/cas.txt" }), "FORBIDDEN", /file_write/);
  });

  it("says the agent is not running when it is stopped", async () => {
    await caller.agent.stop(ref);
    await expectTrpcError(caller.files.list({ ...ref }), "PRECONDITION_FAILED", /not running/);
    await caller.agent.start(ref);
    expect((await caller.files.read({ ...ref, path: "/workspace/cas.txt" })).content).toBe("two\n");
  });

  describe("never as root", () => {
    /** The failure a call ended with (or null when it succeeded). */
    const outcome = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

    it("writes as the agent user: a file replacing a root-owned one is owned by uid 1000", async () => {
      // Root (without capabilities) can only create files where everyone may: a 0777 directory.
      await sh(containerId, "mkdir -p /workspace/shared && chmod 0777 /workspace/shared");
      await sh(containerId, "echo root > /workspace/shared/was-root.txt && chmod 0644 /workspace/shared/was-root.txt && stat -c %u /workspace/shared/was-root.txt", "root");
      await caller.files.write({ ...ref, path: "/workspace/shared/was-root.txt", content: "agent\n" });
      expect(await sh(containerId, "stat -c '%u:%g %a' /workspace/shared/was-root.txt; cat /workspace/shared/was-root.txt")).toBe("1000:1000 644\nagent\n");
      // No temp file is left behind.
      expect(await sh(containerId, "ls -A /workspace | grep -c armory-write || true")).toBe("0\n");
    });

    it("refuses root-owned files and directories with a clear 403, never a 500 (reads too: /etc/shadow-like files stay unread)", async () => {
      await sh(containerId, "mkdir -p /workspace/shared && chmod 0777 /workspace/shared");
      await sh(
        containerId,
        "cd /workspace/shared && mkdir rootdir && echo secret > rootdir/secret && echo only-root > rootonly.txt && chmod 0600 rootonly.txt rootdir/secret && stat -c %u rootdir",
        "root",
      );
      const dir = "/workspace/shared";
      await expectTrpcError(caller.files.write({ ...ref, path: `${dir}/rootdir/new.txt`, content: "x" }), "FORBIDDEN", /agent user \(uid 1000\) may not write .*permission denied/);
      await expectTrpcError(caller.files.write({ ...ref, path: `${dir}/rootdir/sub/new.txt`, content: "x", createDirs: true }), "FORBIDDEN", /permission denied/);
      await expectTrpcError(caller.files.write({ ...ref, path: `${dir}/rootdir/secret`, content: "x" }), "FORBIDDEN", /permission denied/);
      await expectTrpcError(caller.files.read({ ...ref, path: `${dir}/rootonly.txt` }), "FORBIDDEN", /may not read \/workspace\/shared\/rootonly\.txt: permission denied/);
      await expectTrpcError(caller.files.delete({ ...ref, path: `${dir}/rootdir/secret` }), "FORBIDDEN", /permission denied/);
      expect(await sh(containerId, `cat ${dir}/rootdir/secret ${dir}/rootonly.txt; ls -A ${dir}/rootdir`, "root")).toBe("secret\nonly-root\nsecret\n");
    });

    it("never follows a symlink in the path, even one swapped in after Armory's checks (the write primitive)", async () => {
      // What the agent can swap in between Armory's resolve and its write: a parent that became a
      // link to a root-owned directory (/etc) or to one the agent may write outside its roots
      // (/tmp), and a final name that became a link to a root-owned file.
      await sh(containerId, "mkdir -p /tmp/outside && ln -sfn /etc /workspace/swapped-etc && ln -sfn /tmp/outside /workspace/swapped-tmp && ln -sfn /etc/passwd /workspace/swapped-passwd && ln -sfn /etc/shadow /workspace/swapped-shadow");
      const before = await sh(containerId, "sha256sum /etc/passwd /etc/shadow", "root");
      const files = new AgentFileSystem(armory.services.hub, agentId, "files");
      const write = (path: string, createDirs = false) =>
        files.write({ root: "/workspace", path, content: Buffer.from("pwned\n"), mode: 0o644, mtime: new Date(), createDirs });
      for (const path of ["/workspace/swapped-etc/passwd", "/workspace/swapped-etc/armory-new", "/workspace/swapped-tmp/x.txt", "/workspace/swapped-tmp/deep/x.txt"]) {
        const err = await outcome(write(path, true));
        expect(err, path).toBeInstanceOf(DomainError);
        expect((err as DomainError).code, path).toBe("CONFLICT");
        expect((err as DomainError).message, path).toMatch(/is a symbolic link now.*does not follow it/);
      }
      // Reads refuse the same way (no reading root-only files through a swapped link).
      for (const path of ["/workspace/swapped-etc/shadow", "/workspace/swapped-shadow", "/workspace/swapped-passwd"]) {
        const err = await outcome(files.read("/workspace", path, 1 << 20, () => new DomainError("PAYLOAD_TOO_LARGE", "big")));
        expect((err as DomainError).code, path).toBe("CONFLICT");
      }
      // A final name that is a link is replaced (rename does not follow it), not written through.
      await write("/workspace/swapped-passwd");
      expect(await sh(containerId, "stat -c '%F %u' /workspace/swapped-passwd; cat /workspace/swapped-passwd")).toBe("regular file 1000\npwned\n");
      // Deleting through a swapped parent is refused too.
      expect(((await outcome(files.remove("/workspace", "/workspace/swapped-tmp/victim", false))) as DomainError).code).toBe("CONFLICT");
      expect(await sh(containerId, "sha256sum /etc/passwd /etc/shadow", "root")).toBe(before);
      expect(await sh(containerId, "ls -A /tmp/outside; ls /etc | grep -c armory-new || true")).toBe("0\n");
    });

    it("a symlink swapped in and out while Armory writes many times never places a file outside the roots", { timeout: 180_000 }, async () => {
      // The agent flips /workspace/race/d between a directory and links to /etc (root-owned) and
      // /tmp/escape (writable by the agent, outside its roots), as fast as it can, until told to stop.
      await sh(containerId, "rm -rf /workspace/race /tmp/escape && mkdir -p /workspace/race /tmp/escape");
      // One perl process (no fork per swap): each state lasts about a millisecond; it stops at the
      // stop file, or after two minutes at most.
      const swapper = sh(
        containerId,
        `perl -e 'chdir "/workspace/race" or die; my $i = 0; my $until = time + 120;
           while (!-e "stop" && time < $until) { $i++;
             for my $t ("/etc", "/tmp/escape") {
               mkdir "d"; select(undef, undef, undef, 0.001); rmdir "d" or system("rm", "-rf", "d");
               symlink $t, "d"; select(undef, undef, undef, 0.001); unlink "d";
             } }
           print $i'`,
      );
      swapper.catch(() => {}); // awaited below; a failure is reported there
      const WRITES = 30;
      const codes: string[] = [];
      for (let i = 0; i < WRITES; i++) {
        const err = await outcome(caller.files.write({ ...ref, path: `/workspace/race/d/race-${i}.txt`, content: `write ${i}\n`, createDirs: true }));
        codes.push(err === null ? "ok" : err instanceof TRPCError ? err.code : String(err));
      }
      await sh(containerId, "touch /workspace/race/stop");
      const swaps = Number((await swapper).trim());
      const tally: Record<string, number> = {};
      for (const c of codes) tally[c] = (tally[c] ?? 0) + 1;
      console.log(`race: ${swaps} swap rounds during ${WRITES} writes; outcomes ${JSON.stringify(tally)}`);
      // Every write either landed inside the roots or was refused with a 4xx; never a 500.
      for (const code of codes) expect(["ok", "CONFLICT", "FORBIDDEN", "NOT_FOUND", "BAD_REQUEST"]).toContain(code);
      // Nothing written anywhere outside /workspace (the whole container file system, as root).
      expect(await sh(containerId, "find / \\( -path /proc -o -path /sys -o -path /workspace \\) -prune -o -name 'race-*.txt' -print 2>/dev/null; ls -A /tmp/escape", "root")).toBe("");
    });
  });
});
