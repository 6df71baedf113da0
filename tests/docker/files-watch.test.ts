// files.onChange({ paths }) against a real agent container: armoryd watches the directories
// (fs.watch through a no-follow descriptor), so a file the agent writes or deletes reaches the
// subscriber within a second; only the directories asked for; a change made through Armory is
// not reported twice; paths are checked like files.list (403 outside the roots, also through a
// link; a grant's file globs through the same guard); one daemon watch per directory however many subscribers, stopped with the last one
// (the daemon's self-report says how many it holds); a vanished directory ends its watch; watches
// survive a cut connection and are sent again to a restarted daemon.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentFileChangedEvent } from "@/server/files/service";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { sh } from "../support/agent-exec";
import { docker, nextMatching, removeProjectDockerObjects } from "../support/docker";
import { expectTrpcError } from "../support/trpc-errors";

type Caller = Awaited<ReturnType<typeof callerFor>>;
type Changes = AsyncIterator<AgentFileChangedEvent>;

describe("files.onChange with watched directories on a real agent container", () => {
  let armory: TestArmory;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  let containerId: string;
  let ref: { projectId: string; agentId: string };
  const open: Changes[] = [];

  async function subscribe(c: Caller, paths?: string[]): Promise<Changes> {
    const iterable = (await c.files.onChange({ ...ref, ...(paths ? { paths } : {}) })) as AsyncIterable<AgentFileChangedEvent>;
    const it = iterable[Symbol.asyncIterator]();
    open.push(it);
    return it;
  }

  /** Directory watches the agent's daemon holds, by its last self-report (a heartbeat every 5 s). */
  const daemonWatches = () => armory.services.hub.info(agentId)?.report?.watches;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("pglite"));
    const owner = await signUp(armory.services, { name: "Watch Owner" });
    caller = await callerFor(armory.services, owner);
    projectId = (await caller.project.create({ name: "Watch" })).id;
    const templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    agentId = (await caller.agent.create({ projectId, templateId, name: "watched-files", start: true })).id;
    ref = { projectId, agentId };
    containerId = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    await sh(containerId, "mkdir -p /workspace/w /workspace/other /workspace/public /workspace/private && ln -sfn /workspace/private /workspace/public/up");
  }, 600_000);

  afterAll(async () => {
    for (const it of open) await it.return?.();
    await removeProjectDockerObjects(projectId);
    await armory?.close();
  });

  // Each wait below has a bound a loaded CI machine cannot miss (5 s); the latency itself is the
  // bench's to measure (files section).
  it("a file the agent writes, appends to and deletes reaches the subscriber; other directories do not", async () => {
    const it = await subscribe(caller, ["/workspace/w"]);
    expect(armory.services.files.watches.count(agentId)).toBe(1);

    const written = nextMatching(it, () => true, 5000);
    await sh(containerId, "echo hello > /workspace/w/new.txt");
    const w = await written;
    expect(w).toMatchObject({ type: "agent-file-changed", ...ref, path: "/workspace/w/new.txt", change: "written", source: "container" });

    // A change elsewhere is not this subscriber's: the next event is the marker's.
    await sh(containerId, "echo x > /workspace/other/a.txt; echo y > /workspace/outside.txt; echo m > /workspace/w/marker.txt");
    expect(await nextMatching(it, () => true, 5000)).toMatchObject({ path: "/workspace/w/marker.txt", change: "written" });

    const deleted = nextMatching(it, () => true, 5000);
    await sh(containerId, "rm /workspace/w/new.txt");
    expect(await deleted).toMatchObject({ path: "/workspace/w/new.txt", change: "deleted", source: "container" });

    // A burst of writes is one report per file, not one per write.
    await sh(containerId, "for i in $(seq 1 30); do echo $i >> /workspace/w/log.txt; done; echo m2 > /workspace/w/marker2.txt");
    const burst = [await nextMatching(it, () => true, 5000), await nextMatching(it, () => true, 5000)];
    expect(burst.map((e) => e.path).sort()).toEqual(["/workspace/w/log.txt", "/workspace/w/marker2.txt"]);

    await expect.poll(daemonWatches, { timeout: 12_000, interval: 250 }).toBe(1);
  });

  it("reports a change made through Armory once to a subscriber of its directory (not again when the watch sees it)", async () => {
    const it = await subscribe(caller, ["/workspace/w"]);
    const first = nextMatching(it, () => true, 5000);
    const res = await caller.files.write({ ...ref, path: "/workspace/w/through-armory.txt", content: "a" });
    expect(await first).toMatchObject({ path: "/workspace/w/through-armory.txt", change: "written", source: "armory", sha256: res.sha256 });
    await caller.files.delete({ ...ref, path: "/workspace/w/through-armory.txt" });
    expect(await nextMatching(it, () => true, 5000)).toMatchObject({ path: "/workspace/w/through-armory.txt", change: "deleted", source: "armory" });
    // Then the agent writes a marker: it is the next event (the watch's report of the above, in the
    // same burst or an earlier one, comes first if it were passed on).
    await sh(containerId, "echo m > /workspace/w/marker3.txt");
    expect(await nextMatching(it, () => true, 5000)).toMatchObject({ path: "/workspace/w/marker3.txt", source: "container" });
    await it.return?.();
  });

  it("without paths behaves as before: changes made through Armory only, no directory watched", async () => {
    const before = armory.services.files.watches.count(agentId);
    const it = await subscribe(caller);
    expect(armory.services.files.watches.count(agentId)).toBe(before);
    const next = nextMatching(it, () => true, 5000);
    await sh(containerId, "echo not-reported > /workspace/w/agent-only.txt");
    await caller.files.write({ ...ref, path: "/workspace/other/reported.txt", content: "r" });
    expect(await next).toMatchObject({ path: "/workspace/other/reported.txt", source: "armory" });
    await it.return?.();
  });

  it("checks every path like files.list: outside the roots (also through a link), not a directory, missing, too many", async () => {
    await expectTrpcError(caller.files.onChange({ ...ref, paths: ["/etc"] }), "FORBIDDEN", /outside the agent's files/);
    await expectTrpcError(caller.files.onChange({ ...ref, paths: ["/workspace/w", "/workspace/../etc"] }), "BAD_REQUEST");
    await sh(containerId, "echo f > /workspace/w/file.txt");
    await expectTrpcError(caller.files.onChange({ ...ref, paths: ["/workspace/w/file.txt"] }), "BAD_REQUEST", /not a directory/);
    await expectTrpcError(caller.files.onChange({ ...ref, paths: ["/workspace/nope"] }), "NOT_FOUND");
    await expectTrpcError(caller.files.onChange({ ...ref, paths: Array.from({ length: 33 }, (_, i) => `/workspace/d${i}`) }), "BAD_REQUEST", /at most 32/);

    // A link inside the roots that leads out of them is refused as files.list refuses it.
    await sh(containerId, "ln -sfn /etc /workspace/etc-link");
    await expectTrpcError(caller.files.list({ ...ref, path: "/workspace/etc-link" }), "FORBIDDEN");
    const held = armory.services.files.watches.count(agentId);
    await expectTrpcError(caller.files.onChange({ ...ref, paths: ["/workspace/etc-link"] }), "FORBIDDEN");
    // A refused list holds nothing, even when an allowed directory came first.
    await expectTrpcError(caller.files.onChange({ ...ref, paths: ["/workspace/other", "/workspace/etc-link"] }), "FORBIDDEN");
    expect(armory.services.files.watches.count(agentId)).toBe(held);
    // A link to a directory inside the roots is watched where it leads, reported under the path asked for.
    const it = await subscribe(caller, ["/workspace/public/up"]);
    const next = nextMatching(it, () => true, 5000);
    await sh(containerId, "echo p > /workspace/private/p.txt");
    expect(await next).toMatchObject({ path: "/workspace/public/up/p.txt", change: "written", source: "container" });
    await it.return?.();
  });

  it("holds one daemon watch per directory for any number of subscribers, and stops it with the last one", async () => {
    for (const it of open.splice(0)) await it.return?.();
    expect(armory.services.files.watches.count(agentId)).toBe(0);
    await expect.poll(daemonWatches, { timeout: 12_000, interval: 250 }).toBe(0);

    const a = await subscribe(caller, ["/workspace/w", "/workspace/other"]);
    const b = await subscribe(caller, ["/workspace/w"]);
    expect(armory.services.files.watches.count(agentId)).toBe(2);
    await expect.poll(daemonWatches, { timeout: 12_000, interval: 250 }).toBe(2);
    const toA = nextMatching(a, () => true, 5000);
    const toB = nextMatching(b, () => true, 5000);
    await sh(containerId, "echo both > /workspace/w/both.txt");
    expect((await toA).path).toBe("/workspace/w/both.txt");
    expect((await toB).path).toBe("/workspace/w/both.txt");

    await a.return?.();
    expect(armory.services.files.watches.count(agentId)).toBe(1);
    const stillB = nextMatching(b, () => true, 5000);
    await sh(containerId, "echo b > /workspace/w/b-only.txt");
    expect((await stillB).path).toBe("/workspace/w/b-only.txt");
    await b.return?.();
    expect(armory.services.files.watches.count(agentId)).toBe(0);
    await expect.poll(daemonWatches, { timeout: 12_000, interval: 250 }).toBe(0);
  });

  it("keeps watching across a cut connection (the same daemon reconnects)", async () => {
    const it = await subscribe(caller, ["/workspace/w"]);
    const daemonId = armory.services.hub.info(agentId)!.daemonId;
    expect(armory.services.hub.disconnect(agentId)).toBe(true);
    await expect.poll(() => armory.services.hub.state(agentId), { timeout: 15_000, interval: 100 }).toBe("connected");
    expect(armory.services.hub.info(agentId)!.daemonId).toBe(daemonId);
    const next = nextMatching(it, () => true, 5000);
    await sh(containerId, "echo again > /workspace/w/after-reconnect.txt");
    expect(await next).toMatchObject({ path: "/workspace/w/after-reconnect.txt", change: "written" });
    await it.return?.();
  });

  it("sends its watches again to a new daemon (the container restarted)", async () => {
    const it = await subscribe(caller, ["/workspace/w"]);
    const before = armory.services.hub.info(agentId)!.daemonId;
    await caller.agent.restart(ref);
    await expect.poll(() => armory.services.hub.info(agentId)?.state === "connected" && armory.services.hub.info(agentId)?.daemonId !== before, { timeout: 60_000, interval: 200 }).toBe(true);
    // The new daemon holds the watch again (Armory re-sent it when the daemon said hello).
    await expect.poll(daemonWatches, { timeout: 12_000, interval: 250 }).toBe(1);
    const next = nextMatching(it, () => true, 5000);
    await sh(containerId, "echo restarted > /workspace/w/after-restart.txt");
    expect(await next).toMatchObject({ path: "/workspace/w/after-restart.txt", change: "written", source: "container" });
    await it.return?.();
    await expect.poll(daemonWatches, { timeout: 12_000, interval: 250 }).toBe(0);
  });

  it("ends a watch whose directory vanishes with one last event naming it deleted", async () => {
    await sh(containerId, "mkdir -p /workspace/doomed");
    const it = await subscribe(caller, ["/workspace/doomed"]);
    await expect.poll(daemonWatches, { timeout: 12_000, interval: 250 }).toBe(1);
    const gone = nextMatching(it, (e) => e.path === "/workspace/doomed", 5000);
    await sh(containerId, "rmdir /workspace/doomed");
    expect(await gone).toMatchObject({ path: "/workspace/doomed", change: "deleted", source: "container" });
    expect(armory.services.files.watches.count(agentId)).toBe(0);
    await expect.poll(daemonWatches, { timeout: 12_000, interval: 250 }).toBe(0);
    await it.return?.();
  });
});
