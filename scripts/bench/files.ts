// Bench section "files": agent files over the real API (HTTP + tRPC + superjson) against a real
// agent container, each figure beside the raw Docker call it is built on, measured in the same
// run: write+read of 1 MiB, listing a 10,000-entry directory, and change → agent-config-reloaded.
import { loadConfig } from "../../src/server/config";
import { openDatabase } from "../../src/server/db";
import { ensureAgentImage } from "../../src/server/runtime/docker/agent-image";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";
import { createLogger } from "../../src/server/logger";
import { createServices } from "../../src/server/services";
import { startHttp } from "../../tests/support/http-server";
import type { BenchSection } from "./sections";
import { sample, stats, type Stats } from "./stats";
import { signedUpClient } from "./client";

/** One warm-up call: these operations are slow and move real bytes. */
const measure = (n: number, fn: () => Promise<unknown>) => sample(n, fn, 1);




async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let bytes = 0;
  for await (const c of stream as AsyncIterable<Buffer>) bytes += c.length;
  return bytes;
}

const ms = (s: Stats) => `${s.p50.toFixed(0)} / ${s.p99.toFixed(0)} ms`;

export const filesBench: BenchSection = {
  name: "files",
  async run() {
    const docker = createDockerClient();
    await ensureAgentImage({ docker });
    const db = await openDatabase({ pgliteDir: "memory://" });
    const services = await createServices({
      config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_AGENT_IMAGE_AUTOBUILD: "false", ARMORY_SIGN_IN_RATE_LIMIT: "10000", ARMORY_SIGN_UP: "open" }),
      db,
      log: createLogger({ level: "silent", format: "json" }),
      authSecret: "bench-secret-bench-secret-bench-secret-0123",
    });
    services.startBackground();
    const http = await startHttp(() => services);
    let projectId = "";
    try {
      const { trpc } = await signedUpClient(http.url, `files-${Date.now()}@example.test`);
      projectId = (await trpc.project.create.mutate({ name: "Bench files" })).id;
      const template = (await trpc.template.list.query({ projectId })).find((t) => t.name === "claude-coder")!;
      const agent = await trpc.agent.create.mutate({ projectId, templateId: template.id, name: "bench-files", start: true });
      const ref = { projectId, agentId: agent.id };
      const row = await db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } });
      const container = docker.getContainer(row.containerId!);
      const exec = async (script: string) => {
        const e = await container.exec({ Cmd: ["bash", "-c", script], AttachStdout: true, AttachStderr: true });
        return drain(await e.start({}));
      };
      const RUNS = Number(process.env.BENCH_FILES_RUNS ?? 20);

      // 1. write + read 1 MiB (text), vs putArchive + getArchive of the same bytes.
      const content = "0123456789abcdef".repeat(65_536); // 1 MiB
      const armoryRw = stats(
        await measure(RUNS, async () => {
          await trpc.files.write.mutate({ ...ref, path: "/workspace/bench/1mib.txt", content, createDirs: true });
          const r = await trpc.files.read.query({ ...ref, path: "/workspace/bench/1mib.txt" });
          if (r.size !== content.length) throw new Error("read back a different size");
        }),
      );
      const tarPack = (await import("tar-stream")).default.pack();
      tarPack.entry({ name: "raw.txt", size: content.length, uid: 1000, gid: 1000, mode: 0o644 }, content);
      tarPack.finalize();
      const tarChunks: Buffer[] = [];
      for await (const c of tarPack) tarChunks.push(c as Buffer);
      const tarBuf = Buffer.concat(tarChunks);
      const rawRw = stats(
        await measure(RUNS, async () => {
          const res = await container.putArchive(tarBuf, { path: "/workspace/bench" });
          (res as unknown as NodeJS.ReadableStream | undefined)?.resume?.();
          await drain(await container.getArchive({ path: "/workspace/bench/raw.txt" }));
        }),
      );

      // 2. list 10,000 entries, vs a raw `docker exec ls -la`, and the archive route for comparison.
      await exec("mkdir -p /workspace/big && cd /workspace/big && seq -f 'f%05g.txt' 1 10000 | xargs touch");
      const armoryList = stats(
        await measure(RUNS, async () => {
          const r = await trpc.files.list.query({ ...ref, path: "/workspace/big" });
          if (r.entries.length !== 10_000) throw new Error(`listed ${r.entries.length}`);
        }),
      );
      const rawLs = stats(await measure(RUNS, () => exec("ls -la --time-style=full-iso /workspace/big")));
      const archiveList = stats(await measure(5, async () => drain(await container.getArchive({ path: "/workspace/big" }))));

      // 3. change (docker exec) → agent-config-reloaded received by Armory, one change per burst.
      await services.agentConfig.whenWatching(agent.id);
      const reloadSamples: number[] = [];
      const debounce: number[] = [];
      const transport: number[] = [];
      const RELOADS = Number(process.env.BENCH_FILES_RELOADS ?? 30);
      for (let i = 0; i < RELOADS; i++) {
        const got = new Promise<{ reportedAt: Date; changedAt: Date; receivedAt: Date }>((resolve) => {
          const off = services.agentConfig.onReload((e) => {
            if (e.agentId !== agent.id) return;
            off();
            resolve(e);
          });
        });
        const t = performance.now();
        await exec(`echo 'rule ${i}' > /workspace/CLAUDE.md`);
        const e = await got;
        reloadSamples.push(performance.now() - t);
        debounce.push(e.reportedAt.getTime() - e.changedAt.getTime());
        transport.push(e.receivedAt.getTime() - e.reportedAt.getTime());
      }
      const reload = stats(reloadSamples);

      const report = {
        writeRead1MiB: { armory: armoryRw, rawPutGetArchive: rawRw, ratio: Math.round((armoryRw.p50 / rawRw.p50) * 100) / 100 },
        list10000: { armory: armoryList, rawExecLs: rawLs, archiveOfDirectory: archiveList, ratio: Math.round((armoryList.p50 / rawLs.p50) * 100) / 100 },
        changeToReloadEvent: { total: reload, supervisorDebounce: stats(debounce), logFollowToArmory: stats(transport), goal: "p99 < 1000 ms" },
      };
      const rows = [
        { measure: "files.write+read 1 MiB", "p50 / p99": ms(armoryRw), baseline: `put+getArchive ${rawRw.p50.toFixed(0)} ms`, "ratio/goal": `${report.writeRead1MiB.ratio}x` },
        { measure: "files.list 10,000 entries", "p50 / p99": ms(armoryList), baseline: `exec ls -la ${rawLs.p50.toFixed(0)} ms (archive ${archiveList.p50.toFixed(0)} ms)`, "ratio/goal": `${report.list10000.ratio}x` },
        { measure: "change → agent-config-reloaded", "p50 / p99": ms(reload), baseline: `debounce ${stats(debounce).p50.toFixed(0)} ms, log follow ${stats(transport).p50.toFixed(0)} ms`, "ratio/goal": "p99 < 1000 ms" },
      ];
      return { report, rows };
    } finally {
      await http.close();
      await services.close();
      if (projectId) {
        const filters = { label: [`${LABELS.projectId}=${projectId}`] };
        for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
        for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
      }
    }
  },
};
