// Bench section "armoryd": the agent daemon's memory per idle agent, for 1 and for N idle agents
// (BENCH_ARMORYD_AGENTS, default 5) in one project:
//  - the daemon's own figure: the rssBytes of its self-report (hub.info(agentId).report, sent
//    with every heartbeat), read from a heartbeat that came after the agent was idle a few seconds;
//  - /proc/<armoryd>/smaps_rollup read through an exec'd `cat` as the agent user: its private part
//    (Private_Clean + Private_Dirty) is what each further agent costs when the executable's pages
//    are shared by every container made from the image, and Pss is its fair share of those;
//  - for comparison, the container's memory from the engine's stats (usage without the
//    reclaimable page cache, as `docker stats` shows it, and the cgroup's anonymous rss).
import { AGENT_UID } from "../../src/server/runtime/docker/containers";
import { toResourceSample, type RawDockerStats } from "../../src/server/runtime/docker/stats";
import { runExec } from "../../tests/support/agent-exec";
import { removeProjectDockerObjects } from "../../tests/support/docker";
import type { BenchGoal, BenchSection } from "./sections";
import { signedUpClient, startBenchArmory } from "./client";

const MB = 1e6;
const MiB = 2 ** 20;
/** How long an agent has been up (by its daemon's own uptime) before its report counts as idle. */
const IDLE_MS = 8_000;

const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

interface AgentMemory {
  agentId: string;
  /** armoryd's self-reported resident set. */
  selfReportRss: number;
  uptimeMs: number;
  /** kB figures of /proc/<armoryd>/smaps_rollup, in bytes (null when it could not be read). */
  smaps: { rss: number; pss: number; privateBytes: number; sharedBytes: number; anonymous: number } | null;
  /** The engine's figure for the whole container (without reclaimable cache), and the cgroup's anonymous rss. */
  containerUsage: number;
  containerAnonRss: number | null;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export const armorydBench: BenchSection = {
  name: "armoryd",
  async run() {
    const { docker, db, services, http } = await startBenchArmory();
    let projectId = "";
    try {
      const { trpc } = await signedUpClient(http.url, `armoryd-${Date.now()}@example.test`);
      projectId = (await trpc.project.create.mutate({ name: "Bench armoryd" })).id;
      const template = (await trpc.template.list.query({ projectId })).find((t) => t.name === "claude-coder")!;
      const N = Number(process.env.BENCH_ARMORYD_AGENTS ?? 5);

      /** The next self-report that arrives after the daemon has been up IDLE_MS (polled: reports come with heartbeats). */
      const idleReport = async (agentId: string) => {
        await services.hub.waitFor(agentId, { timeoutMs: 60_000 });
        const deadline = Date.now() + 60_000;
        for (;;) {
          const r = services.hub.info(agentId)?.report;
          if (r && r.uptimeMs >= IDLE_MS && r.processes === 0 && r.terminals === 0) return r;
          if (Date.now() > deadline) throw new Error(`no idle self-report from agent ${agentId}'s daemon`);
          await new Promise((res) => setTimeout(res, 250));
        }
      };
      const measure = async (agentId: string): Promise<AgentMemory> => {
        const report = await idleReport(agentId);
        const containerId = (await db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
        const smapsOut = await runExec(docker, containerId, {
          cmd: ["bash", "-c", "cat /proc/$(pgrep -x armoryd | head -1)/smaps_rollup"],
          user: `${AGENT_UID}:${AGENT_UID}`,
        });
        let smaps: AgentMemory["smaps"] = null;
        if (smapsOut.exitCode === 0) {
          const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(smapsOut.stdout)?.[1] ?? NaN) * 1024;
          smaps = {
            rss: kb("Rss"),
            pss: kb("Pss"),
            privateBytes: kb("Private_Clean") + kb("Private_Dirty"),
            sharedBytes: kb("Shared_Clean") + kb("Shared_Dirty"),
            anonymous: kb("Anonymous"),
          };
        }
        const raw = (await docker.getContainer(containerId).stats({ stream: false })) as unknown as RawDockerStats & { memory_stats?: { stats?: Record<string, number> } };
        const sample = toResourceSample(raw);
        const anon = raw.memory_stats?.stats?.total_rss ?? raw.memory_stats?.stats?.anon ?? null;
        return { agentId, selfReportRss: report.rssBytes, uptimeMs: report.uptimeMs, smaps, containerUsage: Math.round(sample.memoryUsageMB * MiB), containerAnonRss: anon };
      };

      const create = async (i: number) => (await trpc.agent.create.mutate({ projectId, templateId: template.id, name: `bench-armoryd-${i}`, start: true })).id;
      const first = await create(0);
      const one = await measure(first);
      const ids = [first];
      for (let i = 1; i < N; i++) ids.push(await create(i));
      // Every agent idle at once: measured after all N are up.
      const many: AgentMemory[] = [];
      for (const id of ids) many.push(await measure(id));

      const summarize = (xs: AgentMemory[]) => ({
        agents: xs.length,
        selfReportRssMB: { mean: mb(mean(xs.map((x) => x.selfReportRss))), max: mb(Math.max(...xs.map((x) => x.selfReportRss))) },
        smapsPrivateMB: xs.every((x) => x.smaps) ? { mean: mb(mean(xs.map((x) => x.smaps!.privateBytes))), max: mb(Math.max(...xs.map((x) => x.smaps!.privateBytes))) } : null,
        smapsPssMB: xs.every((x) => x.smaps) ? { mean: mb(mean(xs.map((x) => x.smaps!.pss))) } : null,
        smapsSharedMB: xs.every((x) => x.smaps) ? { mean: mb(mean(xs.map((x) => x.smaps!.sharedBytes))) } : null,
        containerUsageMB: { mean: mb(mean(xs.map((x) => x.containerUsage))), total: mb(xs.reduce((a, x) => a + x.containerUsage, 0)) },
        containerAnonRssMB: xs.every((x) => x.containerAnonRss !== null) ? { mean: mb(mean(xs.map((x) => x.containerAnonRss!))) } : null,
      });
      const s1 = summarize([one]);
      const sN = summarize(many);
      const goals: BenchGoal[] = [
        { name: `armoryd RSS per idle agent (self-report, mean of ${N})`, value: sN.selfReportRssMB.mean, unit: "MB", goal: "< 30 MB", met: sN.selfReportRssMB.mean < 30 },
      ];
      const report = { idleAfterMs: IDLE_MS, oneAgent: s1, nAgents: sN, perAgent: many.map((m) => ({ ...m, smaps: m.smaps && Object.fromEntries(Object.entries(m.smaps).map(([k, v]) => [k, mb(v)])) })), unit: "MB (10^6 bytes)" };
      const f = (x: { mean: number } | null) => (x ? `${x.mean} MB` : "n/a");
      const rows = [
        { measure: "armoryd RSS, 1 idle agent (self-report)", value: `${s1.selfReportRssMB.mean} MB`, "smaps private / Pss": `${f(s1.smapsPrivateMB)} / ${f(s1.smapsPssMB)}`, "container (engine stats)": `${s1.containerUsageMB.mean} MB (anon rss ${f(s1.containerAnonRssMB)})`, goal: "< 30 MB" },
        { measure: `armoryd RSS, ${N} idle agents (self-report, mean)`, value: `${sN.selfReportRssMB.mean} MB (max ${sN.selfReportRssMB.max})`, "smaps private / Pss": `${f(sN.smapsPrivateMB)} / ${f(sN.smapsPssMB)}`, "container (engine stats)": `${sN.containerUsageMB.mean} MB each, ${sN.containerUsageMB.total} MB total`, goal: "< 30 MB" },
      ];
      return { report, rows, goals };
    } finally {
      await http.close();
      await services.close();
      await removeProjectDockerObjects(projectId);
    }
  },
};
