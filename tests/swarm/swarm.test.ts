// ARMORY_RUNTIME=swarm on a real two-node Docker Swarm (tests/support/swarm.ts): node 1 is the
// manager Armory talks to, node 2 a worker in its own network namespace. Agents are kept off the
// manager by ARMORY_SWARM_CONSTRAINTS (node 2 carries the label), so the agent runs on node 2 and
// dials home over its project's overlay network to the relay beside Armory on node 1. The real
// Claude Code CLI chats there against the scripted model server; files go through armoryd; an
// outage of node 2's engine shows the agent unreachable and it comes back with the node; Swarm
// rolls a bad image back by itself.
// Then two Armory instances on one PostgreSQL, both on the Swarm (A a separate process, B in the
// test): a template's placement constraint puts the agent on node 2, its armoryd dials home to A,
// a turn sent through A is streamed by B with every seq once and the same text, and when A is
// killed B takes the leadership, points the project's relay at itself, the daemon reconnects to B
// and the next turn runs there.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AGENT_USER } from "@/contracts/armoryd";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { openDatabase } from "@/server/db";
import { startDemoModelServer, type DemoModelServer } from "@/server/gateway/demo-model";
import { createLogger } from "@/server/logger";
import { relayContainerName } from "@/server/runtime/docker/project-network";
import { agentImageTag } from "@/server/runtime";
import { createServices, type Services } from "@/server/services";
import { callerFor, signUp, TEST_AUTH_SECRET, testConfig, type TestUser } from "../support/armory";
import { startInstanceProcess, type ProcessInstance } from "../support/armory-process";
import { startChatArmory, type ChatArmory } from "../support/chat-armory";
import { chatStreams, contiguous, streamedText } from "../support/chat-stream";
import { createTestDatabase, suiteDb, type TestDatabaseTarget } from "../support/databases";
import { httpClient } from "../support/http-server";
import { startTwoNodeSwarm, type TwoNodeSwarm } from "../support/swarm";

const BASE_IMAGE = "armory-agent-base:bookworm";
const BROKEN_IMAGE = "armory-agent:broken";

let swarm: TwoNodeSwarm | undefined;

beforeAll(async () => {
  swarm = await startTwoNodeSwarm({ images: [agentImageTag(), BASE_IMAGE] });
}, 600_000);

afterAll(async () => {
  await swarm?.close();
}, 180_000);

describe("agents on a two-node Docker Swarm", () => {
  let fixture: ChatArmory | undefined;
  let agentId = "";
  let serviceId = "";
  const ctx = () => ({ caller: fixture!.caller, projectId: fixture!.projectId, agentId });
  const { stream, untilEnd } = chatStreams(ctx);

  const chat = async (message: string) => {
    const { caller, projectId } = fixture!;
    const sent = await caller.chat.send({ projectId, agentId, message });
    const events = await untilEnd(await stream(sent.sessionId), sent.runId, 120_000);
    return streamedText(events);
  };
  const tasksOf = async () => (await swarm!.manager.docker.listTasks({ filters: { service: [serviceId] } })) as { NodeID: string; DesiredState: string; Status: { State: string } }[];

  beforeAll(async () => {
    // Armory checks the manager's engine for an image; Swarm runs it on the agent's node.
    await Promise.all([swarm!.cli("manager", ["tag", BASE_IMAGE, BROKEN_IMAGE]), swarm!.cli("worker", ["tag", BASE_IMAGE, BROKEN_IMAGE])]);
    await swarm!.cli("manager", ["node", "update", "--label-add", "armory=agents", swarm!.worker.id]);
    fixture = await startChatArmory({
      db: suiteDb("pglite"),
      name: "Swarm",
      env: { ARMORY_RUNTIME: "swarm", DOCKER_HOST: swarm!.dockerHost, ARMORY_SWARM_CONSTRAINTS: "node.labels.armory==agents" },
    });
    fixture.armory.services.agents.startBackground();
  }, 600_000);

  afterAll(async () => {
    await fixture?.close().catch(() => {});
  }, 180_000);

  it("places a new agent on the worker node as a hardened service, pinned there, and it starts", async () => {
    const { caller, projectId, coderTemplateId, armory } = fixture!;
    const agent = await caller.agent.create({ projectId, templateId: coderTemplateId, name: "remote", overrides: { memoryMb: 1024 }, start: true });
    agentId = agent.id;
    serviceId = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    const service = await swarm!.manager.docker.getService(serviceId).inspect();
    const spec = service.Spec.TaskTemplate.ContainerSpec;
    expect(service.Spec.TaskTemplate.Placement.Constraints).toEqual([`node.id==${swarm!.worker.id}`, "node.labels.armory==agents"]);
    expect(spec).toMatchObject({ User: AGENT_USER, ReadOnly: true, Init: true, CapabilityDrop: ["ALL"] });
    expect(service.Spec.TaskTemplate.Resources.Limits.MemoryBytes).toBe(1024 * 1024 * 1024);
    expect(service.Spec.Labels["dev.armory.agent-id"]).toBe(agentId);
    expect(spec.Env.join("\n")).not.toContain("sk-upstream-test-key");
    await vi.waitFor(async () => expect((await caller.agent.get({ projectId, agentId })).daemon.state).toBe("connected"), { timeout: 120_000, interval: 500 });
    expect((await caller.agent.get({ projectId, agentId })).observedState).toBe("running");
    const running = (await tasksOf()).filter((t) => t.Status.State === "running");
    expect(running.map((t) => t.NodeID)).toEqual([swarm!.worker.id]);
    // The task's container is on node 2's engine, with no privileges to gain (the node's dockerd flag).
    const [container] = await swarm!.worker.docker.listContainers({ filters: { label: [`dev.armory.agent-id=${agentId}`] } });
    expect(container).toBeDefined();
    const top = await swarm!.cli("worker", ["exec", container!.Id, "sh", "-c", "grep -E '^(NoNewPrivs|CapEff)' /proc/self/status; id -u"]);
    expect(top).toMatch(/CapEff:\s+0000000000000000/);
    expect(top).toMatch(/NoNewPrivs:\s+1/);
    expect(top.trim().split("\n").at(-1)).toBe("1000");
  }, 240_000);

  it("chats with the real Claude Code CLI on node 2 and reads and writes its files", async () => {
    expect(await chat("Hello from the manager")).toContain('You said: "Hello from the manager"');
    const { caller, projectId } = fixture!;
    const written = await caller.files.write({ projectId, agentId, path: "/workspace/notes/swarm.md", content: "on node two\n", createDirs: true });
    expect(written.size).toBe(12);
    expect((await caller.files.read({ projectId, agentId, path: "/workspace/notes/swarm.md" })).content).toBe("on node two\n");
    // The file is in the agent's volume on node 2, not on the manager.
    const volumes = (await swarm!.worker.docker.listVolumes()).Volumes.map((v) => v.Name);
    expect(volumes).toContain(`armory-workspace-${agentId}`);
    expect((await swarm!.manager.docker.listVolumes()).Volumes.map((v) => v.Name)).not.toContain(`armory-workspace-${agentId}`);
  }, 180_000);

  it("stops (0 replicas), starts and restarts (a new task on the same node) the agent, its files kept", async () => {
    const { caller, projectId } = fixture!;
    const stopped = await caller.agent.stop({ projectId, agentId });
    expect(stopped.observedState).toBe("exited");
    expect((await swarm!.manager.docker.getService(serviceId).inspect()).Spec.Mode.Replicated.Replicas).toBe(0);
    expect((await tasksOf()).filter((t) => t.Status.State === "running")).toEqual([]);
    await caller.agent.start({ projectId, agentId });
    await vi.waitFor(async () => expect((await caller.agent.get({ projectId, agentId })).daemon.state).toBe("connected"), { timeout: 120_000, interval: 500 });
    const runningBefore = (await tasksOf()).filter((t) => t.Status.State === "running");
    expect(runningBefore.map((t) => t.NodeID)).toEqual([swarm!.worker.id]);
    await caller.agent.restart({ projectId, agentId });
    await vi.waitFor(
      async () => {
        const running = (await tasksOf()).filter((t) => t.Status.State === "running") as { ID?: string; NodeID: string }[];
        expect(running).toHaveLength(1);
        expect(running[0]!.NodeID).toBe(swarm!.worker.id);
        expect(running[0]!.ID).not.toBe((runningBefore[0] as { ID?: string }).ID);
        expect((await caller.agent.get({ projectId, agentId })).daemon.state).toBe("connected");
      },
      { timeout: 120_000, interval: 500 },
    );
    expect((await caller.files.read({ projectId, agentId, path: "/workspace/notes/swarm.md" })).content).toBe("on node two\n");
  }, 360_000);

  it("shows the agent unreachable while node 2's engine is down and recovers when it returns", async () => {
    const { caller, projectId } = fixture!;
    await swarm!.stopWorker();
    await vi.waitFor(
      async () => {
        const a = await caller.agent.get({ projectId, agentId });
        expect(a.daemon.state).toBe("disconnected");
        expect(a.observedState).toBe("unknown");
        expect(a.statusDetail).toMatch(/its node .* is down/);
      },
      { timeout: 90_000, interval: 500 },
    );
    await swarm!.startWorker();
    await vi.waitFor(
      async () => {
        const a = await caller.agent.get({ projectId, agentId });
        expect(a.observedState).toBe("running");
        expect(a.daemon.state).toBe("connected");
      },
      { timeout: 180_000, interval: 1000 },
    );
    // Its volume came back with the node: the file is still there, and chat works again.
    expect((await caller.files.read({ projectId, agentId, path: "/workspace/notes/swarm.md" })).content).toBe("on node two\n");
    expect(await chat("Back again")).toContain('You said: "Back again"');
  }, 400_000);

  it("version.update uses Swarm's rolling update, and Swarm rolls a broken image back by itself (health-gated on armoryd)", async () => {
    const { caller, projectId, armory } = fixture!;
    const before = (await swarm!.manager.docker.getService(serviceId).inspect()).Spec.TaskTemplate.ContainerSpec.Image as string;
    const image = (await caller.agent.get({ projectId, agentId })).image;
    await expect(caller.version.update({ projectId, agentId, image: BROKEN_IMAGE })).rejects.toThrow(/did not take over: Swarm rolled the update back/);
    const after = await swarm!.manager.docker.getService(serviceId).inspect();
    expect(after.UpdateStatus?.State).toBe("rollback_completed");
    expect(after.Spec.TaskTemplate.ContainerSpec.Image).toBe(before);
    // Armory kept the agent as it was: same service, same image.
    const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } });
    expect(row.containerId).toBe(serviceId);
    expect(row.image).toBe(image);
    await vi.waitFor(async () => expect((await caller.agent.get({ projectId, agentId })).daemon.state).toBe("connected"), { timeout: 120_000, interval: 1000 });
    expect(await chat("Still here")).toContain('You said: "Still here"');
  }, 420_000);

  it("lists both nodes with the agent on node 2 on the Nodes page; draining node 2 strands it (local volumes) until it is active again", async () => {
    const { caller, projectId } = fixture!;
    const list = await caller.node.list();
    expect(list.runtime).toBe("swarm");
    expect(list.nodes.map((n) => n.id).sort()).toEqual([swarm!.manager.id, swarm!.worker.id].sort());
    const worker = list.nodes.find((n) => n.id === swarm!.worker.id)!;
    expect(worker).toMatchObject({ role: "worker", state: "ready", availability: "active", labels: { armory: "agents" } });
    expect(worker.cpus).toBeGreaterThan(0);
    expect(worker.memoryBytes).toBeGreaterThan(0);
    expect(worker.agents.map((a) => a.agentId)).toEqual([agentId]);
    expect(worker.agents[0]!.cannotMove).toMatch(/volumes are local to this node/);
    expect(list.nodes.find((n) => n.id === swarm!.manager.id)!.agents).toEqual([]);

    const drained = await caller.node.drain({ nodeId: swarm!.worker.id });
    expect(drained.stranded.map((a) => a.agentId)).toEqual([agentId]);
    await vi.waitFor(async () => expect((await caller.agent.get({ projectId, agentId })).observedState).not.toBe("running"), { timeout: 60_000, interval: 500 });
    expect((await caller.node.list()).nodes.find((n) => n.id === swarm!.worker.id)!.availability).toBe("drain");
    await caller.node.activate({ nodeId: swarm!.worker.id });
    await vi.waitFor(
      async () => {
        const a = await caller.agent.get({ projectId, agentId });
        expect(a.observedState).toBe("running");
        expect(a.daemon.state).toBe("connected");
      },
      { timeout: 120_000, interval: 1000 },
    );
    await expect(caller.node.drain({ nodeId: "nosuchnode" })).rejects.toThrow(/There is no node nosuchnode/);
  }, 300_000);

  it("removes the agent: its service and its placement go", async () => {
    const { caller, projectId } = fixture!;
    const pins = async () => ((await swarm!.manager.docker.listConfigs()) as { Spec: { Labels?: Record<string, string> } }[]).filter((c) => c.Spec.Labels?.["dev.armory.agent-id"] === agentId);
    expect(await pins()).toHaveLength(1);
    await caller.agent.remove({ projectId, agentId, keepVolumes: false });
    expect((await swarm!.manager.docker.listServices()).map((s) => s.ID)).not.toContain(serviceId);
    expect(await pins()).toEqual([]);
  }, 120_000);
});

describe("two Armory instances on one PostgreSQL, agents on the Swarm", () => {
  const CLUSTER = { heartbeatMs: 500, expireMs: 4000, leaderPollMs: 250 };
  let target: TestDatabaseTarget | undefined;
  let model: DemoModelServer | undefined;
  let a: ProcessInstance | undefined;
  let b: Services | undefined;
  let owner: TestUser;
  let projectId = "";
  let agentId = "";

  beforeAll(async () => {
    // Node 2 has an SSD, node 1 does not: only a template's placement sends agents to node 2 here.
    await swarm!.cli("manager", ["node", "update", "--label-add", "disk=ssd", swarm!.worker.id]);
    target = await createTestDatabase("postgres");
    model = await startDemoModelServer();
    const env = {
      ARMORY_RUNTIME: "swarm",
      DOCKER_HOST: swarm!.dockerHost,
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: "sk-upstream-test-key-never-in-containers",
      ARMORY_GATEWAY_PORT: "0",
    };
    // A first: it takes the leadership.
    a = await startInstanceProcess(target.options.databaseUrl!, env);
    b = await createServices({
      config: testConfig({ ...env, DATABASE_URL: target.options.databaseUrl!, LOG_LEVEL: "warn" }),
      db: await openDatabase(target.options),
      log: createLogger({ level: "warn", format: "json" }),
      authSecret: TEST_AUTH_SECRET,
      cluster: CLUSTER,
    });
    b.startBackground();
    owner = await signUp(b, { name: "Two Instances Owner" });
    projectId = (await (await callerFor(b, owner)).project.create({ name: "Two instances" })).id;
  }, 240_000);

  afterAll(async () => {
    if (a?.child.exitCode === null) a.child.kill("SIGKILL");
    await b?.close().catch(() => {});
    await model?.close();
    await target?.drop();
  }, 120_000);

  /** Reads a session's stream on B until the run ends (every event, in order). */
  async function streamOnB(sessionId: string, afterSeq: number, runId: () => string): Promise<ChatStreamEvent[]> {
    const caller = await callerFor(b!, owner);
    const seen: ChatStreamEvent[] = [];
    const it = ((await caller.chat.stream({ projectId, agentId, sessionId, afterSeq })) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const guard = setTimeout(() => void it.return?.(), 150_000);
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) throw new Error(`B's stream ended early after ${JSON.stringify(seen.slice(-2)).slice(0, 1000)}`);
        const v = r.value as [string, ChatStreamEvent] | { id: string; data: ChatStreamEvent };
        const e = Array.isArray(v) ? v[1] : v.data;
        seen.push(e);
        if (e.runId === runId() && ["run_completed", "run_failed", "run_interrupted"].includes(e.type)) return seen;
      }
    } finally {
      clearTimeout(guard);
      await it.return?.();
    }
  }

  /** Subscribes to the session on A over HTTP (SSE); `started` resolves once A serves it, `ended` with every event until the run ends. */
  function streamOnA(sessionId: string, afterSeq: number, runId: () => string) {
    const seen: ChatStreamEvent[] = [];
    let onStarted!: () => void;
    const started = new Promise<void>((r) => (onStarted = r));
    const ended = new Promise<ChatStreamEvent[]>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`A's stream did not end; last: ${JSON.stringify(seen.slice(-2)).slice(0, 1000)}`)), 150_000);
      const sub = httpClient(a!.url, owner.cookie).chat.stream.subscribe(
        { projectId, agentId, sessionId, afterSeq },
        {
          onStarted,
          onData: (v) => {
            const e = (v as { data: ChatStreamEvent }).data;
            seen.push(e);
            if (e.runId === runId() && ["run_completed", "run_failed", "run_interrupted"].includes(e.type)) {
              clearTimeout(guard);
              sub.unsubscribe();
              resolve(seen);
            }
          },
          onError: (err) => {
            clearTimeout(guard);
            reject(err as Error);
          },
        },
      );
    });
    return { started, ended };
  }

  it("places the agent by its template's constraint on node 2; a constraint no node meets is refused naming the nodes' labels", async () => {
    const onA = httpClient(a!.url, owner.cookie);
    const caller = await callerFor(b!, owner);
    const coder = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!;
    await expect(caller.template.create({ projectId, copyFrom: coder.id, name: "bad-placement", placement: { constraints: ["disk=ssd"] } })).rejects.toThrow(
      /"disk=ssd" is not a Swarm placement constraint/,
    );
    const ssd = await caller.template.create({ projectId, copyFrom: coder.id, name: "ssd-coder", placement: { constraints: ["node.labels.disk == ssd"] } });
    expect(ssd.placement).toEqual({ constraints: ["node.labels.disk==ssd"] });
    const nvme = await caller.template.create({ projectId, copyFrom: coder.id, name: "nvme-coder", placement: { constraints: ["node.labels.disk==nvme"] } });
    // Created through A (its relay, its daemon): the placement fails before any service exists.
    const refused = await onA.agent.create.mutate({ projectId, templateId: nvme.id, name: "nowhere", overrides: { memoryMb: 512 }, start: true }).catch((e: unknown) => e as Error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as { data?: { code?: string } }).data?.code).toBe("PRECONDITION_FAILED");
    expect((refused as Error).message).toMatch(/No ready, active Swarm node satisfies node\.labels\.disk==nvme\. The nodes: .*labels .*disk=ssd/);
    expect(await b!.db.prisma.agent.count({ where: { projectId } })).toBe(0);

    const agent = await onA.agent.create.mutate({ projectId, templateId: ssd.id, name: "on-ssd", overrides: { memoryMb: 512 }, start: true });
    agentId = agent.id;
    const serviceId = (await b!.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    const service = await swarm!.manager.docker.getService(serviceId).inspect();
    expect(service.Spec.TaskTemplate.Placement.Constraints).toEqual([`node.id==${swarm!.worker.id}`, "node.labels.disk==ssd"]);
    // Its daemon dialled home to A (through the project's relay): B sees it connected, held by A.
    await vi.waitFor(async () => expect((await caller.agent.get({ projectId, agentId })).daemon.state).toBe("connected"), { timeout: 120_000, interval: 500 });
    expect(b!.hub.holds(agentId)).toBe(false);
    expect((await b!.cluster.view()).instances.find((i) => i.id === a!.self)?.daemons).toBe(1);
    const tasks = (await swarm!.manager.docker.listTasks({ filters: { service: [serviceId], "desired-state": ["running"] } })) as { NodeID: string }[];
    expect(tasks.map((t) => t.NodeID)).toEqual([swarm!.worker.id]);
  }, 240_000);

  it("chats through A while B streams the session with no gap or duplicate and the same text; A killed, B leads, the daemon comes to B and the next turn runs there", async () => {
    const onA = httpClient(a!.url, owner.cookie);
    const caller = await callerFor(b!, owner);
    // The first turn makes the session; B replays it from the start.
    const first = await onA.chat.send.mutate({ projectId, agentId, message: "Hello through A" });
    const firstOnB = await streamOnB(first.sessionId, 0, () => first.runId);
    expect(firstOnB.map((e) => e.seq)).toEqual(firstOnB.map((_, i) => i + 1));
    expect(streamedText(firstOnB)).toContain('You said: "Hello through A"');
    const after = firstOnB.at(-1)!.seq;

    // The second: both instances subscribed before it is sent (through A).
    let runId = "";
    const onB = streamOnB(first.sessionId, after, () => runId);
    const viaA = streamOnA(first.sessionId, after, () => runId);
    await viaA.started;
    runId = (await onA.chat.send.mutate({ projectId, agentId, sessionId: first.sessionId, message: "Second turn through A" })).runId;
    const [seenB, seenA] = await Promise.all([onB, viaA.ended]);
    const seqsB = seenB.map((e) => e.seq);
    expect(seqsB[0]).toBe(after + 1);
    expect(contiguous(seqsB)).toBe(true);
    expect(new Set(seqsB).size).toBe(seqsB.length);
    expect(seqsB).toEqual(seenA.map((e) => e.seq));
    expect(seenB.filter((e) => e.type === "run_completed")).toHaveLength(1);
    expect(streamedText(seenB)).toContain('You said: "Second turn through A"');
    expect(streamedText(seenB)).toBe(streamedText(seenA));

    // A crashes: B takes the leadership, points the relay at its own gateway, the daemon comes to B.
    const becameLeader = new Promise<number>((resolve) => {
      const off = b!.cluster.onLeadership((leader) => {
        if (!leader) return;
        off();
        resolve(Date.now());
      });
    });
    // A leads (it started first) and holds the daemon: its death is what B must take over.
    const before = await b!.cluster.view();
    if (before.leader !== a!.self) console.log(`A (${a!.self}) is not the leader before the kill: ${JSON.stringify(before)}\n${a!.output()}`);
    const killedAt = Date.now();
    a!.child.kill("SIGKILL");
    const leaderAfterMs = (await becameLeader) - killedAt;
    await vi.waitFor(() => expect(b!.hub.holds(agentId)).toBe(true), { timeout: 60_000, interval: 250 }).catch(async (err: unknown) => {
      // What the engines and the database say, to tell a relay, DNS or daemon problem apart.
      const relay = await swarm!.manager.docker.getContainer(relayContainerName(projectId)).inspect().catch((e: Error) => e.message);
      const row = await b!.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } });
      const [task] = await swarm!.worker.docker.listContainers({ filters: { label: [`dev.armory.agent-id=${agentId}`] } });
      const logs = task ? String(await swarm!.worker.docker.getContainer(task.Id).logs({ stdout: true, stderr: true, tail: 30 })) : "no task container";
      const serviceId = row.containerId!;
      const svc = await swarm!.manager.docker.getService(serviceId).inspect().catch((e: Error) => e.message);
      const tasks = await swarm!.manager.docker.listTasks({ filters: { service: [serviceId] } }).catch((e: Error) => e.message);
      const activity = await b!.db.prisma.agentActivity.findMany({ where: { agentId }, orderBy: { createdAt: "asc" } }).catch((e: Error) => e.message);
      console.log(JSON.stringify({ replicas: typeof svc === "string" ? svc : svc.Spec.Mode, tasks: typeof tasks === "string" ? tasks : (tasks as { Status: unknown; DesiredState: string; CreatedAt: string }[]).map((t) => ({ s: t.Status, d: t.DesiredState, c: t.CreatedAt })), detail: row.statusDetail, activity }, null, 1));
      console.log(JSON.stringify({ relay: typeof relay === "string" ? relay : { labels: relay.Config.Labels, state: relay.State.Status, created: relay.Created }, bTarget: await b!.gateway.relayTarget(), observed: row.observedState, daemon: (await caller.agent.get({ projectId, agentId })).daemon, logs }, null, 1));
      throw err;
    });
    const daemonAfterMs = Date.now() - killedAt;
    expect((await b!.cluster.view()).leader).toBe(b!.cluster.self);

    const third = await caller.chat.send({ projectId, agentId, sessionId: first.sessionId, message: "Now through B" });
    const seenThird = await streamOnB(first.sessionId, seqsB.at(-1)!, () => third.runId);
    expect(seenThird[0]!.seq).toBe(seqsB.at(-1)! + 1);
    expect(contiguous(seenThird.map((e) => e.seq))).toBe(true);
    expect(seenThird.at(-1)!.type).toBe("run_completed");
    expect(streamedText(seenThird)).toContain('You said: "Now through B"');
    console.log(`swarm cluster: B led ${leaderAfterMs} ms and held the agent's daemon ${daemonAfterMs} ms after A was killed`);

    await caller.agent.remove({ projectId, agentId, keepVolumes: false });
  }, 420_000);
});
