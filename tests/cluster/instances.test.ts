// Two Armory instances on one real PostgreSQL: instance A is its own process (so it can be killed),
// instance B runs in the test. An agent's daemon (a protocol-level fake, no container: the cluster
// layer is what is under test) dials A. Proves: a turn sent through B runs on A (routed) while B
// streams the session with every seq once, in order; a daemon request on B is answered by A's
// daemon; a terminal opened through B on the agent held by A echoes input and shows its output
// in order (a flood of output too), and closing it on B ends it on A; killing A mid-turn ends that turn as interrupted with a sentence, B takes the leadership
// within seconds, the daemon reconnects to B and the session goes on there.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonHealth } from "@/server/agentd/health";
import { DaemonRequestError } from "@/server/agentd/hub";
import { createCaller } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { openDatabase } from "@/server/db";
import { createLogger } from "@/server/logger";
import { createServices, type Services } from "@/server/services";
import type { ChatEventRecord } from "@/server/chat/store";
import { callerFor, signUp, TEST_AUTH_SECRET, testConfig, type TestUser } from "../support/armory";
import { startInstanceProcess, type ProcessInstance } from "../support/armory-process";
import { createTestDatabase, type TestDatabaseTarget } from "../support/databases";
import { removeProjectDockerObjects } from "../support/docker";
import { httpClient, startHttp } from "../support/http-server";
import { insertAgentRow } from "../support/trust";
import { FakeDaemon } from "./fake-daemon";

/** Collects a session's stream on an instance until a turn-ending event arrives. */
async function streamUntilEnd(services: Services, sessionId: string, signal: AbortSignal, seen: ChatEventRecord[], ends: number): Promise<void> {
  let ended = 0;
  for await (const e of services.chat.bus.stream(sessionId, 0, signal)) {
    seen.push(e);
    if (e.type === "run_completed" || e.type === "run_failed" || e.type === "run_interrupted") {
      if (++ended === ends) return;
    }
  }
}

describe("several Armory instances on one PostgreSQL", () => {
  let target: TestDatabaseTarget;
  let a: ProcessInstance;
  let b: Services;
  let bHttp: Awaited<ReturnType<typeof startHttp>>;
  let owner: TestUser;
  let projectId: string;
  let agentId: string;
  let daemon: FakeDaemon;

  beforeAll(async () => {
    target = await createTestDatabase("postgres");
    a = await startInstanceProcess(target.options.databaseUrl!);
    b = await createServices({
      // No pre-warmed process: the fake daemon plays one Claude Code process at a time.
      config: testConfig({ DATABASE_URL: target.options.databaseUrl!, ARMORY_GATEWAY_PORT: "0", ARMORY_CHAT_PREWARM: "false" }),
      db: await openDatabase(target.options),
      log: createLogger({ level: "warn", format: "json" }),
      authSecret: TEST_AUTH_SECRET,
      cluster: { heartbeatMs: 500, expireMs: 4000, leaderPollMs: 250 },
    });
    b.startBackground();
    bHttp = await startHttp(() => b);
    owner = await signUp(b, { name: "Cluster Owner" });
    const caller = await callerFor(b, owner);
    projectId = (await caller.project.create({ name: "Cluster" })).id;
    agentId = (await insertAgentRow(b, projectId, "clustered")).id;
    const containerId = `fake-${agentId.slice(0, 8)}`;
    await b.db.prisma.agent.update({ where: { id: agentId }, data: { containerId, observedState: "running", desiredState: "running" } });
    daemon = new FakeDaemon(await b.gateway.ensureAgentToken(agentId), containerId);
    await daemon.connect(a.url);
  }, 180_000);

  afterAll(async () => {
    daemon?.close();
    if (a?.child.exitCode === null) a.child.kill("SIGKILL");
    await bHttp?.close();
    await b?.close();
    await removeProjectDockerObjects(projectId);
    await target?.drop();
  }, 60_000);

  it("knows the instances, the leader (the first one) and who holds the daemon", async () => {
    expect(b.cluster.isLeader).toBe(false);
    await expect.poll(async () => (await b.cluster.view()).instances.find((i) => i.id === a.self)?.daemons, { timeout: 10_000 }).toBe(1);
    const view = await b.cluster.view();
    expect(view.mode).toBe("postgres");
    expect(view.leader).toBe(a.self);
    expect(view.instances.map((i) => i.id).sort()).toEqual([a.self, b.cluster.self].sort());
    // The daemon counts as connected on B too, held by A.
    await expect.poll(() => b.hub.state(agentId), { timeout: 5000 }).toBe("connected");
    expect(b.hub.holds(agentId)).toBe(false);
    // The leader's health check (on A here, on either in general) counts it healthy: its heartbeat goes to A, not to B.
    expect(daemonHealth(b.hub, agentId, `fake-${agentId.slice(0, 8)}`)).toMatchObject({ ok: true });
    // The admin's view through tRPC (the first account is the instance admin).
    const caller = await callerFor(b, owner);
    expect((await caller.instance.cluster()).leader).toBe(a.self);
  });

  it("answers a daemon request made on B from the daemon connected to A, errors included", async () => {
    const r = await b.hub.request(agentId, "fs.read", { root: "/workspace", path: "/workspace/notes.txt", maxBytes: 1000 });
    expect(Buffer.from(r.content, "base64").toString()).toBe(`read through ${daemon.daemonId}`);
    const err = await b.hub.request(agentId, "fs.read", { root: "/workspace", path: "/workspace/missing.txt", maxBytes: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonRequestError);
    expect((err as DaemonRequestError).error.code).toBe("ENOENT");
  });

  it("shows agent status published on B to a subscriber on A (over HTTP)", async () => {
    const onA = httpClient(a.url, owner.cookie);
    const got: { type: string; agent?: { id: string; name: string } }[] = [];
    let first!: () => void;
    const subscribed = new Promise<void>((r) => (first = r));
    let renamed!: () => void;
    const seenRename = new Promise<void>((r) => (renamed = r));
    const sub = onA.agent.onStatus.subscribe(
      { projectId, agentId },
      {
        onData: (e) => {
          got.push(e as (typeof got)[number]);
          if (e.type === "engine") first();
          if (e.type === "agent" && e.agent.name === "clustered-renamed") renamed();
        },
      },
    );
    await subscribed;
    await b.db.prisma.agent.update({ where: { id: agentId }, data: { name: "clustered-renamed" } });
    await b.agents.publishAgent(agentId);
    await seenRename;
    sub.unsubscribe();
    expect(got.filter((e) => e.type === "agent" && e.agent?.name === "clustered-renamed")).toHaveLength(1);
  });

  /** A turn sent through B that A's fake daemon holds until answered, streamed on B until `ends` runs have ended. */
  async function heldTurnThroughB(message: string, ends: number) {
    daemon.answerAtOnce = false;
    const sent = await (await callerFor(b, owner)).chat.send({ projectId, agentId, message });
    await daemon.until(() => daemon.turnWaiting);
    const seen: ChatEventRecord[] = [];
    const stop = new AbortController();
    const streaming = streamUntilEnd(b, sent.sessionId, stop.signal, seen, ends);
    return { sent, seen, stop, streaming };
  }

  it("runs a turn sent through B on A, and B streams the session with every seq once, in order", async () => {
    const caller = await callerFor(b, owner);
    const { sent, seen, stop, streaming } = await heldTurnThroughB("Hello across instances", 1);
    // The turn runs on A: A's daemon was asked to start Claude Code.
    expect(daemon.requests.some((r) => r.method === "proc.spawn")).toBe(true);
    // B follows live: it already has what was stored before the answer starts.
    await expect.poll(() => seen.some((e) => e.type === "run_started"), { timeout: 10_000 }).toBe(true);
    // Claude Code asks for a tool on A; the approval is decided on B and reaches A's waiting turn.
    daemon.askPermission("perm-1");
    let approvalId = "";
    await expect
      .poll(async () => (approvalId = (await b.db.prisma.approval.findFirst({ where: { agentId, status: "pending" } }))?.id ?? ""), { timeout: 10_000 })
      .not.toBe("");
    const decided = await caller.approval.decide({ projectId, approvalId, decision: "allow" });
    expect(decided.status).toBe("allowed");
    await daemon.until(() => daemon.permissionAnswers.length === 1);
    expect(daemon.permissionAnswers[0]).toContain('"behavior":"allow"');
    daemon.answer("one two three four five six seven eight");
    await streaming;
    stop.abort();
    const seqs = seen.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const stored = await b.chat.store.eventsAfter(sent.sessionId, 0, 1000);
    expect(seqs).toEqual(stored.map((e) => e.seq));
    expect(seen.at(-1)!.type).toBe("run_completed");
    expect(seen.filter((e) => e.type === "run_completed")).toHaveLength(1);
  });

  it("streams a burst too big to travel inline (ranges read in one query on B) with every seq once, in order", async () => {
    const { sent, seen, stop, streaming } = await heldTurnThroughB("A long answer, please", 1);
    await expect.poll(() => seen.some((e) => e.type === "run_started"), { timeout: 10_000 }).toBe(true);
    // 300 deltas of ~200 bytes in one go: far more than one notice's 7,000 bytes of events.
    const words = Array.from({ length: 300 }, (_, i) => `w${i}-${"x".repeat(200)}`);
    daemon.answer(words.join(" "), words);
    await streaming;
    stop.abort();
    const seqs = seen.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const stored = await b.chat.store.eventsAfter(sent.sessionId, 0, 1000);
    expect(seqs).toEqual(stored.map((e) => e.seq));
    expect(seen.filter((e) => e.type === "stream_event")).toHaveLength(300);
    expect(seen.at(-1)!.type).toBe("run_completed");
  });

  it("opens a terminal through B on the agent held by A: input echoes, output arrives in order, closing on B ends it on A", async () => {
    expect(b.hub.holds(agentId)).toBe(false);
    const abort = new AbortController();
    const caller = createCaller(await createContext({ services: b, headers: owner.headers }), { signal: abort.signal });
    const stream = await caller.terminal.open({ projectId, agentId, cols: 100, rows: 30 });
    const iter = stream[Symbol.asyncIterator]();
    const first = await iter.next();
    expect(first.value).toMatchObject({ type: "opened" });
    const termId = (first.value as { termId: string }).termId;
    let output = "";
    const events: string[] = [];
    let changed = () => {};
    const reading = (async () => {
      for (let r = await iter.next(); !r.done; r = await iter.next()) {
        events.push(r.value.type);
        if (r.value.type === "data") output += Buffer.from(r.value.data, "base64").toString();
        changed();
      }
    })();
    const until = (pred: () => boolean) =>
      pred() ? Promise.resolve() : new Promise<void>((resolve) => (changed = () => pred() && resolve()));
    // The PTY runs on A (its daemon), the stream on B.
    expect(daemon.terminals.has(termId)).toBe(true);
    await until(() => output === "fake$ ");
    for (const word of ["one ", "two ", "three ", "four"]) await caller.terminal.input({ projectId, agentId, termId, data: word });
    await until(() => output.endsWith("four"));
    expect(output).toBe("fake$ one two three four");
    await caller.terminal.resize({ projectId, agentId, termId, cols: 132, rows: 40 });
    expect(daemon.terminals.get(termId)).toEqual({ cols: 132, rows: 40 });
    // A burst far bigger than a NOTIFY (through cluster_message), in order, nothing lost.
    const before = output.length;
    daemon.flood(termId, 300 * 1024);
    await until(() => output.length === before + 300 * 1024);
    const flood = output.slice(before);
    const expected = Array.from({ length: 75 }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(4096)).join("");
    expect(flood === expected).toBe(true);
    // Closing the stream on B closes the shell on A.
    abort.abort();
    await reading;
    await daemon.until(() => daemon.closedTerminals.includes(termId));
    expect(daemon.terminals.has(termId)).toBe(false);
    expect(b.terminal.openCount).toBe(0);
    // Its audit entry is written on B, where it was opened.
    await expect.poll(async () => (await b.db.prisma.auditEvent.count({ where: { action: "terminal.close", agentId } })), { timeout: 5000 }).toBe(1);

    // A second one: the shell exits on A and B's stream ends with its exit code.
    const again = createCaller(await createContext({ services: b, headers: owner.headers }));
    const it2 = (await again.terminal.open({ projectId, agentId, cols: 80, rows: 24 }))[Symbol.asyncIterator]();
    const opened = (await it2.next()).value as { termId: string };
    await again.terminal.input({ projectId, agentId, termId: opened.termId, data: "exit\r" });
    const rest: unknown[] = [];
    for (let r = await it2.next(); !r.done; r = await it2.next()) rest.push(r.value);
    expect(rest.at(-1)).toEqual({ type: "exit", exitCode: 0 });
    expect(b.terminal.openCount).toBe(0);
  }, 60_000);

  it("ends a turn cleanly when A dies mid-turn; B leads within seconds and the session goes on there", async () => {
    const caller = await callerFor(b, owner);
    const { sent, seen, stop, streaming } = await heldTurnThroughB("A long turn", 2);

    // A terminal served by B on the shell A holds: it ends with a sentence when A dies.
    const term = (await (await callerFor(b, owner)).terminal.open({ projectId, agentId, cols: 80, rows: 24 }))[Symbol.asyncIterator]();
    expect((await term.next()).value).toMatchObject({ type: "opened" });
    const termEnd = (async () => {
      for (let r = await term.next(); !r.done; r = await term.next()) if (r.value.type !== "data") return r.value;
      return null;
    })();

    const becameLeader = new Promise<number>((resolve) => {
      const off = b.cluster.onLeadership((leader) => {
        if (!leader) return;
        off();
        resolve(Date.now());
      });
    });
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    await daemon.closed();
    // The daemon dials again; the load balancer now sends it to B.
    await daemon.connect(bHttp.url);
    const leaderAfterMs = (await becameLeader) - killedAt;
    expect(leaderAfterMs).toBeLessThan(5000);
    expect(await termEnd).toMatchObject({ type: "ended", reason: expect.stringMatching(/Armory instance|moved/) });
    expect(b.terminal.openCount).toBe(0);

    // The turn A was running is ended by the new leader once A's heartbeat has expired.
    await expect.poll(() => seen.some((e) => e.type === "run_interrupted"), { timeout: 15_000 }).toBe(true);
    const run = await b.db.prisma.chatRun.findFirstOrThrow({ where: { sessionId: sent.sessionId } });
    expect(run.status).toBe("interrupted");
    expect(run.error).toMatch(/Armory instance running this turn stopped/);
    const view = await b.cluster.view();
    expect(view.leader).toBe(b.cluster.self);
    expect(view.instances.map((i) => i.id)).toEqual([b.cluster.self]);

    // The same session goes on, now on B (it holds the daemon).
    daemon.answerAtOnce = true;
    expect(b.hub.holds(agentId)).toBe(true);
    await caller.chat.send({ projectId, agentId, sessionId: sent.sessionId, message: "Again, please" });
    await streaming;
    stop.abort();
    expect(seen.at(-1)!.type).toBe("run_completed");
    const seqs = seen.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    console.log(`cluster: B became leader ${leaderAfterMs} ms after A was killed`);
  }, 60_000);
});
