// Snapshots with real Docker and the real Claude Code CLI (issue 17, item 5): files and a chat
// session are snapshotted, everything is changed (files edited and deleted, another turn in the
// same session), the agent is restored and its files are back byte for byte, the session's
// transcript is the snapshot's, and a --resume turn continues from there. Also: restore refused
// while the agent runs, clone into a new agent, the per-project limit, delete removes the file.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAUDE_CONFIG_DIR } from "@/contracts/armoryd";
import type { TestArmory } from "../support/armory";
import { sh as execIn } from "../support/agent-exec";
import { startChatArmory, type Caller, type ChatArmory } from "../support/chat-armory";
import { suiteDb } from "../support/databases";

/** Every file under /workspace with its sha256, mode and owner, sorted (what "byte for byte" compares). */
const LISTING = `cd /workspace && find . -mindepth 1 \\( -type f -printf '%p %m %u ' -exec sha256sum {} \\; -o -type l -printf '%p -> %l\\n' -o -type d -printf '%p/ %m %u\\n' \\) | sort`;

describe("agent snapshots with the real CLI", () => {
  let fixture: ChatArmory | undefined;
  let armory: TestArmory;
  let caller: Caller;
  let projectId = "";
  let agentId = "";
  let snapDir = "";

  beforeAll(async () => {
    snapDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-snapshots-"));
    fixture = await startChatArmory({ db: suiteDb("pglite"), name: "Snapshots", env: { ARMORY_SNAPSHOT_DIR: snapDir, ARMORY_SNAPSHOT_MAX_PER_PROJECT: "2" } });
    ({ armory, caller, projectId } = fixture);
    armory.services.startBackground();
    agentId = (await caller.agent.create({ projectId, templateId: fixture.coderTemplateId, name: "snap-src", overrides: { memoryMb: 1024 }, start: true })).id;
  }, 600_000);

  afterAll(async () => {
    await fixture?.close();
    if (snapDir) fs.rmSync(snapDir, { recursive: true, force: true });
  });

  const containerOf = async (id: string) => (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id } })).containerId!;
  const turn = async (message: string, sessionId?: string) => {
    const sent = await armory.services.turns.run({ projectId, agentId, sessionId, message, userId: fixture!.owner.id });
    const outcome = await sent.outcome;
    expect(outcome.status, outcome.result ?? "").toBe("completed");
    return outcome;
  };
  const waitReady = async (snapshotId: string) => {
    await armory.services.snapshots.idle();
    const s = await armory.services.snapshots.get(projectId, snapshotId);
    expect(s.error).toBeNull();
    expect(s.status).toBe("ready");
    return s;
  };

  it("restores files and the session byte for byte; a --resume turn continues from the snapshot", async () => {
    const first = await turn("write a file notes.txt with alpha-one");
    const session = await armory.services.db.prisma.chatSession.findUniqueOrThrow({ where: { id: first.sessionId } });
    const jsonl = `${CLAUDE_CONFIG_DIR}/projects/-workspace/${session.claudeSessionId}.jsonl`;
    const container = await containerOf(agentId);
    await execIn(container, "mkdir -p /workspace/sub/deep && head -c 300000 /dev/urandom > /workspace/sub/keep.bin && echo secret-ish > /workspace/sub/deep/private.txt && chmod 600 /workspace/sub/deep/private.txt && ln -s sub/keep.bin /workspace/link");
    expect(await execIn(container, "cat /workspace/notes.txt")).toContain("alpha-one");
    const before = await execIn(container, LISTING);
    const linesBefore = Number((await execIn(container, `wc -l < ${jsonl}`)).trim());
    expect(linesBefore).toBeGreaterThan(0);

    // Progress and the end arrive through the subscription.
    const events: string[] = [];
    const ac = new AbortController();
    const watching = (async () => {
      for await (const c of armory.services.snapshots.onChange(projectId, ac.signal)) {
        events.push(c.type);
        if (c.type === "ready" || c.type === "failed") break;
      }
    })();
    const t0 = Date.now();
    const created = await caller.snapshot.create({ projectId, agentId, note: "before the changes" });
    expect(created).toMatchObject({ status: "creating", agentId, agentName: "snap-src", note: "before the changes" });
    await watching;
    ac.abort();
    const snap = await waitReady(created.id);
    console.log(`snapshot of ${snap.fileCount} files, ${snap.contentBytes} bytes -> ${snap.sizeBytes} bytes in ${snap.durationMs} ms (wall ${Date.now() - t0} ms)`);
    expect(events[0]).toBe("created");
    expect(events).toContain("progress");
    expect(events.at(-1)).toBe("ready");
    expect(snap.fileCount).toBeGreaterThanOrEqual(4);
    expect(snap.contentBytes).toBeGreaterThan(300_000);
    expect(snap.sizeBytes).toBeGreaterThan(0);
    expect(snap.createdBy?.id).toBe(fixture!.owner.id);
    expect(snap.model).toBe("claude-sonnet-4-5");
    const file = armory.services.snapshots.fileOf(projectId, snap.id);
    expect(fs.statSync(file).size).toBe(snap.sizeBytes);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(snapDir).mode & 0o777).toBe(0o700);

    // Change everything: edit, delete, add, and another turn in the same session.
    await execIn(container, "echo changed > /workspace/notes.txt && rm -rf /workspace/sub/deep && echo new > /workspace/new.txt && rm /workspace/link");
    const later = await turn("Remember the word zebra-later please", first.sessionId);
    expect(later.result).toContain("(2 messages from you so far)");
    expect(Number(await execIn(container, `grep -c zebra-later ${jsonl} || true`))).toBeGreaterThan(0);

    // Not while it runs.
    await expect(caller.snapshot.restore({ projectId, agentId, snapshotId: snap.id })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/Stop snap-src first/) });

    await caller.agent.stop({ projectId, agentId });
    const r0 = Date.now();
    const restored = await caller.snapshot.restore({ projectId, agentId, snapshotId: snap.id });
    console.log(`restore took ${Date.now() - r0} ms`);
    expect(restored.restoredAt).not.toBeNull();
    const audit = await armory.services.db.prisma.auditEvent.findFirst({ where: { action: "snapshot.restore", allowed: true, agentId }, orderBy: { at: "desc" } });
    expect(audit).not.toBeNull();

    await caller.agent.start({ projectId, agentId });
    const after = await containerOf(agentId);
    expect(await execIn(after, LISTING)).toBe(before);
    expect(await execIn(after, "ls /workspace/new.txt 2>&1 || true")).toMatch(/No such file/);
    expect(Number((await execIn(after, `wc -l < ${jsonl}`)).trim())).toBe(linesBefore);
    expect(await execIn(after, `grep -c zebra-later ${jsonl} || true`)).toMatch(/^0/);
    // The conversation continues from the snapshot's: the model sees one earlier message, not two.
    const resumed = await turn("And now after the restore", first.sessionId);
    expect(resumed.result).toContain("(2 messages from you so far)");
    expect(resumed.result).not.toContain("zebra-later");

    // Clone: a new agent with the snapshot's config and files.
    const clone = await caller.snapshot.clone({ projectId, snapshotId: snap.id, name: "snap-clone", start: true });
    expect(clone).toMatchObject({ name: "snap-clone", model: "claude-sonnet-4-5", memoryMb: 1024 });
    expect(await execIn(await containerOf(clone.id), LISTING)).toBe(before);
    expect(await execIn(await containerOf(clone.id), `wc -l < ${jsonl}`)).toBe(`${linesBefore}\n`);
  }, 600_000);

  it("refuses over the per-project limit (409), and delete removes the file", async () => {
    const second = await caller.snapshot.create({ projectId, agentId });
    await waitReady(second.id);
    await expect(caller.snapshot.create({ projectId, agentId })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/ARMORY_SNAPSHOT_MAX_PER_PROJECT=2/) });
    const list = await caller.snapshot.list({ projectId, agentId });
    expect(list.map((s) => s.id)).toContain(second.id);
    const file = armory.services.snapshots.fileOf(projectId, second.id);
    expect(fs.existsSync(file)).toBe(true);
    await caller.snapshot.delete({ projectId, snapshotId: second.id });
    expect(fs.existsSync(file)).toBe(false);
    expect((await caller.snapshot.list({ projectId, agentId })).map((s) => s.id)).not.toContain(second.id);
    // Room again.
    const third = await caller.snapshot.create({ projectId, agentId });
    await waitReady(third.id);
  }, 300_000);
});
