// Bench section "versions": a rolling re-create (env.patch: new container beside the old one,
// health-gated switch) against the manager's stop + re-create (agent.update then restart), both
// until the agent answers its health probe. The figure that matters is the downtime: with the
// rolling path only the switch (stop old, record new), with stop + re-create the whole re-create.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/server/config";
import { openDatabase } from "../../src/server/db";
import { ensureAgentImage } from "../../src/server/runtime/docker/agent-image";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { daemonHealth } from "../../src/server/agentd/health";
import type { DaemonHub } from "../../src/server/agentd/hub";
import { getTemplate } from "../../src/server/domain/templates";
import { createLogger } from "../../src/server/logger";
import { createServices } from "../../src/server/services";
import type { BenchSection } from "./sections";

const N = Number(process.env.BENCH_VERSION_ITERATIONS ?? 6);

/**
 * Until the daemon in `containerId` is connected and healthy (its first self-report comes with the
 * first heartbeat, just after it connects): polled, as the rollout's own health gate does.
 */
async function untilHealthy(hub: DaemonHub, agentId: string, containerId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await hub.waitFor(agentId, { timeoutMs, containerId });
  for (;;) {
    const h = daemonHealth(hub, agentId, containerId);
    if (h.ok) return;
    if (Date.now() > deadline) throw new Error(`agent not healthy within ${timeoutMs} ms: ${h.message}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)] ?? 0);
}


export const versionsBench: BenchSection = {
  name: "versions",
  async run() {
    const docker = createDockerClient();
    await ensureAgentImage({ docker });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-bench-versions-"));
    const config = loadConfig({ ARMORY_DATA_DIR: dir, ARMORY_SIGN_UP: "open", ARMORY_AGENT_IMAGE_AUTOBUILD: "false", LOG_LEVEL: "warn", ARMORY_AGENT_NETWORK: `armory-bench-versions-${process.pid}` });
    const services = await createServices({
      config,
      db: await openDatabase({ pgliteDir: path.join(dir, "pglite") }),
      log: createLogger({ level: "warn", format: "json", destination: fs.createWriteStream("/dev/null") }),
      authSecret: "bench-secret-bench-secret-bench-secret-0123",
    });
    const prisma = services.db.prisma;
    const project = await prisma.project.create({ data: { name: "bench-versions" } });
    try {
      const coder = await prisma.template.findFirstOrThrow({ where: { name: "claude-coder", projectId: null } });
      const template = await getTemplate(prisma, project.id, coder.id);
      const agent = await services.agents.create({ projectId: project.id, userId: null, name: "bench-versions", template, start: true });
      const actor = { userId: null, name: "bench" };
      const rolling: number[] = [];
      const rollingDown: number[] = [];
      const recreate: number[] = [];
      for (let i = 0; i < N; i++) {
        const t0 = performance.now();
        const u = await services.rollouts.patchEnv({ projectId: project.id, agentId: agent.id, patch: { set: { BENCH_ITER: `r${i}` }, unset: [] }, actor });
        rolling.push(performance.now() - t0);
        const sw = u.steps.find((s) => s.step === "switching")!.at.getTime();
        const done = u.steps.find((s) => s.step === "done")!.at.getTime();
        rollingDown.push(done - sw);

        const t1 = performance.now();
        await services.agents.update(project.id, agent.id, { env: { BENCH_ITER: `s${i}` } });
        await services.agents.restart(project.id, agent.id);
        const row = await prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
        await untilHealthy(services.hub, agent.id, row.containerId!, 60_000);
        recreate.push(performance.now() - t1);
      }
      await services.agents.remove(project.id, agent.id, false);
      const report = {
        iterations: N,
        rollingTotalMsP50: p50(rolling),
        rollingDowntimeMsP50: p50(rollingDown),
        stopRecreateUntilHealthyMsP50: p50(recreate),
        downtimeRatio: Math.round((p50(rollingDown) / Math.max(1, p50(recreate))) * 1000) / 1000,
      };
      return {
        report,
        rows: [
          { measure: "env change, rolling re-create (health-gated), total", "p50 / p99": `${report.rollingTotalMsP50} ms`, baseline: `stop + re-create until healthy ${report.stopRecreateUntilHealthyMsP50} ms`, "ratio/goal": `${Math.round((report.rollingTotalMsP50 / Math.max(1, report.stopRecreateUntilHealthyMsP50)) * 100) / 100}x` },
          { measure: "env change, rolling re-create, downtime (switch)", "p50 / p99": `${report.rollingDowntimeMsP50} ms`, baseline: `stop + re-create downtime ${report.stopRecreateUntilHealthyMsP50} ms`, "ratio/goal": `${report.downtimeRatio}x` },
        ],
      };
    } finally {
      const filters = { label: [`dev.armory.project-id=${project.id}`] };
      for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
      for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
      await docker.getNetwork(config.agentNetwork).remove().catch(() => {});
      await services.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
