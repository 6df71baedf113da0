// Terminals against a real agent container and its armoryd: a shell on a PTY runs commands as
// the agent user; only the caller who opened a terminal can type into it or resize it (anyone
// else gets 404, as for a terminal that does not exist); input is capped per call (413); a viewer
// has no exec (403); the per-caller limit (409); the terminal ends when the shell exits, when the
// subscription ends (the PTY is closed, the termId is gone) and when the agent stops; each
// close is one audit entry with duration and byte counts and never the keystrokes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { createCaller } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { callerFor, signUp, startTestArmory, type TestArmory, type TestUser } from "../support/armory";
import { suiteDb } from "../support/databases";
import { docker, removeProjectDockerObjects } from "../support/docker";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;
type Ref = { projectId: string; agentId: string };

/** One open terminal: its events collected as they arrive, its output decoded. */
interface Session {
  termId: string;
  events: { type: string; exitCode?: number | null; reason?: string }[];
  output(): string;
  close(): Promise<void>;
  ended: Promise<void>;
}

/**
 * Opens a terminal as `user` on a caller of its own whose abort signal is the stream's end (as
 * the live connection's stop and the HTTP request's end are): close() aborts it.
 */
async function openTerminal(armory: TestArmory, user: TestUser, ref: Ref, size = { cols: 100, rows: 30 }): Promise<Session> {
  const abort = new AbortController();
  const caller = createCaller(await createContext({ services: armory.services, headers: user.headers }), { signal: abort.signal });
  const stream = await caller.terminal.open({ ...ref, ...size });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.type !== "opened") throw new Error(`expected "opened" first, got ${JSON.stringify(first.value)}`);
  const events: Session["events"] = [first.value];
  const chunks: Buffer[] = [];
  const ended = (async () => {
    while (true) {
      const r = await it.next();
      if (r.done) return;
      events.push(r.value);
      if (r.value.type === "data") chunks.push(Buffer.from(r.value.data, "base64"));
    }
  })();
  return {
    termId: first.value.termId,
    events,
    output: () => Buffer.concat(chunks).toString("utf8"),
    async close() {
      abort.abort();
      await ended;
    },
    ended,
  };
}

describe("terminals on a real agent container", () => {
  let armory: TestArmory;
  let owner: Caller;
  let ownerUser: TestUser;
  let ownerId: string;
  let other: Caller;
  let otherUser: TestUser;
  let viewer: Caller;
  let ref: Ref;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("postgres"));
    const o = await signUp(armory.services, { name: "Terminal Owner" });
    ownerUser = o;
    ownerId = o.id;
    owner = await callerFor(armory.services, o);
    const projectId = (await owner.project.create({ name: "Terminals" })).id;
    const templateId = (await owner.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    const agentId = (await owner.agent.create({ projectId, templateId, name: "shell", start: true })).id;
    ref = { projectId, agentId };
    const op = await signUp(armory.services, { name: "Other Operator" });
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: op.id, role: "operator" } });
    other = await callerFor(armory.services, op);
    otherUser = op;
    const v = await signUp(armory.services, { name: "Viewer" });
    await armory.services.db.prisma.projectMember.create({ data: { projectId, userId: v.id, role: "viewer" } });
    viewer = await callerFor(armory.services, v);
    // The agent's daemon dials home after the container starts.
    const containerId = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    await armory.services.hub.waitFor(agentId, { timeoutMs: 60_000, containerId });
  }, 600_000);

  afterAll(async () => {
    if (ref) await removeProjectDockerObjects(ref.projectId);
    await armory?.close();
  });

  it("runs a command in a shell as the agent user, in /workspace; exit ends it with the shell's code", async () => {
    const t = await openTerminal(armory, ownerUser, ref);
    await owner.terminal.input({ ...ref, termId: t.termId, data: "echo armory-$((40+2)) $(id -u) $PWD\r" });
    await expect.poll(() => t.output(), { timeout: 15_000 }).toContain("armory-42 1000 /workspace");
    await owner.terminal.resize({ ...ref, termId: t.termId, cols: 132, rows: 40 });
    await owner.terminal.input({ ...ref, termId: t.termId, data: "stty size\r" });
    await expect.poll(() => t.output(), { timeout: 15_000 }).toContain("40 132");
    await owner.terminal.input({ ...ref, termId: t.termId, data: "exit 3\r" });
    await t.ended;
    expect(t.events.at(-1)).toEqual({ type: "exit", exitCode: 3 });
    await expectTrpcError(owner.terminal.input({ ...ref, termId: t.termId, data: "x" }), "NOT_FOUND", /Terminal not found/);
  });

  it("only the caller who opened a terminal may type into it or resize it (404 for anyone else); input is at most 64 KiB a call", async () => {
    const t = await openTerminal(armory, ownerUser, ref);
    await expectTrpcError(other.terminal.input({ ...ref, termId: t.termId, data: "touch /workspace/intruder\r" }), "NOT_FOUND", /Terminal not found/);
    await expectTrpcError(other.terminal.resize({ ...ref, termId: t.termId, cols: 10, rows: 10 }), "NOT_FOUND", /Terminal not found/);
    await expectTrpcError(owner.terminal.input({ ...ref, termId: crypto.randomUUID(), data: "x" }), "NOT_FOUND");
    await expectTrpcError(owner.terminal.input({ ...ref, termId: t.termId, data: "x".repeat(64 * 1024 + 1) }), "PAYLOAD_TOO_LARGE", /at most 64\.0 KiB/);
    await expectTrpcError(owner.terminal.input({ ...ref, termId: t.termId, data: "é".repeat(32 * 1024 + 1) }), "PAYLOAD_TOO_LARGE");
    await expectTrpcError(owner.terminal.input({ ...ref, termId: "not-a-uuid", data: "x" }), "BAD_REQUEST", /termId/);
    await expectTrpcError(owner.terminal.resize({ ...ref, termId: t.termId, cols: 5000, rows: 10 }), "BAD_REQUEST", /cols/);
    // The refused input never reached the shell; the owner's does.
    await owner.terminal.input({ ...ref, termId: t.termId, data: "ls /workspace/intruder 2>&1; echo done-$((1+1))\r" });
    await expect.poll(() => t.output(), { timeout: 15_000 }).toContain("done-2");
    expect(t.output()).toContain("No such file or directory");
    await t.close();
  });

  it("a viewer has no exec: cannot open a terminal nor type (403)", async () => {
    await expectTrpcError(viewer.terminal.open({ ...ref, cols: 80, rows: 24 }), "FORBIDDEN", /exec permission/);
    await expectTrpcError(viewer.terminal.input({ ...ref, termId: crypto.randomUUID(), data: "x" }), "FORBIDDEN", /exec permission/);
  });

  it("at most 4 terminals per caller per agent (409); closing one frees its place", async () => {
    const open = [await openTerminal(armory, ownerUser, ref), await openTerminal(armory, ownerUser, ref), await openTerminal(armory, ownerUser, ref), await openTerminal(armory, ownerUser, ref)];
    await expectTrpcError(owner.terminal.open({ ...ref, cols: 80, rows: 24 }), "CONFLICT", /at most 4/);
    // Another caller has places of their own.
    const theirs = await openTerminal(armory, otherUser, ref);
    await open[0]!.close();
    const again = await openTerminal(armory, ownerUser, ref);
    for (const t of [...open.slice(1), theirs, again]) await t.close();
    expect(armory.services.terminal.openCount).toBe(0);
  });

  it("closing the stream closes the PTY; the audit entry has duration and byte counts, never the keystrokes", async () => {
    const t = await openTerminal(armory, ownerUser, ref);
    const secret = "echo keystroke-$((6*7))-secret";
    await owner.terminal.input({ ...ref, termId: t.termId, data: `${secret}\r` });
    await expect.poll(() => t.output(), { timeout: 15_000 }).toContain("keystroke-42-secret");
    await t.close();
    await expectTrpcError(owner.terminal.input({ ...ref, termId: t.termId, data: "x" }), "NOT_FOUND");
    const closeEntry = { action: "terminal.close", input: { path: ["termId"], equals: t.termId } };
    await expect.poll(() => armory.services.db.prisma.auditEvent.count({ where: closeEntry }), { timeout: 10_000 }).toBe(1);
    const entry = await armory.services.db.prisma.auditEvent.findFirstOrThrow({ where: closeEntry });
    expect(entry).toMatchObject({ userId: ownerId, agentId: ref.agentId, permission: "exec", allowed: true, outcome: "ok" });
    const input = entry.input as { bytesIn: number; bytesOut: number; durationMs: number };
    expect(input.bytesIn).toBe(Buffer.byteLength(`${secret}\r`));
    expect(input.bytesOut).toBeGreaterThan(0);
    expect(input.durationMs).toBeGreaterThan(0);
    // The opening was audited with its permission decision; nothing anywhere holds what was typed.
    const opened = await armory.services.db.prisma.auditEvent.findMany({ where: { action: "terminal.open", agentId: ref.agentId, userId: ownerId } });
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.every((e) => e.permission === "exec")).toBe(true);
    const all = await armory.services.db.prisma.auditEvent.findMany({ where: { agentId: ref.agentId } });
    expect(JSON.stringify(all)).not.toContain("keystroke-");
  });

  it("stopping the agent ends its terminals with a clear reason, and a stopped agent opens none (412)", async () => {
    const t = await openTerminal(armory, ownerUser, ref);
    await owner.agent.stop(ref);
    await t.ended;
    expect(t.events.at(-1)).toMatchObject({ type: "ended", reason: expect.stringMatching(/stopped|daemon/) });
    await expectTrpcError(owner.terminal.open({ ...ref, cols: 80, rows: 24 }), "PRECONDITION_FAILED", /not running/);
    expect(armory.services.terminal.openCount).toBe(0);
  });
});
