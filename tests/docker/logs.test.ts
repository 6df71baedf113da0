// Agent logs against the real Docker engine: tail returns exactly N lines with their stream and
// time; follow delivers new lines within a second and keeps going across a restart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLineView } from "@/server/api/routers/logs/schemas";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { callerFor, signUp, startTestArmory, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { docker, nextMatching, removeProjectDockerObjects } from "../support/docker";
import { writeContainerLog as writeLog } from "../support/agent-exec";

type Caller = Awaited<ReturnType<typeof callerFor>>;

describe("agent logs on a real Docker engine", () => {
  let armory: TestArmory;
  let caller: Caller;
  let projectId: string;
  let agentId: string;
  let cid: string;
  /** Lines armoryd wrote before the test's own. */
  let daemonLines = 0;

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("postgres"));
    armory.services.startBackground();
    caller = await callerFor(armory.services, await signUp(armory.services, { name: "Log Reader" }));
    projectId = (await caller.project.create({ name: "Logs" })).id;
    const templateId = (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    // An empty workspace: no template CLAUDE.md written at the first start, whose change the watcher
    // could report (or not) while this test runs. files-manage.test.ts proves that write.
    await armory.services.db.prisma.template.update({ where: { id: templateId }, data: { instructions: "" } });
    agentId = (await caller.agent.create({ projectId, templateId, name: "chatty", overrides: { memoryMb: 128 }, start: true })).id;
    cid = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
    // armoryd logs its start and its connection: wait until it is connected and watching, so the
    // test's own lines are the last ones.
    await armory.services.hub.waitFor(agentId, { timeoutMs: 60_000, containerId: cid });
    await armory.services.agentConfig.whenWatching(agentId);
    daemonLines = (await caller.logs.tail({ projectId, agentId, lines: 5000 })).lines.length;
    // stdout and stderr are separate pipes (their interleaving within one moment is not defined):
    // all of stdout first, then all of stderr.
    await writeLog(cid, 'for i in $(seq 1 30); do echo "out-$i"; done');
    await writeLog(cid, 'for i in $(seq 1 30); do echo "err-$i" >&2; done');
  }, 600_000);

  afterAll(async () => {
    // Armory first: its self-heal must not see the clean-up's kills.
    await armory?.close();
    await removeProjectDockerObjects(projectId);
  });

  it("tails exactly N lines, in order, each with its stream and timestamp", async () => {
    const { lines } = await caller.logs.tail({ projectId, agentId, lines: 10 });
    expect(lines.map((l) => l.message)).toEqual(Array.from({ length: 10 }, (_, i) => `err-${21 + i}`));
    expect(new Set(lines.map((l) => l.stream))).toEqual(new Set(["stderr"]));

    const mixed = (await caller.logs.tail({ projectId, agentId, lines: 35 })).lines;
    expect(mixed).toHaveLength(35);
    expect(mixed.slice(0, 5).map((l) => l.message)).toEqual(["out-26", "out-27", "out-28", "out-29", "out-30"]);
    for (const l of mixed) {
      expect(l.stream).toBe(l.message.startsWith("err-") ? "stderr" : "stdout");
      expect(l.timestamp).toBeInstanceOf(Date);
      expect(Date.now() - l.timestamp.getTime()).toBeLessThan(120_000);
    }
    const times = mixed.map((l) => l.timestamp.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const one = await caller.logs.tail({ projectId, agentId, lines: 1 });
    expect(one.lines).toEqual([expect.objectContaining({ message: "err-30", stream: "stderr" })]);
    // Fewer lines than asked only when the log is shorter: 60 written plus armoryd's own
    // (its start, then its connection).
    const all = await caller.logs.tail({ projectId, agentId, lines: 5000 });
    expect(daemonLines).toBeGreaterThanOrEqual(2);
    expect(all.lines).toHaveLength(daemonLines + 60);
    expect(all.lines[0]!.message).toContain("armoryd: starting");
    expect(all.lines.slice(0, daemonLines).some((l) => l.message.includes("armoryd: connected"))).toBe(true);
  });

  it("follows new lines live, and keeps following across a restart", async () => {
    const iterable = (await caller.logs.follow({ projectId, agentId, tail: 2 })) as AsyncIterable<LogLineView>;
    const lines = iterable[Symbol.asyncIterator]();
    const seen: string[] = [];
    const take = async (pred: (l: LogLineView) => boolean, limitMs?: number) => {
      return nextMatching(
        lines,
        (x) => {
          seen.push(x.message);
          return pred(x);
        },
        limitMs,
      );
    };
    expect((await take(() => true)).message).toBe("err-29");
    expect((await take(() => true)).message).toBe("err-30");

    // Live, not polled: each line must arrive within the wait's bound (5 s, which a loaded CI
    // machine cannot miss; the follow's own latency is the bench's to measure).
    void writeLog(cid, "echo live-1");
    await take((l) => l.message === "live-1", 5000);

    await caller.agent.restart({ projectId, agentId });
    // armoryd's start line of the new start, then a line written after the restart.
    await take((l) => l.message.includes("armoryd: starting"), 15_000);
    void writeLog(cid, "echo after-restart >&2");
    const after = await take((l) => l.message === "after-restart", 5000);
    expect(after.stream).toBe("stderr");
    await lines.return?.();

    // Nothing was delivered twice.
    expect(seen.filter((m) => m === "live-1")).toHaveLength(1);
    expect(new Set(seen).size).toBe(seen.length);
  }, 60_000);
});
